"""What ``cua run`` does: resolve task, goal, policy and device; run the episode with a live view; summarise.

Kept apart from :mod:`cua.cli` so the command table stays short. Exit codes are those of :mod:`cua.cli`.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from rich.console import Console
from rich.markup import escape

from cua.errors import ConfigError, DeviceError
from cua.models.loading import hub_weights_unavailable

EXIT_OK, EXIT_FAILED, EXIT_INTERRUPTED = 0, 1, 130
RUNS_DIR = Path("runs")
#: The model ``cua run`` uses when a run needs one and none is named (``--model``, else ``$CUA_MODEL``, else
#: this). Qwen2.5-VL-7B-Instruct: the smallest Qwen2.5-VL released under Apache-2.0 (the 3B is under the Qwen
#: Research License) with the agent results on its model card (AndroidControl-High EM 60.1, AITZ EM 81.9;
#: ScreenSpot 84.7 against the 3B's 55.5, Qwen2.5-VL report), trained with the ``mobile_use`` function that the
#: default codec speaks; about 16 GB of bfloat16 weights, one 24 GB GPU.
DEFAULT_MODEL = "Qwen/Qwen2.5-VL-7B-Instruct"
MODEL_ENV = "CUA_MODEL"
#: A task score at or above this counts as success for the exit code (task checkers return 0..1).
SUCCESS_THRESHOLD = 1.0
SAFETY_MODULE = "cua.devices.safety"
#: Policies built from a model and the model options (``--hierarchical``: both levels of one model).
MODEL_POLICIES = ("model", "hierarchical")


@dataclass(kw_only=True)
class RunOptions:
    """The options of ``cua run`` (see ``cua run --help``)."""

    goal: str | None = None
    device: str = "sandbox"
    policy: str | None = None
    task: str | None = None
    seed: int = 0
    max_steps: int | None = None
    time_budget: float | None = None
    step_timeout: float | None = None
    out: Path | None = None
    model_kwargs: dict[str, Any] = field(default_factory=dict)
    yes: bool = False
    unsafe: bool = False
    report: bool = True
    hierarchical: bool = False


def default_out_dir(task_id: str | None, goal: str | None) -> Path:
    """``runs/<UTC time>-<task id or goal slug>`` (a suffix keeps it new)."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    slug = task_id or re.sub(r"[^a-z0-9]+", "-", (goal or "").lower()).strip("-")[:40] or "episode"
    path = RUNS_DIR / f"{stamp}-{slug}"
    n = 1
    while path.exists():
        n += 1
        path = RUNS_DIR / f"{stamp}-{slug}-{n}"
    return path


def task_ids_for(device_kind: str | None = None) -> list[str]:
    """Registered task ids (built-in task modules loaded first), optionally only those for ``device_kind``."""
    from cua import task as task_mod

    task_mod.load_tasks()
    return sorted(t for t, cls in task_mod.TASKS.items() if device_kind is None or cls.device_kind == device_kind)


def resolve_policy_spec(options: RunOptions) -> str:
    """The policy spec: ``--policy``, else ``model`` with ``--model``, else ``oracle`` with ``--task``, else
    ``model`` (with the default model, see :func:`resolve_model`); ``--hierarchical`` makes a model policy
    ``hierarchical`` (:mod:`cua.policies.hierarchical`).

    A bare path to an existing file means ``script:PATH``. ConfigError on conflicting choices.
    """
    from cua import policy as policy_mod

    spec = options.policy
    if options.hierarchical:
        name, _, arg = (spec or "model").partition(":")
        if name not in MODEL_POLICIES:
            raise ConfigError(f"--hierarchical runs a model's two levels; it does not apply to --policy {spec}")
        return "hierarchical" + (f":{arg}" if arg else "")
    if spec is None:
        return "oracle" if options.task is not None and "model" not in options.model_kwargs else "model"
    name = spec.partition(":")[0]
    policy_mod._load_builtin()
    if name not in policy_mod.POLICIES and Path(spec).is_file():
        spec, name = f"script:{spec}", "script"
    if name not in policy_mod.POLICIES:
        raise ConfigError(f"unknown policy {spec!r}; valid: {', '.join(sorted(policy_mod.POLICIES))}")
    if options.model_kwargs and name not in MODEL_POLICIES:
        flags = ", ".join("--" + k.replace("_", "-") for k in options.model_kwargs)
        raise ConfigError(f"{flags} only apply to the model policy, not {spec!r}")
    return spec


