"""``cua eval sandbox | miniwob | compare``: live-episode suites on a device pool, and run comparison.

One function per suite (``sandbox``, ``miniwob``), decorated with :func:`live_command` (the options every live
suite shares: workers, policy/model/sampler, seeds, budgets, retries); each resolves its task ids and calls
:func:`play_suite`, which builds the :class:`~cua.eval.live.Job` list and :func:`run_suite` s it: play
(:func:`cua.eval.live.run_live`), write ``report.html``, print the per-task table. Another live suite adds
its command the same way (and ``register(app)`` in :mod:`cua.eval.cli`).
Policies: ``--policy oracle`` (the sandbox expert), ``--policy script:PATH`` (a fresh replay per episode),
``--model M`` (one model in the parent, shared by the workers' episodes; ``--samples K --judge J`` for GTA1
test-time scaling). Exit 2 on bad usage; 1 when an episode crashed.
"""

from __future__ import annotations

import functools
import inspect
import time
import typing
from pathlib import Path
from typing import Any, Callable, Optional

import typer
from rich.console import Console
from rich.markup import escape

from cua.errors import ConfigError
from cua.eval.live import DEFAULT_CALL_TIMEOUT, DEFAULT_RETRIES

console = Console(highlight=False)
EXIT_USAGE = 2

#: Options of the model policy forwarded to ``make_policy("model", ...)`` (as ``cua run``'s MODEL_OPTIONS).
MODEL_KEYS = ("model", "codec", "samples", "judge", "base_url", "max_new_tokens", "device_map", "dtype")

#: Options every live suite takes: (type, typer option). :func:`live_command` adds them to a suite command.
LIVE: dict[str, tuple[Any, Any]] = {
    "workers": (int, typer.Option(1, "--workers", "-w", min=1, help="Parallel devices (worker processes).")),
    "policy": (Optional[str], typer.Option(None, "--policy", "-p", help="oracle, script:PATH, model (default with --model), or hierarchical (Hi-Agent's two levels of --model).")),
    "model": (Optional[str], typer.Option(None, "--model", "-m", help="Model id, local folder or openai:NAME.")),
    "codec": (Optional[str], typer.Option(None, "--codec", help="Model I/O codec (default: the model family's).")),
    "samples": (Optional[int], typer.Option(None, "--samples", min=1, help="Candidates per step (GTA1 judge sampler).")),
    "judge": (Optional[str], typer.Option(None, "--judge", help="Judge model for --samples > 1 (default: the policy model).")),
    "base_url": (Optional[str], typer.Option(None, "--base-url", help="OpenAI-compatible endpoint for openai:NAME.")),
    "max_new_tokens": (Optional[int], typer.Option(None, "--max-new-tokens", min=1, help="Generation length per step.")),
    "device_map": (Optional[str], typer.Option(None, "--device-map", help="transformers device_map (e.g. auto, cpu).")),
    "dtype": (Optional[str], typer.Option(None, "--dtype", help="Model dtype (bfloat16, float32, ...).")),
    "out": (Optional[Path], typer.Option(None, "--out", "-o", help="Run folder (re-use it to resume).")),
    "seeds": (int, typer.Option(3, "--seeds", min=1, help="Seeds per task (held-out: from 1000000).")),
    "seed_start": (Optional[int], typer.Option(None, "--seed-start", help="First seed (default: 1000000).")),
    "max_steps": (Optional[int], typer.Option(None, "--max-steps", min=1, help="Step budget (default: each task's).")),
    "step_timeout": (Optional[float], typer.Option(None, "--step-timeout", min=0.0, help="Timeout of each device call (s).")),
    "call_timeout": (float, typer.Option(DEFAULT_CALL_TIMEOUT, "--call-timeout", min=1.0, help="A worker call past this kills the worker (s).")),
    "retries": (int, typer.Option(DEFAULT_RETRIES, "--retries", min=0, help="Retries of an episode after an infrastructure error.")),
    "backend": (str, typer.Option("process", "--backend", help="Pool backend: process or ray.")),
}


def live_command(fn: Callable[..., None]) -> Callable[..., None]:
    """Add the :data:`LIVE` options to a suite command; ``fn`` gets them as one dict, its ``live`` argument."""
    hints = typing.get_type_hints(fn)
    own = [p.replace(annotation=hints[p.name]) for p in inspect.signature(fn).parameters.values() if p.name != "live"]
    extra = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=option, annotation=typ)
             for name, (typ, option) in LIVE.items()]

    @functools.wraps(fn)
    def command(**kwargs: Any) -> None:
        live = {name: kwargs.pop(name) for name in LIVE}
        fn(**kwargs, live=live)

    command.__signature__ = inspect.Signature(own + extra)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in own + extra}
    return command


