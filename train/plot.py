"""``cua plot RUN_DIR``: draw a run's ``metrics.jsonl`` to PNG (matplotlib, Agg backend, no display needed).

One figure, one panel per metric that the run logged (loss, reward, per-function rewards, KL, completion length,
grad norm, learning rate, eval metrics; online stages: episode success, reward, lost episodes and each task's
curriculum success), x = the global step across stages (stage boundaries as dashed lines).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cua.errors import ConfigError
from cua.train.callbacks import read_metrics

PANELS: tuple[str, ...] = ("loss", "reward", "kl", "completions/mean_length", "grad_norm", "learning_rate",
                           "mean_token_accuracy", "entropy")
#: Online stages (cua.train.online): episode success / reward / lost episodes, and each task's curriculum success.
ONLINE_PANELS: tuple[str, ...] = ("online/success", "online/episode_reward", "online/lost_episodes")
PLOT_FILE = "metrics.png"
SKIP = frozenset({"eval/n", "eval/seconds", "eval/chance", "eval/random_button"})


def _online(key: str) -> bool:
    return key in ONLINE_PANELS or (key.startswith("curriculum/") and key.endswith("/success"))


def _series(records: list[dict[str, Any]]) -> tuple[dict[str, tuple[list[float], list[float]]], list[tuple[str, float]]]:
    series: dict[str, tuple[list[float], list[float]]] = {}
    boundaries: list[tuple[str, float]] = []
    offset, last_stage, last_step = 0, None, 0
    for r in records:
        stage = r.get("stage")
        if stage != last_stage:
            offset += last_step if last_stage is not None else 0
            boundaries.append((str(stage), float(offset)))
            last_stage = stage
        last_step = int(r.get("step", 0))
        x = float(offset + last_step)
        for key, value in r.items():
            if key in ("stage", "step", "epoch", "time") or not isinstance(value, (int, float)):
                continue
            if key in SKIP or key.endswith("/std"):
                continue
            if key.startswith("curriculum/") and key.endswith("/success") and value < 0:
                continue  # the task was not played yet
            if key in PANELS or key.startswith(("rewards/", "eval/", "eval_")) or _online(key):
                xs, ys = series.setdefault(key, ([], []))
                xs.append(x)
                ys.append(float(value))
    return series, boundaries


def plot_run(run_dir: str | Path, out: str | Path | None = None) -> Path:
    """Write the run's metrics figure (default ``RUN_DIR/metrics.png``); ConfigError if nothing was logged."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    run_dir = Path(run_dir)
    records = read_metrics(run_dir)
    if not records:
        raise ConfigError(f"{run_dir} has no metrics.jsonl records; is it a `cua train` run folder?")
    series, boundaries = _series(records)
    names = sorted(series, key=lambda k: (PANELS.index(k) if k in PANELS else len(PANELS), k))
    cols = 3
    rows = max(1, -(-len(names) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(5 * cols, 3.2 * rows), squeeze=False)
    for ax, name in zip(axes.flat, names):
        xs, ys = series[name]
        ax.plot(xs, ys, lw=1.2)
        for stage, x in boundaries:
            ax.axvline(x, ls="--", lw=0.8, color="grey")
            ax.text(x, 1.0, f" {stage}", transform=ax.get_xaxis_transform(), va="top", fontsize=7, color="grey")
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("step", fontsize=8)
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    fig.tight_layout()
    path = Path(out) if out else run_dir / PLOT_FILE
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def eval_table(run_dir: str | Path) -> str:
    """Markdown table of the held-out evaluations on each full set: before training and at each stage's end.

    ``random button`` (what clicking one of the screen's buttons at random scores) appears for sets that record
    their button counts (synthetic attribute screens), ``-`` elsewhere.
    """
    rows = [r for r in read_metrics(run_dir) if "eval/hit_rate" in r]
    if not rows:
        raise ConfigError(f"{run_dir} has no held-out evaluations (eval/... records); set eval_data in the recipe")
    full = max(r["eval/n"] for r in rows)
    lines = ["| stage | step | n | parse rate | click-in-box | chance | random button | mean reward |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if r["eval/n"] == full:
            button = f"{r['eval/random_button']:.3f}" if "eval/random_button" in r else "-"
            lines.append(f"| {r['stage']} | {r['step']} | {int(r['eval/n'])} | {r['eval/parse_rate']:.3f} | "
                         f"{r['eval/hit_rate']:.3f} | {r['eval/chance']:.3f} | {button} | "
                         f"{r.get('eval/reward', float('nan')):.3f} |")
    return "\n".join(lines)


def live_table(run_dir: str | Path) -> str:
    """Markdown table of the live held-out evaluations on the whole held-out list (:mod:`cua.train.live_eval`):
    success with its Wilson 95% interval, invalid-step rate and the evaluation's wall time. A stage that keeps
    its best model (``live_eval.keep_best``) is scored on that model: the step column names the step it is from."""
    from cua.eval.compare import wilson

    rows = [r for r in read_metrics(run_dir) if "eval/live_success" in r]
    if not rows:
        raise ConfigError(f"{run_dir} has no live evaluations; add live_eval to the recipe")
    full = max(int(r.get("live_eval/jobs", r["live_eval/n"])) for r in rows)
    lines = ["| stage | step | episodes | live success | 95% CI | invalid steps | seconds |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        if int(r.get("live_eval/jobs", r["live_eval/n"])) != full:
            continue
        n = int(r["live_eval/n"])
        low, high = wilson(r["eval/live_success"] * n, n)
        model_step = r.get("live_eval/model_step", r["step"])
        step = r["step"] if model_step == r["step"] else f"{r['step']} (model of step {model_step})"
        lines.append(f"| {r['stage']} | {step} | {n} | {r['eval/live_success']:.3f} | [{low:.3f}, {high:.3f}] | "
                     f"{r.get('live_eval/invalid_rate', float('nan')):.3f} | {r.get('live_eval/seconds', 0):.0f} |")
    return "\n".join(lines)