def resolve_model(policy_spec: str, options: RunOptions) -> tuple[str, str]:
    """(model, where it came from) for the model policy: ``--model`` (or ``model:ID``), else ``$CUA_MODEL``,
    else :data:`DEFAULT_MODEL`."""
    chosen = options.model_kwargs.get("model") or policy_spec.partition(":")[2]
    if chosen:
        return chosen, "--model"
    env = os.environ.get(MODEL_ENV, "").strip()
    if env:
        return env, f"from ${MODEL_ENV}"
    return DEFAULT_MODEL, f"the default; change it with --model or ${MODEL_ENV}"


def check_weights(model: str, source: str, cause: str | None = None) -> None:
    """ConfigError naming ``model`` and the ways out when its weights cannot be had here (a hub id neither in
    the Hugging Face cache nor downloadable); ``cause``: a load that already failed for that reason."""
    if model.startswith("openai:") or not (cause or hub_weights_unavailable(model)):
        return
    why = cause or "it is not in the Hugging Face cache (HF_HOME) and downloads are off (HF_HUB_OFFLINE)"
    raise ConfigError(
        f"the weights of model {model} ({source}) cannot be had here: {why}. Ways out:\n"
        "  --model PATH                                 a checkpoint folder on this machine\n"
        "  --model openai:NAME --base-url URL           a model served elsewhere (vLLM, SGLang, ...)\n"
        "  --device sandbox --task ID --policy oracle   the sandbox phone's scripted expert, no model\n"
        f"  {MODEL_ENV}=ID_OR_PATH                         another default model")


def resolve_task(options: RunOptions) -> tuple[Any, str]:
    """(task or None, goal). ConfigError when both or neither of goal text and --task are given."""
    if options.task is not None:
        if options.goal:
            raise ConfigError("give either --task (it supplies the goal) or a goal text, not both")
        from cua.task import get_task

        task = get_task(options.task).from_seed(options.seed)
        return task, task.goal
    if not options.goal:
        raise ConfigError('give a goal text (cua run "open settings") or --task ID (see `cua tasks`)')
    return None, options.goal


