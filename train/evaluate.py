"""Held-out grounding evaluation during training: parse rate, click-in-box accuracy, chance level, mean reward.

:func:`evaluate` greedily decodes one completion per held-out trl row (rows from :mod:`cua.train.data`, with
``bbox``) in batches, parses each with the run's codec and scores it. Chance level is what a uniformly random
click scores: the box's share of the screen area, or for a grid codec the share of cell centres inside the box.
On screens that record how many buttons they show (synthetic ``attribute`` / ``labelled``), ``eval/random_button``
is what clicking one of them at random scores (the mean of 1 / buttons): the baseline for attribute binding.
:class:`GroundingEval` runs it before the first stage, every ``eval_every`` steps and at each stage's end, and
appends ``{"stage", "step", "eval/...": ...}`` records to ``metrics.jsonl`` and ``eval.jsonl``.
"""

from __future__ import annotations

import io
import json
import time
from pathlib import Path
from typing import Any, Callable

from transformers import TrainerCallback

from cua.train.callbacks import EVAL_FILE, METRICS_FILE, rank_zero_decides
from cua.train.rewards import completion_text, in_box, parse_point

EVAL_BATCH = 64
EVAL_MAX_NEW_TOKENS = 32


def chance(row: dict[str, Any], grid: int | None) -> float:
    """Probability that a uniformly random click (or random grid cell) lands in the row's box."""
    x1, y1, x2, y2 = row["bbox"]
    if grid is None:
        return max(0.0, (x2 - x1) * (y2 - y1)) / float(row["width"] * row["height"])
    w, h = row["width"], row["height"]
    hits = sum(1 for c in range(grid) for r in range(grid)
               if x1 <= (c + 0.5) * w / grid <= x2 and y1 <= (r + 0.5) * h / grid <= y2)
    return hits / float(grid * grid)


def _pil(image: Any) -> Any:
    """A PIL image from a row's image: as is, or decoded from the encoded ``{"bytes": ...}`` that held-out rows
    keep (:func:`cua.train.runner._eval_rows`; decoding per batch keeps 1,000 screens out of memory)."""
    if isinstance(image, dict):
        from PIL import Image

        decoded = Image.open(io.BytesIO(image["bytes"]) if image.get("bytes") is not None else image["path"])
        decoded.load()
        return decoded
    return image


def generate(model: Any, processor: Any, rows: list[dict[str, Any]], max_new_tokens: int) -> list[str]:
    """Greedy completions (text) for trl rows, left-padded batches on the model's device (images decoded per
    batch when rows hold them encoded)."""
    import torch
    from trl.data_utils import prepare_multimodal_messages

    tok = processor.tokenizer
    old_side, tok.padding_side = tok.padding_side, "left"
    out: list[str] = []
    try:
        for i in range(0, len(rows), EVAL_BATCH):
            batch = rows[i:i + EVAL_BATCH]
            images = [[_pil(im) for im in r["images"]] for r in batch]
            texts = [processor.apply_chat_template(prepare_multimodal_messages(r["prompt"], images=ims),
                                                   add_generation_prompt=True, tokenize=False)
                     for r, ims in zip(batch, images)]
            inputs = processor(text=texts, images=images, return_tensors="pt", padding=True)
            inputs = inputs.to(model.device)
            with torch.no_grad():
                ids = model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False)
            out += tok.batch_decode(ids[:, inputs["input_ids"].shape[1]:], skip_special_tokens=True)
    finally:
        tok.padding_side = old_side
    return out


