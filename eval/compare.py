"""Compare two live-evaluation runs: per-task success deltas and a paired bootstrap CI on the difference.

Episodes are paired by ``(task, seed)`` (sample index too, when runs repeat a seed): only pairs present in
both runs count, so a run that skipped or lost episodes is compared on what both have. The bootstrap resamples
the PAIRS with replacement (the pair keeps its task and seed), recomputes the mean success difference B - A,
and reads the percentile interval (Efron & Tibshirani 1993, ch. 13; the paired form as in Dror et al. 2018,
"The Hitchhiker's Guide to Testing Statistical Significance in NLP"). Infra-failed episodes are left out on
both sides (they measure the machine, not the agent).
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from cua.errors import ConfigError
from cua.eval.store import RESULTS_FILE

DEFAULT_RESAMPLES = 10_000
DEFAULT_CONFIDENCE = 0.95


@dataclass(frozen=True)
class Comparison:
    """``b - a`` per task and overall; ``ci`` is the bootstrap interval of the overall difference."""

    n_pairs: int
    a: float
    b: float
    delta: float
    ci: tuple[float, float]
    confidence: float
    per_task: dict[str, dict[str, float]] = field(default_factory=dict)
    only_a: int = 0
    only_b: int = 0


def pair_key(record: dict[str, Any]) -> tuple[str, str, int, int]:
    return (str(record.get("suite", "")), str(record["task"]), int(record["seed"]), int(record.get("sample", 0)))


def load_run(run: str | Path) -> list[dict[str, Any]]:
    """The episode records of a run folder (its ``results.jsonl``); ConfigError when there is none."""
    import json

    path = Path(run) / RESULTS_FILE
    if not path.is_file():
        raise ConfigError(f"{run} is not a live-eval run folder (no {RESULTS_FILE})")
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue  # a torn last line of a killed run
        if isinstance(record, dict) and "task" in record and "seed" in record:
            records.append(record)
    if not records:
        raise ConfigError(f"{path} holds no episode records (is it an offline-eval run?)")
    return records


def wilson(successes: float, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval of a success rate (95% for ``z`` 1.96).

    >>> [round(x, 3) for x in wilson(50, 100)]
    [0.404, 0.596]
    """
    if n <= 0:
        return 0.0, 1.0
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def paired_bootstrap(diffs: Sequence[float], *, resamples: int = DEFAULT_RESAMPLES,
                     confidence: float = DEFAULT_CONFIDENCE, seed: int = 0) -> tuple[float, float]:
    """Percentile interval of the mean of ``diffs`` (one difference per pair) over bootstrap resamples."""
    if not diffs:
        raise ConfigError("no paired episodes to compare")
    if not 0.0 < confidence < 1.0:
        raise ConfigError(f"confidence must be in (0, 1), got {confidence}")
    rng = random.Random(seed)
    n = len(diffs)
    means = sorted(sum(diffs[rng.randrange(n)] for _ in range(n)) / n for _ in range(resamples))
    tail = (1.0 - confidence) / 2.0
    lo = means[int(tail * (resamples - 1))]
    hi = means[int(round((1.0 - tail) * (resamples - 1)))]
    return lo, hi


def compare(records_a: Iterable[dict[str, Any]], records_b: Iterable[dict[str, Any]], *,
            resamples: int = DEFAULT_RESAMPLES, confidence: float = DEFAULT_CONFIDENCE, seed: int = 0) -> Comparison:
    """Pair the episodes of two runs by (suite, task, seed, sample) and compare their success."""
    a = {pair_key(r): r for r in records_a if not r.get("infra_error")}
    b = {pair_key(r): r for r in records_b if not r.get("infra_error")}
    keys = sorted(a.keys() & b.keys())
    if not keys:
        raise ConfigError("the two runs share no (task, seed) episode; nothing to compare")
    sa = [float(bool(a[k]["success"])) for k in keys]
    sb = [float(bool(b[k]["success"])) for k in keys]
    diffs = [y - x for x, y in zip(sa, sb)]
    by_task: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for k, x, y in zip(keys, sa, sb):
        by_task[k[1]].append((x, y))
    per_task = {
        task: {"n": len(pairs), "a": _mean(p[0] for p in pairs), "b": _mean(p[1] for p in pairs),
               "delta": _mean(p[1] - p[0] for p in pairs)}
        for task, pairs in sorted(by_task.items())
    }
    ci = paired_bootstrap(diffs, resamples=resamples, confidence=confidence, seed=seed)
    return Comparison(n_pairs=len(keys), a=_mean(sa), b=_mean(sb), delta=_mean(diffs), ci=ci,
                      confidence=confidence, per_task=per_task, only_a=len(a.keys() - b.keys()),
                      only_b=len(b.keys() - a.keys()))


def _mean(values: Iterable[float]) -> float:
    values = list(values)
    return sum(values) / len(values) if values else 0.0
