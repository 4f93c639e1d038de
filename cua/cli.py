"""The ``cua`` command line (typer + rich): ``cua run``, ``cua tasks``, ``cua devices`` and plug-in sub-commands.

Exit codes: 0 = the episode ran and succeeded (or ran with no checker and no infrastructure error);
1 = it ran and failed, or the device failed (infrastructure error); 2 = bad usage or configuration
(:class:`~cua.errors.ConfigError` and usage errors: the message is printed, no traceback).

Sub-commands of other parts (``cua model``, ``cua eval``, ``cua train``, ...) come from the explicit
:data:`SUBCOMMANDS` table; a module that does not exist is skipped, an import error inside one is not hidden.
Nothing here imports torch: ``cua --help`` stays fast (sub-command modules must import heavy libraries lazily).
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Any, Callable, Optional

import typer
from rich.console import Console
from rich.markup import escape

from cua.errors import ConfigError, CuaError, DeviceError
from cua.cli_run import DEFAULT_MODEL, EXIT_FAILED, RunOptions, execute_run, task_ids_for

app = typer.Typer(
    name="cua", help="Build, run, train and evaluate GUI computer-use agents.", no_args_is_help=True,
    add_completion=False, pretty_exceptions_enable=False,
)
console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

EXIT_USAGE = 2
DEFAULT_DEVICE = "sandbox"

#: (sub-command name, module). The module exports ``register(app)`` or a typer ``app``.
SUBCOMMANDS: tuple[tuple[str, str], ...] = (
    ("model", "cua.cli_model"),
    ("eval", "cua.eval.cli"),
    ("train", "cua.train.cli"),
)

#: Model-policy options of ``cua run`` and the keyword each is forwarded as (cua/policies/model.py).
MODEL_OPTIONS: tuple[str, ...] = (
    "model", "codec", "samples", "judge", "base_url", "history_images", "device_map", "dtype", "min_pixels",
    "max_pixels", "max_new_tokens",
)


def _fail_usage(message: str) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {escape(message)}", markup=True, soft_wrap=True)
    return typer.Exit(EXIT_USAGE)


@app.command()
def run(
    goal: Optional[str] = typer.Argument(None, help="Goal text (not with --task: the task supplies its goal)."),
    device: str = typer.Option(DEFAULT_DEVICE, "--device", "-d", help="Device spec (see `cua devices`)."),
    policy: Optional[str] = typer.Option(
        None, "--policy", "-p", help="Policy: oracle (the sandbox's scripted expert), script:PATH, model. "
        "Default: oracle with --task and no --model, else model."),
    task: Optional[str] = typer.Option(None, "--task", "-t", help="Task id (see `cua tasks`)."),
    seed: int = typer.Option(0, "--seed", help="Seed for the task's parameters and the device reset."),
    max_steps: Optional[int] = typer.Option(None, "--max-steps", min=1, help="Step budget (default: the task's, or 20)."),
    time_budget: Optional[float] = typer.Option(None, "--time-budget", min=0.0, help="Wall-clock budget in seconds."),
    step_timeout: Optional[float] = typer.Option(None, "--step-timeout", min=0.0, help="Timeout of each device call (s)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Trajectory folder (default runs/<time>-<task|goal>)."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="Model id, local folder or openai:NAME (implies --policy model). Default: $CUA_MODEL, else "
        f"{DEFAULT_MODEL}."),
    codec: Optional[str] = typer.Option(None, "--codec", help="Model I/O codec (default: the model family's)."),
    samples: Optional[int] = typer.Option(None, "--samples", min=1, help="Candidates per step (judge sampler)."),
    judge: Optional[str] = typer.Option(None, "--judge", help="Judge model for --samples > 1."),
    base_url: Optional[str] = typer.Option(None, "--base-url", help="OpenAI-compatible endpoint for openai:NAME."),
    history_images: Optional[int] = typer.Option(None, "--history-images", min=0, help="Previous screenshots in the prompt."),
    device_map: Optional[str] = typer.Option(None, "--device-map", help="transformers device_map (e.g. auto, cpu)."),
    dtype: Optional[str] = typer.Option(None, "--dtype", help="Model dtype (bfloat16, float32, ...)."),
    min_pixels: Optional[int] = typer.Option(None, "--min-pixels", min=1, help="Processor min_pixels."),
    max_pixels: Optional[int] = typer.Option(None, "--max-pixels", min=1, help="Processor max_pixels."),
    max_new_tokens: Optional[int] = typer.Option(None, "--max-new-tokens", min=1, help="Generation length per step."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Safety gate: approve confirm-class actions."),
    unsafe: bool = typer.Option(False, "--unsafe", help="Run without the safety gate."),
    report: bool = typer.Option(True, "--report/--no-report", help="Write report.html next to the trajectory."),
    hierarchical: bool = typer.Option(False, "--hierarchical", help="Hi-Agent's two levels on the model: a "
        "subgoal in words from (goal, screen, history), then one action from (subgoal, screen)."),
) -> None:
    """Run one episode: observe -> propose -> act until the policy terminates or a budget ends."""
    model_kwargs = {k: v for k, v in locals().items() if k in MODEL_OPTIONS and v is not None}
    options = RunOptions(
        goal=goal, device=device, policy=policy, task=task, seed=seed, max_steps=max_steps,
        time_budget=time_budget, step_timeout=step_timeout, out=out, model_kwargs=model_kwargs,
        yes=yes, unsafe=unsafe, report=report, hierarchical=hierarchical,
    )
    try:
        code = execute_run(options, console)
    except ConfigError as exc:
        raise _fail_usage(str(exc)) from None
    raise typer.Exit(code)


@app.command()
def tasks(as_json: bool = typer.Option(False, "--json", help="Print JSON (a list of objects).")) -> None:
    """List the registered tasks: id, goal template, step budget."""
    rows = task_rows()
    if as_json:
        console.print_json(json.dumps(rows)) if sys.stdout.isatty() else print(json.dumps(rows, indent=2))
        return
    from rich.table import Table

    table = Table("id", "goal template", "steps", "device", title=f"{len(rows)} tasks")
    for row in rows:
        table.add_row(escape(row["id"]), escape(row["template"]), str(row["max_steps"]), escape(row["device"]))
    console.print(table)


def task_rows() -> list[dict[str, Any]]:
    """One row per registered task (built-in task modules loaded first)."""
    from cua import task as task_mod

    rows = []
    for task_id in task_ids_for():
        cls = task_mod.TASKS[task_id]
        rows.append({
            "id": task_id, "template": cls.template, "max_steps": cls.from_seed(0).max_steps,
            "complexity": cls.complexity, "device": cls.device_kind,
        })
    return rows


@app.command()
def devices(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List reachable devices (plus the always-available sandbox) and the valid spec forms."""
    from cua.devices import discover, valid_forms

    found = {"sandbox": ["sandbox"]}
    for scheme, specs in discover().items():
        if specs:
            found.setdefault(scheme, [])
            found[scheme] += [s for s in specs if s not in found[scheme]]
    if as_json:
        print(json.dumps({"reachable": found, "forms": valid_forms()}, indent=2))
        return
    console.print("[bold]reachable[/]")
    for scheme, specs in found.items():
        for spec in specs:
            console.print(f"  {escape(spec)}  [dim]({escape(scheme)})[/]")
    console.print("[bold]spec forms[/]")
    for form in valid_forms():
        console.print(f"  {escape(form)}")