def evaluate(model: Any, processor: Any, rows: list[dict[str, Any]], *,
             reward_funcs: list[Callable] = (), reward_weights: list[float] = (),
             max_new_tokens: int = EVAL_MAX_NEW_TOKENS) -> dict[str, float]:
    """Held-out metrics: ``eval/parse_rate``, ``eval/hit_rate``, ``eval/chance``, ``eval/reward`` (+ ``n``)."""
    from cua.codecs import get_codec

    was_training = model.training
    model.eval()
    try:
        texts = generate(model, processor, rows, max_new_tokens)
    finally:
        model.train(was_training)
    points = [parse_point(t, r["codec"], r["width"], r["height"], r["model_width"], r["model_height"])
              for t, r in zip(texts, rows)]
    grid = getattr(get_codec(rows[0]["codec"]), "n", None)
    n = float(len(rows))
    metrics = {
        "eval/n": n,
        "eval/parse_rate": sum(p is not None for p in points) / n,
        "eval/hit_rate": sum(in_box(p, r["bbox"]) for p, r in zip(points, rows)) / n,
        "eval/chance": sum(chance(r, grid) for r in rows) / n,
    }
    buttons = [_buttons(r) for r in rows]
    if all(buttons):
        metrics["eval/random_button"] = sum(1.0 / b for b in buttons) / n
    if reward_funcs:
        completions = [[{"role": "assistant", "content": t}] for t in texts]
        columns = {k: [r.get(k) for r in rows] for k in rows[0] if k not in ("prompt", "completion")}
        total = [0.0] * len(rows)
        for fn, w in zip(reward_funcs, reward_weights or [1.0] * len(reward_funcs)):
            for j, v in enumerate(fn(completions, **columns)):
                total[j] += w * (v or 0.0)
        metrics["eval/reward"] = sum(total) / n
    metrics["eval/sample"] = completion_text(texts[0]) if texts else ""
    return metrics


def _buttons(row: dict[str, Any]) -> int:
    """How many buttons the screen shows (synthetic ``extra.buttons``; 0 when unknown)."""
    extra = row.get("extra")
    try:
        extra = json.loads(extra) if isinstance(extra, str) else (extra or {})
    except ValueError:
        return 0
    return int(extra.get("buttons") or 0) if isinstance(extra, dict) else 0


class GroundingEval(TrainerCallback):
    """Evaluate held-out grounding at stage start (``at_start``), every ``every`` steps and at stage end."""

    def __init__(self, run_dir: Path, stage: str, rows: list[dict[str, Any]], processor: Any, *,
                 every: int = 0, every_n: int | None = None, at_start: bool = False,
                 max_new_tokens: int = EVAL_MAX_NEW_TOKENS, reward_funcs: list[Callable] = (),
                 reward_weights: list[float] = (), stop_at_hit_rate: float | None = None) -> None:
        self.run_dir, self.stage, self.rows, self.processor = Path(run_dir), stage, rows, processor
        self.every, self.every_n, self.at_start, self.max_new_tokens = every, every_n, at_start, max_new_tokens
        self.reward_funcs, self.reward_weights = list(reward_funcs), list(reward_weights)
        self.stop_at_hit_rate = stop_at_hit_rate

    def _run(self, model: Any, step: int, rows: list[dict[str, Any]]) -> dict[str, Any]:
        started = time.time()
        metrics = evaluate(model, self.processor, rows, reward_funcs=self.reward_funcs,
                           reward_weights=self.reward_weights, max_new_tokens=self.max_new_tokens)
        record = {"stage": self.stage, "step": step, "time": time.time(), "eval/seconds": time.time() - started,
                  **metrics}
        for name in (METRICS_FILE, EVAL_FILE):
            with (self.run_dir / name).open("a") as fh:
                fh.write(json.dumps(record) + "\n")
        return record

    def on_train_begin(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> None:
        if self.at_start and state.global_step == 0 and state.is_world_process_zero:
            self._run(model, 0, self.rows)

    def on_step_end(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> None:
        if self.every and state.global_step % self.every == 0 and state.global_step < state.max_steps:
            stop = False
            if state.is_world_process_zero:
                record = self._run(model, state.global_step, self.rows[: self.every_n or len(self.rows)])
                stop = self.stop_at_hit_rate is not None and record["eval/hit_rate"] >= self.stop_at_hit_rate
            if self.stop_at_hit_rate is not None and rank_zero_decides(stop):
                control.should_training_stop = True

    def on_train_end(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> None:
        if state.is_world_process_zero:
            self._run(model, state.global_step, self.rows)


class TimeLimit(TrainerCallback):
    """End the stage (as ``max_steps`` would) once ``minutes`` of wall time have passed since it began."""

    def __init__(self, minutes: float) -> None:
        self.seconds = minutes * 60.0
        self.started = 0.0

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self.started = time.monotonic()

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if rank_zero_decides(time.monotonic() - self.started >= self.seconds):  # clocks differ across ranks
            control.should_training_stop = True