def wrap_safety(device: Any, options: RunOptions, console: Console, progress: Any = None) -> Any:
    """Wrap ``device`` in the safety gate unless ``--unsafe`` (when cua.devices.safety exists).

    ``progress`` (a rich Progress) is paused while the terminal asks for a confirmation.
    """
    if options.unsafe:
        return device
    try:
        safety = importlib.import_module(SAFETY_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name == SAFETY_MODULE:
            return device
        raise
    return safety.SafetyGate(device, policy=None, confirm=make_confirm(options.yes, console, progress))


def make_confirm(yes: bool, console: Console, progress: Any = None) -> Callable[..., bool] | None:
    """--yes: approve every confirm-class action; on a terminal: ask; otherwise None (the gate denies)."""
    if yes:
        return lambda action: True
    if not sys.stdin.isatty():
        return None

    def confirm(action: Any) -> bool:
        from rich.prompt import Confirm

        what = action.describe() if hasattr(action, "describe") else str(action)
        if progress is not None:
            progress.stop()
        try:
            return Confirm.ask(f"[yellow]safety gate:[/] allow {escape(what)}?", console=console, default=False)
        finally:
            if progress is not None:
                progress.start()

    return confirm


def execute_run(options: RunOptions, console: Console) -> int:
    """Run one episode as ``cua run`` does and return the exit code (ConfigError propagates)."""
    from cua.devices import make_device, parse_spec
    from cua.policy import make_policy

    parse_spec(options.device)
    task, goal = resolve_task(options)
    policy_spec = resolve_policy_spec(options)
    model_kwargs = dict(options.model_kwargs)
    model = None
    if policy_spec.partition(":")[0] in MODEL_POLICIES:
        model, source = resolve_model(policy_spec, options)
        model_kwargs["model"] = model
        console.print(f"[bold]model:[/] {escape(model)} [dim]({escape(source)})[/]", soft_wrap=True)
        check_weights(model, source)
    out_dir = options.out or default_out_dir(getattr(task, "id", None), goal)
    try:
        device = make_device(options.device)
    except DeviceError as exc:
        console.print(f"[bold red]device error:[/] {escape(f'{type(exc).__name__}: {exc}')}")
        return EXIT_FAILED
    try:
        progress = _progress(console)
        device = wrap_safety(device, options, console, progress)
        try:
            policy = make_policy(policy_spec, task=task, device=device, **model_kwargs)
        except ConfigError as exc:
            if model is not None and hub_weights_unavailable(model, offline=True):  # the download failed
                check_weights(model, source, cause=str(exc))
            raise
        traj = _run_with_progress(progress, device, policy, goal, task, options, out_dir, console)
    except KeyboardInterrupt:
        console.print(f"[yellow]interrupted[/]; the steps so far are in {escape(str(out_dir))}")
        return EXIT_INTERRUPTED
    finally:
        device.close()
    report_path = None
    if options.report:
        from cua.report import write_report

        report_path = write_report(traj)
    _print_summary(traj, report_path, console)
    return exit_code(traj)


def exit_code(traj: Any) -> int:
    """0 = succeeded (or no checker and no infrastructure error), 1 = failed or infrastructure error."""
    if traj.status in ("infra_error", "crashed"):
        return EXIT_FAILED
    if traj.success is None:
        return EXIT_OK
    return EXIT_OK if traj.success >= SUCCESS_THRESHOLD else EXIT_FAILED


def _progress(console: Console) -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (SpinnerColumn(), TextColumn("step"), MofNCompleteColumn(), BarColumn(bar_width=20),
               TimeElapsedColumn(), TextColumn("{task.description}"))
    return Progress(*columns, console=console, transient=True)


def _run_with_progress(
    progress: Any, device: Any, policy: Any, goal: str, task: Any, options: RunOptions, out_dir: Path, console: Console,
) -> Any:
    from cua.agent import DEFAULT_MAX_STEPS, run_episode, run_task

    max_steps = options.max_steps or (task.max_steps if task is not None else DEFAULT_MAX_STEPS)

    console.print(f"[bold]goal:[/] {escape(goal)}")
    console.print(escape(f"device {options.device} | policy {getattr(policy, 'name', '?')} | "
                         f"max {max_steps} steps | out {out_dir}"), style="dim")
    with progress:
        bar = progress.add_task("starting", total=max_steps)

        def on_step(step: Any, traj: Any) -> None:
            progress.update(bar, advance=1, description=_step_text(step))
            progress.console.print(f"  {step.index + 1:>3}  {_step_text(step)}", highlight=False)

        kwargs: dict[str, Any] = dict(max_steps=max_steps, time_budget=options.time_budget,
                                      step_timeout=options.step_timeout, out_dir=out_dir, on_step=on_step)
        if task is not None:
            return run_task(device, policy, task, seed=options.seed, **kwargs)
        return run_episode(device, policy, goal, **kwargs)


def _step_text(step: Any) -> str:
    took = sum(step.timings.values())
    what = step.action.describe() if step.action is not None else "(no action)"
    if step.error_kind:
        return f"[red]{escape(what)} -> {step.error_kind}: {escape((step.error or '')[:120])}[/] [dim]{took:.2f}s[/]"
    return f"{escape(what)} [dim]{took:.2f}s[/]"


def _print_summary(traj: Any, report_path: Path | None, console: Console) -> None:
    if traj.success is None:
        verdict = "[yellow]no checker[/]"
    else:
        ok = traj.success >= SUCCESS_THRESHOLD
        verdict = f"[{'green' if ok else 'red'}]{'success' if ok else 'failure'} ({traj.success:g})[/]"
    rows = [
        ("result", verdict),
        ("ended by", escape(traj.status + (f" ({traj.error})" if traj.error else ""))),
        ("steps", f"{len(traj.steps)} ({traj.invalid_steps} invalid)"),
        ("time", f"{traj.duration_s or 0.0:.1f} s"),
    ]
    if traj.answer is not None:
        rows.append(("answer", escape(traj.answer)))
    rows.append(("trajectory", escape(str(traj.out_dir))))
    if report_path is not None:
        rows.append(("report", escape(str(report_path))))
    for label, value in rows:
        console.print(f"[bold]{label:<11}[/]{value}", soft_wrap=True)
