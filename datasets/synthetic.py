"""Seeded synthetic screens with known targets, for training smoke tests and learning proofs.

Every sample is a pure function of ``(seed, index, task, size)``: the same arguments give the same pixels.

Tasks:
- ``localise``: one clickable target (a filled, bordered button) among non-clickable distractors (outlined
  boxes, lines, dots); goal "click the button". Chance = target area / screen area. Two curriculum knobs make
  it easier: ``distractors=(lo, hi)`` (default 2-5) and ``target_scale`` (the button's size factor, default 1).
- ``attribute``: 3-6 buttons of distinct colours; goal "click the <colour> button" (attribute binding); the
  ``buttons=(lo, hi)`` knob sets how many (2 makes the random-button baseline 50%).
- ``labelled``: buttons carrying words; goal "click <word>" (phone and desktop sizes).

Sizes: ``phone`` 1080x2400, ``desktop`` 1920x1080, ``small`` 224x224 (fast, for tiny models). Targets are
``Click`` actions at the button centre, with the button's ``bbox`` (device px).
"""

from __future__ import annotations

import random
from typing import Any, Iterator

from cua.actions import Click
from cua.datasets.base import LoadStats, register_loader, to_hf
from cua.datasets.schema import Sample
from cua.errors import ConfigError

SIZES = {"phone": (1080, 2400), "desktop": (1920, 1080), "small": (224, 224)}
TASKS = ("localise", "attribute", "labelled")
COLOURS = {"red": (220, 40, 40), "green": (40, 170, 60), "blue": (40, 80, 220), "yellow": (235, 200, 30),
           "purple": (140, 60, 180), "orange": (245, 130, 20)}
WORDS = ("Settings", "Search", "Cancel", "Send", "Share", "Delete", "Save", "Open", "Next", "Back", "Play", "Menu")
SOURCE = "synthetic"


