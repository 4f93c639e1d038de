"""A static HTML report of one episode: goal, outcome, and per step the screenshot with its action drawn on it.

:func:`write_report` reads a saved trajectory folder and writes ``report.html`` plus one annotated, downscaled
JPEG per step (``annotated_000.jpg``, at most :data:`THUMB_WIDTH` pixels wide) beside it, so the report stays
light and the original PNGs stay untouched. Drawings are in device pixels: a circle for click / long press, an
arrow for swipe, an arrow of the finger motion for scroll (labelled with the content direction), a label for
every other action. A step's subgoal (hierarchical policy) heads its text. All text (model output included) is
HTML-escaped.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from cua.actions import Action, Click, LongPress, Scroll, Swipe, scroll_to_swipe
from cua.trajectory import Step, Trajectory

REPORT_FILE = "report.html"
THUMB_WIDTH = 360
JPEG_QUALITY = 80
ACTION_COLOR = (230, 30, 60)
ERROR_COLOR = (200, 0, 0)


def annotated_name(index: int) -> str:
    return f"annotated_{index:03d}.jpg"


def write_report(trajectory: Trajectory | str | Path, path: str | Path | None = None) -> Path:
    """Write the report of a saved trajectory (object or folder); return the HTML file's path.

    ``path`` defaults to ``<trajectory folder>/report.html``; images are written next to the HTML file.
    """
    traj = trajectory if isinstance(trajectory, Trajectory) else Trajectory.load(trajectory)
    if path is None:
        if traj.out_dir is None:
            raise ValueError("the trajectory has no folder; pass path= or save it first")
        path = Path(traj.out_dir) / REPORT_FILE
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [_step_html(traj, step, path.parent) for step in traj.steps]
    path.write_text(_page(traj, rows), encoding="utf-8")
    return path


def annotate(image: Any, action: Action | None, *, error: str | None = None) -> Any:
    """Return a copy of PIL ``image`` with ``action`` drawn on it (device-pixel coordinates)."""
    from PIL import ImageDraw

    img = image.convert("RGB").copy()
    draw = ImageDraw.Draw(img)
    w, h = img.size
    line = max(2, w // 150)
    radius = max(6, w // 30)
    if isinstance(action, (Click, LongPress)):
        _circle(draw, action.x, action.y, radius, line)
        if isinstance(action, LongPress):
            _circle(draw, action.x, action.y, radius + 2 * line, line)
    elif isinstance(action, Swipe):
        _arrow(draw, (action.x, action.y), (action.x2, action.y2), line, radius)
    elif isinstance(action, Scroll):
        finger = scroll_to_swipe(action, w, h)
        _arrow(draw, (finger.x, finger.y), (finger.x2, finger.y2), line, radius)
    label = action.describe() if action is not None else "(no action)"
    if error:
        label += f"  [{error}]"
    _label(draw, label, w, h, ERROR_COLOR if error else ACTION_COLOR)
    return img


def _circle(draw: Any, x: int, y: int, r: int, width: int) -> None:
    draw.ellipse((x - r, y - r, x + r, y + r), outline=ACTION_COLOR, width=width)
    dot = max(2, width)
    draw.ellipse((x - dot, y - dot, x + dot, y + dot), fill=ACTION_COLOR)


def _arrow(draw: Any, start: tuple[int, int], end: tuple[int, int], width: int, head: int) -> None:
    import math

    draw.line((start, end), fill=ACTION_COLOR, width=width)
    angle = math.atan2(end[1] - start[1], end[0] - start[0])
    for side in (-0.5, 0.5):
        tip = (end[0] - head * math.cos(angle + side), end[1] - head * math.sin(angle + side))
        draw.line((end, tip), fill=ACTION_COLOR, width=width)
    draw.ellipse((start[0] - width * 2, start[1] - width * 2, start[0] + width * 2, start[1] + width * 2),
                 fill=ACTION_COLOR)


def _label(draw: Any, text: str, w: int, h: int, color: tuple[int, int, int]) -> None:
    from PIL import ImageFont

    size = max(12, w // 20)
    try:
        font = ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has no sized default font
        font = ImageFont.load_default()
    text = text if len(text) <= 60 else text[:57] + "..."
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    pad = size // 3
    draw.rectangle((0, 0, min(w, right - left + 2 * pad), bottom - top + 2 * pad), fill=(255, 255, 255))
    draw.text((pad - left, pad - top), text, fill=color, font=font)


def _thumbnail(traj: Trajectory, step: Step, folder: Path) -> str | None:
    """Write the annotated JPEG of ``step``; its file name, or None when the step has no screenshot."""
    obs = traj.observation(step)
    if obs is None:
        return None
    img = annotate(obs.image, step.action, error=step.error_kind)
    if img.width > THUMB_WIDTH:
        img = img.resize((THUMB_WIDTH, max(1, round(img.height * THUMB_WIDTH / img.width))))
    name = annotated_name(step.index)
    img.save(folder / name, format="JPEG", quality=JPEG_QUALITY)
    return name


def _step_html(traj: Trajectory, step: Step, folder: Path) -> str:
    e = html.escape
    thumb = _thumbnail(traj, step, folder)
    image = f'<a href="{e(step.screenshot or "")}"><img src="{e(thumb)}" alt="step {step.index}"></a>' if thumb else ""
    action = step.action.describe() if step.action is not None else "(no action)"
    timings = ", ".join(f"{k} {v:.3f}s" for k, v in step.timings.items())
    parts = [f"<h3>step {step.index}: <code>{e(action)}</code></h3>"]
    if step.subgoal is not None:
        parts.append(f'<p class="subgoal">subgoal: {e(step.subgoal)}</p>')
    if step.error_kind:
        parts.append(f'<p class="err">{e(step.error_kind)}: {e(step.error or "")}</p>')
    if step.text:
        parts.append(f"<details><summary>raw text</summary><pre>{e(step.text)}</pre></details>")
    if step.output is not None:
        parts.append(f"<p>output: <code>{e(json.dumps(step.output, ensure_ascii=False, default=str))}</code></p>")
    if step.reward:
        parts.append(f"<p>reward: <code>{e(json.dumps(step.reward))}</code></p>")
    if step.info:
        info = json.dumps(step.info, ensure_ascii=False, indent=1, default=str)
        parts.append(f"<details><summary>info</summary><pre>{e(info)}</pre></details>")
    parts.append(f'<p class="dim">{e(timings)}</p>')
    return f'<div class="step"><div class="shot">{image}</div><div class="meta">{"".join(parts)}</div></div>'


def _page(traj: Trajectory, rows: list[str]) -> str:
    e = html.escape
    if traj.success is None:
        verdict = "no checker"
    else:
        verdict = f"success score {traj.success:g}"
    facts = [
        ("goal", traj.goal), ("task", f"{traj.task_id} (seed {traj.seed})" if traj.task_id else "-"),
        ("device", traj.device), ("policy", traj.policy), ("result", verdict),
        ("ended by", traj.status + (f": {traj.error}" if traj.error else "")),
        ("claimed", traj.claimed or "-"), ("answer", traj.answer if traj.answer is not None else "-"),
        ("steps", f"{len(traj.steps)} ({traj.invalid_steps} invalid) of {traj.max_steps}"),
        ("time", f"{traj.duration_s or 0.0:.1f} s"),
    ]
    table = "".join(f"<tr><th>{e(k)}</th><td>{e(str(v))}</td></tr>" for k, v in facts)
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>cua episode: {e(traj.goal[:80])}</title>
<style>
body {{ font-family: sans-serif; margin: 1.5em; color: #222; }}
th {{ text-align: left; padding-right: 1em; vertical-align: top; }}
.step {{ display: flex; gap: 1.5em; border-top: 1px solid #ccc; padding: 1em 0; }}
.shot img {{ width: {THUMB_WIDTH}px; border: 1px solid #999; }}
.meta {{ flex: 1; min-width: 0; }} pre {{ white-space: pre-wrap; background: #f4f4f4; padding: .5em; }}
.err {{ color: #b00; }} .dim {{ color: #777; }} .subgoal {{ font-weight: bold; color: #05a; }}
</style></head><body>
<h1>cua episode</h1>
<table>{table}</table>
{"".join(rows)}
</body></html>
"""