def add_subcommands(target: typer.Typer, table: tuple[tuple[str, str], ...] = SUBCOMMANDS) -> list[str]:
    """Attach the sub-commands of ``table`` whose modules exist; return the names attached.

    A module that does not exist is skipped; an import error raised inside an existing module propagates.
    """
    added = []
    for name, module_name in table:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name is not None and (module_name == exc.name or module_name.startswith(exc.name + ".")):
                continue
            raise
        register: Callable[[typer.Typer], None] | None = getattr(module, "register", None)
        if callable(register):
            register(target)
        elif isinstance(getattr(module, "app", None), typer.Typer):
            target.add_typer(module.app, name=name)
        else:
            raise ConfigError(f"{module_name} exports neither register(app) nor a typer `app`")
        added.append(name)
    return added


add_subcommands(app)


def main() -> None:
    """Console-script entry point: runs the app; ConfigError -> exit 2, other CuaError -> exit 1, no traceback."""
    try:
        app()
    except ConfigError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", soft_wrap=True)
        sys.exit(EXIT_USAGE)
    except DeviceError as exc:
        err_console.print(f"[bold red]device error:[/] {type(exc).__name__}: {exc}", soft_wrap=True)
        sys.exit(EXIT_FAILED)
    except CuaError as exc:
        err_console.print(f"[bold red]error:[/] {type(exc).__name__}: {exc}", soft_wrap=True)
        sys.exit(EXIT_FAILED)