def register(app: typer.Typer) -> None:
    """Add the live commands to ``cua eval``."""
    app.command("sandbox")(sandbox)
    app.command("miniwob")(miniwob)
    app.command("button-chain")(button_chain)
    app.command("compare")(compare)


def resolve_policy(policy: Optional[str], model_kwargs: dict[str, Any]) -> str:
    """The policy spec, resolved and checked as ``cua run`` does (a script file is read now)."""
    from cua.cli_run import RunOptions, resolve_policy_spec
    from cua.policy import make_policy

    spec = resolve_policy_spec(RunOptions(policy=policy, model_kwargs=model_kwargs))
    if spec.partition(":")[0] == "script":
        make_policy(spec)  # a missing or malformed script fails before any worker starts
    return spec


def policy_factory(spec: str, model_kwargs: dict[str, Any]) -> Callable[[Any], Any]:
    """Task -> policy. A model is built once here and shared (:class:`SharedPolicy`); others per episode."""
    from cua.eval.live import SharedPolicy
    from cua.policy import make_policy

    from cua.cli_run import MODEL_POLICIES

    if spec.partition(":")[0] in MODEL_POLICIES:  # model, hierarchical (both levels of one model)
        shared = SharedPolicy(make_policy(spec, **model_kwargs))
        return lambda task: shared
    return lambda task: make_policy(spec, task=task)


def run_suite(suite: str, jobs: list[Any], *, policy: Optional[str], model_kwargs: dict[str, Any],
              options: Any, out: Optional[Path], meta: dict[str, Any]) -> None:
    """Play ``jobs``, write the report, print the table; exits 2 on a ConfigError."""
    from cua.eval.live import check_run_settings, run_live
    from cua.eval.live_report import write_live_report

    out = out or Path("runs") / f"eval-{suite}-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}"
    try:
        spec = resolve_policy(policy, model_kwargs)
        check_run_settings(out, {"suite": suite, "policy": spec, **model_kwargs, "device": options.device,
                                 "device_options": options.device_options, "max_steps": options.max_steps,
                                 "step_timeout": options.step_timeout})
        factory = policy_factory(spec, model_kwargs)
        console.print(escape(f"{suite}: {len(jobs)} episodes | policy {spec} | device {options.device} | "
                             f"{options.workers} worker(s) | out {out}"), style="dim")
        start = time.monotonic()

        def on_record(r: dict[str, Any]) -> None:
            verdict = "infra error" if r["infra_error"] else ("success" if r["success"] else "failure")
            console.print(escape(f"  {r['task']} seed {r['seed']}: {verdict} ({r['steps']} steps, {r['seconds']:.1f} s)"))

        records = run_live(jobs, factory, out_dir=out, options=options, on_record=on_record)
        wanted = {j.id for j in jobs}
        records = [r for r in records if r["id"] in wanted]
        meta = {**meta, "suite": suite, "policy": spec, "device": options.device, "workers": options.workers,
                "play_seconds": round(time.monotonic() - start, 2),
                **{k: v for k, v in model_kwargs.items() if v is not None}}
        metrics = write_live_report(out, records, meta)
    except ConfigError as exc:
        console.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(EXIT_USAGE) from None
    _print_table(metrics)
    console.print(f"results: {out}/results.jsonl  report: {out}/report.html  "
                  f"(episodes played in {meta['play_seconds']:.1f} s this session)")


def _print_table(metrics: dict[str, Any]) -> None:
    from rich.table import Table

    def pct(v: Any) -> str:
        return "-" if v is None else f"{100 * v:.1f}%"

    table = Table("task", "episodes", "success", "mean reward", "invalid", "infra")
    for name, g in list(metrics["per_task"].items()) + [("all", metrics)]:
        table.add_row(escape(name), str(g["episodes"]), pct(g["success_rate"]),
                      "-" if g["mean_reward"] is None else f"{g['mean_reward']:.3f}",
                      pct(g["invalid_action_rate"]), pct(g["infra_failure_rate"]))
    console.print(table)


def _split(text: Optional[str]) -> Optional[list[str]]:
    return [t.strip() for t in text.split(",") if t.strip()] if text else None


def play_suite(suite: str, task_ids: Callable[[], list[str]], live: dict[str, Any], *, device: str,
               device_options: Optional[dict[str, Any]] = None, use_task_time_limit: bool = False,
               meta: Optional[dict[str, Any]] = None) -> None:
    """Resolve tasks and seeds (exit 2 on bad input), build the jobs and :func:`run_suite` them."""
    from cua.eval.live import HELD_OUT_SEED_START, Job, LiveOptions, held_out_seeds

    try:
        ids = task_ids()
        start = HELD_OUT_SEED_START if live["seed_start"] is None else live["seed_start"]
        seed_list = held_out_seeds(live["seeds"], start)
    except ConfigError as exc:
        console.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(EXIT_USAGE) from None
    options = LiveOptions(device=device, workers=live["workers"], device_options=dict(device_options or {}),
                          max_steps=live["max_steps"], step_timeout=live["step_timeout"],
                          call_timeout=live["call_timeout"], retries=live["retries"], backend=live["backend"],
                          use_task_time_limit=use_task_time_limit)
    model_kwargs = {k: live[k] for k in MODEL_KEYS if live.get(k) is not None}
    jobs = [Job(suite, t, s) for t in ids for s in seed_list]
    run_suite(suite, jobs, policy=live["policy"], model_kwargs=model_kwargs, options=options, out=live["out"],
              meta={"seeds": seed_list, "tasks": ids, **(meta or {})})


