"""``cua eval``: offline step-level evaluation (mounted by cua/cli.py as the ``eval`` sub-command); the live
suites (``sandbox``, ``miniwob``, ``compare``) come from :mod:`cua.eval.cli_live`.

``cua eval androidcontrol --data PATH --model M [--codec C] [--protocol uitars|infigui|uir1] [--level high|low]
[--out DIR] [--limit N] [--skip-bad]`` and ``cua eval screenspot --data PATH --model M [--version v1|v2|pro]``.
Results stream to ``OUT/results.jsonl``; re-running with the same ``--out`` resumes. Exit 2 on bad input.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console

from cua.errors import CuaError

app = typer.Typer(help="Offline evaluation on AndroidControl-style step data and ScreenSpot.", no_args_is_help=True)
console = Console(highlight=False)
EXIT_USAGE = 2


def _policy(policy: str, model: Optional[str], codec: Optional[str], max_new_tokens: Optional[int]) -> Any:
    from cua.policy import make_policy

    kwargs: dict[str, Any] = {"model": model, "codec": codec}
    if max_new_tokens is not None:
        kwargs["max_new_tokens"] = max_new_tokens
    return make_policy(policy, **kwargs)


def _run(benchmark: str, loader: str, loader_args: dict[str, Any], *, policy: str, model: Optional[str],
         codec: Optional[str], protocol: str, out: Optional[Path], limit: Optional[int], skip_bad: bool,
         max_new_tokens: Optional[int]) -> None:
    from cua.datasets import ITERATORS, LoadStats
    from cua.eval.protocols import PROTOCOLS
    from cua.eval.runner import run_eval

    try:
        if protocol not in PROTOCOLS:
            raise CuaError(f"unknown protocol {protocol!r}; valid: {', '.join(PROTOCOLS)}")
        if loader not in ITERATORS:
            raise CuaError(f"unknown source {loader!r}; valid: {', '.join(sorted(ITERATORS))}")
        out = out or Path("runs") / f"eval-{benchmark}-{time.strftime('%Y%m%d-%H%M%S')}"
        stats = LoadStats()
        samples = ITERATORS[loader](**loader_args, skip_bad=skip_bad, stats=stats)
        agent = _policy(policy, model, codec, max_new_tokens)
        meta = {"data": str(loader_args.get("path")), "model": model, "codec": codec, "policy": policy}
        metrics = run_eval(samples, agent, out_dir=out, protocol=protocol, benchmark=benchmark, limit=limit,
                           meta=meta, stats=stats)
    except CuaError as exc:
        console.print(f"[bold red]error:[/] {exc}", soft_wrap=True)
        raise typer.Exit(EXIT_USAGE) from None
    if stats.skipped:
        console.print(f"skipped {stats.skipped} bad record(s): {stats.errors[:3]}")
    keys = ("n", "accuracy", "type_accuracy", "grounding_accuracy", "step_success", "parse_rate")
    console.print(" ".join(f"{k}={metrics[k]}" for k in keys if k in metrics))
    console.print(f"results: {out}/results.jsonl  metrics: {out}/metrics.json  report: {out}/report.html")


COMMON = dict(
    data=typer.Option(..., "--data", help="Dataset file or folder."),
    model=typer.Option(None, "--model", "-m", help="Model id or local folder (policy 'model')."),
    codec=typer.Option(None, "--codec", help="Model I/O codec (default: the model family's)."),
    policy=typer.Option("model", "--policy", help="Policy spec: model, or script:PATH to replay actions."),
    out=typer.Option(None, "--out", "-o", help="Run folder (re-use it to resume)."),
    limit=typer.Option(None, "--limit", min=1, help="Evaluate the first N samples only."),
    skip_bad=typer.Option(False, "--skip-bad", help="Count and skip corrupt records instead of stopping."),
    max_new_tokens=typer.Option(None, "--max-new-tokens", min=1, help="Generation length per step."),
)


@app.command()
def androidcontrol(
    data: Path = COMMON["data"], model: Optional[str] = COMMON["model"], codec: Optional[str] = COMMON["codec"],
    protocol: str = typer.Option("uitars", "--protocol", help="Step-matching rule: uitars, infigui or uir1."),
    level: str = typer.Option("high", "--level", help="AndroidControl level: high (goal) or low (+ step instruction)."),
    source: str = typer.Option("androidcontrol", "--source", help="Loader: androidcontrol, aitw, gui_r1, trajectories."),
    policy: str = COMMON["policy"], out: Optional[Path] = COMMON["out"], limit: Optional[int] = COMMON["limit"],
    skip_bad: bool = COMMON["skip_bad"], max_new_tokens: Optional[int] = COMMON["max_new_tokens"],
) -> None:
    """Step-level evaluation on AndroidControl (or AITW / GUI-R1 / trajectory) data."""
    args: dict[str, Any] = {"path": str(data)}
    if source == "androidcontrol":
        args["level"] = level
    _run("androidcontrol", source, args, policy=policy, model=model, codec=codec, protocol=protocol, out=out,
         limit=limit, skip_bad=skip_bad, max_new_tokens=max_new_tokens)


@app.command()
def screenspot(
    data: Path = COMMON["data"], model: Optional[str] = COMMON["model"], codec: Optional[str] = COMMON["codec"],
    version: str = typer.Option("v1", "--version", help="ScreenSpot version: v1, v2 or pro."),
    images: Optional[Path] = typer.Option(None, "--images", help="Image folder (default: found beside --data)."),
    policy: str = COMMON["policy"], out: Optional[Path] = COMMON["out"], limit: Optional[int] = COMMON["limit"],
    skip_bad: bool = COMMON["skip_bad"], max_new_tokens: Optional[int] = COMMON["max_new_tokens"],
) -> None:
    """Grounding accuracy (point in box) on ScreenSpot v1 / v2 / Pro, per platform x text/icon."""
    loader = {"v1": "screenspot", "v2": "screenspot_v2", "pro": "screenspot_pro"}.get(version, version)
    args = {"path": str(data), "images": str(images) if images else None}
    _run("screenspot", loader, args, policy=policy, model=model, codec=codec, protocol="screenspot", out=out,
         limit=limit, skip_bad=skip_bad, max_new_tokens=max_new_tokens)


def _register_live() -> None:
    """Live suites (``cua eval sandbox|miniwob|compare``): one module per group, each with ``register(app)``."""
    from cua.eval import cli_live

    cli_live.register(app)


_register_live()


def _register_benchmarks() -> None:
    """AndroidWorld and OSWorld suites (``cua eval androidworld|osworld``, :mod:`cua.eval.cli_benchmarks`)."""
    from cua.eval import cli_benchmarks

    cli_benchmarks.register(app)


_register_benchmarks()
