"""Trainer callbacks: metrics as JSONL in the run folder, and ``cua_processing.json`` in every checkpoint.

``metrics.jsonl`` holds one JSON object per trl log event: ``{"stage", "step", "epoch", "time", **logs}`` where
logs are trl's own keys (``loss``, ``grad_norm``, ``learning_rate``, ``reward``, ``rewards/<name>/mean``, ``kl``,
``completions/mean_length``, ...). Lines are appended and flushed at once, so a killed run keeps what it logged;
on resume, lines past the resumed checkpoint's step are dropped before training continues (see :func:`truncate`).
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from cua.models.loading import ProcessingConfig

METRICS_FILE = "metrics.jsonl"
#: Held-out evaluation records (also in metrics.jsonl), written by :mod:`cua.train.evaluate`.
EVAL_FILE = "eval.jsonl"


def rank_zero_decides(flag: bool) -> bool:
    """Rank 0's ``flag`` on every rank of a torch.distributed run (``flag`` itself otherwise).

    A stop rule (a time limit, a held-out check that only rank 0 runs) must end every rank at the same step: a
    rank that goes on alone waits forever in the next collective. Every rank must call this at the same point."""
    return bool(rank_zero_value(bool(flag)))


def rank_zero_value(value: Any) -> Any:
    """Rank 0's ``value`` (any picklable object) on every rank of a torch.distributed run (``value`` itself
    otherwise); every rank must call this at the same point."""
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return value
    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class JsonlMetrics(TrainerCallback):
    """Append every trl log event of ``stage`` to ``run_dir/metrics.jsonl``."""

    def __init__(self, run_dir: str | Path, stage: str) -> None:
        self.path = Path(run_dir) / METRICS_FILE
        self.stage = stage

    def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kwargs: Any) -> None:
        if not logs or not state.is_world_process_zero:
            return
        record = {"stage": self.stage, "step": state.global_step, "epoch": state.epoch, "time": time.time()}
        record.update({k: _clean(v) for k, v in logs.items() if isinstance(v, (int, float, str)) or v is None})
        with self.path.open("a") as fh:
            fh.write(json.dumps(record) + "\n")
            fh.flush()


class SaveProcessing(TrainerCallback):
    """Write the run's ``cua_processing.json`` (pixel limits, factor, codec) into each checkpoint folder."""

    def __init__(self, processing: ProcessingConfig) -> None:
        self.processing = processing

    def on_save(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        folder = Path(args.output_dir) / f"checkpoint-{state.global_step}"
        if folder.is_dir() and state.is_world_process_zero:
            self.processing.save(folder)


def truncate(run_dir: str | Path, stage: str, step: int) -> None:
    """Drop ``stage`` records logged after ``step`` from the run's JSONL logs (they are redone after a resume).

    Only the main process (``RANK`` 0 or unset) rewrites them, atomically (a temporary file renamed into place):
    with several ranks, a rank reading the file while another rewrote it used to write back an empty log."""
    import os

    if int(os.environ.get("RANK", "0") or 0) != 0:
        return
    for name in (METRICS_FILE, EVAL_FILE):
        _truncate_file(Path(run_dir) / name, stage, step)


def _truncate_file(path: Path, stage: str, step: int) -> None:
    if not path.is_file():
        return
    kept = []
    for line in path.read_text().splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if record.get("stage") == stage and record.get("step", 0) > step:
            continue
        kept.append(line)
    tmp = path.with_name(f"{path.name}.tmp")
    tmp.write_text("".join(k + "\n" for k in kept))
    tmp.replace(path)


def read_metrics(run_dir: str | Path) -> list[dict[str, Any]]:
    """Every record of ``run_dir/metrics.jsonl`` (torn last lines from a kill are skipped)."""
    path = Path(run_dir) / METRICS_FILE
    if not path.is_file():
        return []
    out = []
    for line in path.read_text().splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return out