def _boxes(rng: random.Random, n: int, width: int, height: int, first_scale: float = 1.0) -> list[list[int]]:
    """``n`` non-overlapping boxes (x1, y1, x2, y2) sized relative to the screen; the first scaled by ``first_scale``."""
    out: list[list[int]] = []
    bw, bh = max(16, width // 5), max(12, height // (12 if height > width else 7))
    for _ in range(200 * n):
        if len(out) == n:
            break
        w, h = rng.randint(bw * 3 // 4, bw * 5 // 4), rng.randint(bh * 3 // 4, bh * 5 // 4)
        if not out and first_scale != 1.0:
            w, h = min(width - 2, int(w * first_scale)), min(height - 2, int(h * first_scale))
        x, y = rng.randint(0, width - w - 1), rng.randint(0, height - h - 1)
        box = [x, y, x + w, y + h]
        if all(box[2] + 4 < b[0] or b[2] + 4 < box[0] or box[3] + 4 < b[1] or b[3] + 4 < box[1] for b in out):
            out.append(box)
    return out


def _draw(width: int, height: int, background: tuple[int, int, int]) -> tuple[Any, Any]:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (width, height), background)
    return image, ImageDraw.Draw(image)


def _localise(rng: random.Random, width: int, height: int, distractors: tuple[int, int] = (2, 5),
              target_scale: float = 1.0) -> tuple[Any, str, list[int], dict[str, Any]]:
    n = rng.randint(*distractors)
    boxes = _boxes(rng, n + 1, width, height, first_scale=target_scale)
    image, draw = _draw(width, height, (245, 245, 245))
    line = max(1, width // 150)
    for box in boxes[1:]:
        kind = rng.choice(("outline", "line", "dots"))
        colour = tuple(rng.randint(120, 200) for _ in range(3))
        if kind == "outline":
            draw.rectangle(box, outline=colour, width=line)
        elif kind == "line":
            draw.line([box[0], (box[1] + box[3]) // 2, box[2], (box[1] + box[3]) // 2], fill=colour, width=line)
        else:
            for i in range(4):
                cx = box[0] + (i + 1) * (box[2] - box[0]) // 5
                draw.ellipse([cx - line * 2, box[1], cx + line * 2, box[1] + line * 4], fill=colour)
    target = boxes[0]
    draw.rectangle(target, fill=(30, 110, 230), outline=(10, 40, 100), width=line * 2)
    return image, "click the button", target, {"task": "localise", "distractors": len(boxes) - 1}


def _attribute(rng: random.Random, width: int, height: int, buttons: tuple[int, int] = (3, 6)
               ) -> tuple[Any, str, list[int], dict[str, Any]]:
    names = rng.sample(sorted(COLOURS), rng.randint(*buttons))
    boxes = _boxes(rng, len(names), width, height)
    names = names[: len(boxes)]
    image, draw = _draw(width, height, (250, 250, 250))
    for name, box in zip(names, boxes):
        draw.rectangle(box, fill=COLOURS[name], outline=(20, 20, 20), width=max(1, width // 200))
    pick = rng.randrange(len(names))
    return image, f"click the {names[pick]} button", boxes[pick], {"task": "attribute", "buttons": len(names),
                                                                  "colour": names[pick]}


def _labelled(rng: random.Random, width: int, height: int) -> tuple[Any, str, list[int], dict[str, Any]]:
    from PIL import ImageFont

    words = rng.sample(WORDS, rng.randint(3, 6))
    boxes = _boxes(rng, len(words), width, height)
    words = words[: len(boxes)]
    image, draw = _draw(width, height, (255, 255, 255))
    for word, box in zip(words, boxes):
        w, h = box[2] - box[0], box[3] - box[1]
        font = _font(ImageFont, max(8, min(h // 3, int((w - 8) / (0.6 * len(word))))))
        draw.rectangle(box, fill=COLOURS[rng.choice(sorted(COLOURS))], outline=(0, 0, 0))
        draw.text((box[0] + 4, box[1] + 4), word, fill=(255, 255, 255), font=font)
    pick = rng.randrange(len(words))
    return image, f"click {words[pick]}", boxes[pick], {"task": "labelled", "buttons": len(words)}


def _font(image_font: Any, size: int) -> Any:
    try:
        return image_font.load_default(size=size)
    except TypeError:
        return image_font.load_default()


_MAKERS = {"localise": _localise, "attribute": _attribute, "labelled": _labelled}


def _span(value: Any, default: tuple[int, int], bounds: tuple[int, int], name: str) -> tuple[int, int]:
    lo, hi = (value, value) if isinstance(value, int) else tuple(value or default)
    if not bounds[0] <= lo <= hi <= bounds[1]:
        raise ConfigError(f"{name} must be a count or [lo, hi] with {bounds[0]} <= lo <= hi <= {bounds[1]}, "
                          f"got {value!r}")
    return int(lo), int(hi)


def _curriculum(task: str, distractors: Any, target_scale: float, buttons: Any) -> dict[str, Any]:
    """Validated curriculum knobs as maker keyword arguments ({} when at their defaults)."""
    knobs: dict[str, Any] = {}
    if distractors is not None or target_scale != 1.0:
        if task != "localise":
            raise ConfigError(f"distractors / target_scale apply to the localise task only, not {task!r}")
        knobs["distractors"] = _span(distractors, (2, 5), (0, 8), "distractors")
        if not 0.5 <= target_scale <= 3.0:
            raise ConfigError(f"target_scale must be within 0.5..3.0, got {target_scale!r}")
        knobs["target_scale"] = float(target_scale)
    if buttons is not None:
        if task != "attribute":
            raise ConfigError(f"buttons applies to the attribute task only, not {task!r}")
        knobs["buttons"] = _span(buttons, (3, 6), (2, len(COLOURS)), "buttons")
    return knobs


def make_sample(index: int, *, seed: int = 0, task: str = "localise", size: str = "small",
                distractors: int | tuple[int, int] | None = None, target_scale: float = 1.0,
                buttons: int | tuple[int, int] | None = None) -> Sample:
    """Sample ``index`` of the synthetic stream ``(seed, task, size)`` (curriculum knobs: see the module docstring)."""
    if task not in _MAKERS:
        raise ConfigError(f"unknown synthetic task {task!r}; valid: {', '.join(TASKS)}")
    if size not in SIZES:
        raise ConfigError(f"unknown synthetic size {size!r}; valid: {', '.join(SIZES)}")
    knobs = _curriculum(task, distractors, target_scale, buttons)
    width, height = SIZES[size]
    rng = random.Random(f"{seed}:{task}:{size}:{index}")
    image, goal, box, extra = _MAKERS[task](rng, width, height, **knobs)
    cx, cy = (box[0] + box[2]) // 2, (box[1] + box[3]) // 2
    level = "".join(f"-{k[0]}{'_'.join(map(str, v)) if isinstance(v, tuple) else f'{v:g}'}"
                    for k, v in knobs.items())
    return Sample(image=image, width=width, height=height, goal=goal, action=Click(x=cx, y=cy),
                  bbox=[float(v) for v in box], point=[float(cx), float(cy)], source=SOURCE,
                  episode_id=f"{task}{level}-{size}-{seed}-{index}", step_index=0, extra={**extra, "size": size})


def iter_synthetic(n: int = 100, *, seed: int = 0, task: str = "localise", size: str = "small",
                   start: int = 0, distractors: int | tuple[int, int] | None = None, target_scale: float = 1.0,
                   buttons: int | tuple[int, int] | None = None, skip_bad: bool = False,
                   stats: LoadStats | None = None) -> Iterator[Sample]:
    """``n`` samples starting at ``start`` (hold out a test set with a different ``start`` or ``seed``)."""
    for i in range(start, start + n):
        sample = make_sample(i, seed=seed, task=task, size=size, distractors=distractors, target_scale=target_scale,
                             buttons=buttons)
        if stats is not None:
            stats.samples += 1
        yield sample


@register_loader("synthetic", iter_synthetic)
def load_synthetic(n: int = 100, *, seed: int = 0, task: str = "localise", size: str = "small", start: int = 0,
                   distractors: int | list[int] | None = None, target_scale: float = 1.0,
                   buttons: int | list[int] | None = None, streaming: bool = False) -> Any:
    """Synthetic screens as a Hugging Face dataset (see the module docstring)."""
    kwargs = dict(n=n, seed=seed, task=task, size=size, start=start, distractors=distractors,
                  target_scale=target_scale, buttons=buttons)
    make_sample(start, seed=seed, task=task, size=size, distractors=distractors, target_scale=target_scale,
                buttons=buttons)
    return to_hf(iter_synthetic, kwargs, streaming=streaming)
