"""``cua train RECIPE [--set key=value ...] [--resume] [--out DIR]`` and ``cua plot RUN_DIR``.

Mounted by :mod:`cua.cli` through ``register(app)``. Heavy libraries are imported inside the commands only.
RECIPE is a YAML path or a shipped recipe name (``ui_r1``, ``gui_r1``, ``gta1``, ``mobile_r1``, ``smoke``).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import List, Optional

import typer

DEFAULT_RUNS = Path("runs")


def train_command(
    recipe: str = typer.Argument(..., help="Recipe YAML path or a shipped name (a file of train/recipes: ui_r1, arpo, online_proof, ...)."),
    set_: Optional[List[str]] = typer.Option(None, "--set", help="Override: dotted.key=YAML_VALUE (repeatable)."),
    resume: bool = typer.Option(False, "--resume", help="Continue the run in --out from its last checkpoint."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Run folder (default runs/train-<recipe>-<time>)."),
) -> None:
    """Train a recipe's stages (SFT, GRPO) on trl; metrics in OUT/metrics.jsonl, checkpoints per stage."""
    from cua.train.recipe import load_recipe
    from cua.train.runner import train

    parsed = load_recipe(recipe, list(set_ or []))
    if out is None:
        if resume:
            raise typer.BadParameter("--resume needs --out RUN_DIR (the run to continue)")
        out = DEFAULT_RUNS / f"train-{parsed.name}-{time.strftime('%Y%m%d-%H%M%S')}"
    final = train(parsed, out, resume=resume)
    typer.echo(f"final model: {final}")


def plot_command(
    run_dir: Path = typer.Argument(..., help="A `cua train` run folder (holds metrics.jsonl)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="PNG path (default RUN_DIR/metrics.png)."),
) -> None:
    """Draw a training run's metrics (loss, rewards, KL, lengths, grad norm) to a PNG; print the held-out tables."""
    from cua.train.plot import eval_table, live_table, plot_run
    from cua.errors import ConfigError

    typer.echo(str(plot_run(run_dir, out)))
    for table in (eval_table, live_table):
        try:
            typer.echo(table(run_dir))
        except ConfigError:
            pass


def register(app: typer.Typer) -> None:
    """Add ``train`` and ``plot`` to the ``cua`` app."""
    app.command("train")(train_command)
    app.command("plot")(plot_command)