@live_command
def sandbox(
    tasks: Optional[str] = typer.Option(None, "--tasks", help="Comma-separated task ids (default: every sandbox template)."),
    device: str = typer.Option("sandbox", "--device", "-d",
                               help="sandbox, sandbox+web or sandbox+desktop[:DISPLAY]: the sandbox phone's screen."),
    live: Optional[dict[str, Any]] = None,
) -> None:
    """Every sandbox template on held-out seeds, through a pool of sandbox phones (web or desktop screens)."""

    def task_ids() -> list[str]:
        from cua.cli_run import task_ids_for

        known = task_ids_for("sandbox")
        chosen = _split(tasks) or known
        unknown = [t for t in chosen if t not in known]
        if unknown:
            raise ConfigError(f"unknown sandbox task(s) {unknown}; known: {', '.join(known)}")
        return chosen

    play_suite("sandbox", task_ids, live or {}, device=device)


@live_command
def miniwob(
    tasks: Optional[str] = typer.Option(None, "--tasks", help="Task list (synapse48, all) or comma-separated pages."),
    device: str = typer.Option("web:about:blank", "--device", "-d", help="A web device spec (the page is opened on it)."),
    viewport: str = typer.Option("160x210@2", "--viewport", help="Web viewport: the 160x210 CSS px task area at a scale."),
    live: Optional[dict[str, Any]] = None,
) -> None:
    """MiniWoB++ pages (PyPI miniwob) on the web backend: the page's utterance is the goal, its reward decides."""

    def task_ids() -> list[str]:
        from cua.eval import miniwob as mw

        return [mw.task_id(n) for n in mw.resolve_tasks(tasks)]

    play_suite("miniwob", task_ids, live or {}, device=device, device_options={"viewport": viewport},
               use_task_time_limit=True, meta={"task_list": tasks or "synapse48"})


@live_command
def button_chain(
    tasks: Optional[str] = typer.Option(None, "--tasks", help="Comma-separated ids (default button_chain.2)."),
    live: Optional[dict[str, Any]] = None,
) -> None:
    """button_chain screens (issue 12's learning-proof tasks) on the web backend at 224x224; grid8 models."""
    from cua.eval import button_chain as bc
    from cua.train import grid_codec  # noqa: F401  (registers the grid8 codec the proof's models answer in)

    play_suite("button_chain", lambda: bc.resolve_tasks(tasks), live or {}, device=bc.DEVICE,
               device_options={"viewport": bc.VIEWPORT})


def compare(
    run_a: Path = typer.Argument(..., help="Baseline run folder."),
    run_b: Path = typer.Argument(..., help="Run folder compared against it."),
    resamples: int = typer.Option(10_000, "--resamples", min=100, help="Bootstrap resamples."),
    confidence: float = typer.Option(0.95, "--confidence", help="Confidence level of the interval."),
    seed: int = typer.Option(0, "--seed", help="Bootstrap RNG seed."),
) -> None:
    """Per-task success deltas (B - A) and a paired bootstrap CI, episodes paired by (task, seed)."""
    from rich.table import Table

    from cua.eval.compare import compare as do_compare
    from cua.eval.compare import load_run

    try:
        result = do_compare(load_run(run_a), load_run(run_b), resamples=resamples, confidence=confidence, seed=seed)
    except ConfigError as exc:
        console.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(EXIT_USAGE) from None
    table = Table("task", "pairs", "A", "B", "B - A")
    for task, row in result.per_task.items():
        table.add_row(escape(task), str(row["n"]), f"{100 * row['a']:.1f}%", f"{100 * row['b']:.1f}%",
                      f"{100 * row['delta']:+.1f}")
    console.print(table)
    lo, hi = result.ci
    console.print(f"success A {100 * result.a:.1f}%  B {100 * result.b:.1f}%  B - A {100 * result.delta:+.1f} points "
                  f"({100 * result.confidence:g}% CI {100 * lo:+.1f} .. {100 * hi:+.1f}, {result.n_pairs} paired episodes)")
    if result.only_a or result.only_b:
        console.print(f"unpaired episodes left out: {result.only_a} only in A, {result.only_b} only in B", style="dim")
