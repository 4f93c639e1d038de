"""``cua eval sandbox | miniwob | compare``: live-episode suites on a device pool, and run comparison.

One function per suite (``sandbox``, ``miniwob``); each builds its :class:`~cua.eval.live.Job` list and calls
:func:`run_suite`, which plays them (:func:`cua.eval.live.run_live`), writes ``report.html`` and prints the
per-task table. Other suites add their own command the same way (``register(app)`` in :mod:`cua.eval.cli`).
Policies: ``--policy oracle`` (the sandbox expert), ``--policy script:PATH`` (a fresh replay per episode),
``--model M`` (one model in the parent, shared by the workers' episodes; ``--samples K --judge J`` for GTA1
test-time scaling). Exit 2 on bad usage; 1 when an episode crashed.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable, Optional

import typer
from rich.console import Console
from rich.markup import escape

from cua.errors import ConfigError

console = Console(highlight=False)
EXIT_USAGE = 2

#: Options of the model policy forwarded to ``make_policy("model", ...)`` (as ``cua run``'s MODEL_OPTIONS).
MODEL_KEYS = ("model", "codec", "samples", "judge", "base_url", "max_new_tokens", "device_map", "dtype")

LIVE = dict(
    workers=typer.Option(1, "--workers", "-w", min=1, help="Parallel devices (worker processes)."),
    policy=typer.Option(None, "--policy", "-p", help="oracle, script:PATH, or model (default with --model)."),
    model=typer.Option(None, "--model", "-m", help="Model id, local folder or openai:NAME."),
    codec=typer.Option(None, "--codec", help="Model I/O codec (default: the model family's)."),
    samples=typer.Option(None, "--samples", min=1, help="Candidates per step (GTA1 judge sampler)."),
    judge=typer.Option(None, "--judge", help="Judge model for --samples > 1 (default: the policy model)."),
    base_url=typer.Option(None, "--base-url", help="OpenAI-compatible endpoint for openai:NAME."),
    max_new_tokens=typer.Option(None, "--max-new-tokens", min=1, help="Generation length per step."),
    device_map=typer.Option(None, "--device-map", help="transformers device_map (e.g. auto, cpu)."),
    dtype=typer.Option(None, "--dtype", help="Model dtype (bfloat16, float32, ...)."),
    out=typer.Option(None, "--out", "-o", help="Run folder (re-use it to resume)."),
    max_steps=typer.Option(None, "--max-steps", min=1, help="Step budget (default: each task's)."),
    step_timeout=typer.Option(None, "--step-timeout", min=0.0, help="Timeout of each device call (s)."),
    call_timeout=typer.Option(120.0, "--call-timeout", min=1.0, help="A worker call past this kills the worker (s)."),
    retries=typer.Option(2, "--retries", min=0, help="Retries of an episode after an infrastructure error."),
    backend=typer.Option("process", "--backend", help="Pool backend: process or ray."),
)


def register(app: typer.Typer) -> None:
    """Add the live commands to ``cua eval``."""
    app.command("sandbox")(sandbox)
    app.command("miniwob")(miniwob)
    app.command("compare")(compare)


def policy_factory(policy: Optional[str], model_kwargs: dict[str, Any]) -> tuple[Callable[[Any], Any], str]:
    """(factory task -> policy, spec). A model is built once and shared; oracle and scripts per episode."""
    from cua.eval.live import SharedPolicy
    from cua.policy import make_policy

    spec = policy or ("model" if model_kwargs.get("model") else None)
    if spec is None:
        raise ConfigError("choose a policy: --policy oracle|script:PATH, or --model ID_OR_PATH")
    name = spec.partition(":")[0]
    if name != "model" and model_kwargs:
        flags = ", ".join("--" + k.replace("_", "-") for k in model_kwargs)
        raise ConfigError(f"{flags} only apply to a model policy, not {spec!r}")
    if name == "model":
        shared = SharedPolicy(make_policy(spec, **model_kwargs))
        return (lambda task: shared), spec
    if name == "script":
        make_policy(spec)  # validate the script file before any worker starts
    return (lambda task: make_policy(spec, task=task)), spec


def run_suite(suite: str, jobs: list[Any], *, policy: Optional[str], model_kwargs: dict[str, Any],
              options: Any, out: Optional[Path], meta: dict[str, Any]) -> None:
    """Play ``jobs``, write the report, print the table; exits 2 on a ConfigError."""
    from cua.eval.live import run_live
    from cua.eval.live_report import write_live_report

    out = out or Path("runs") / f"eval-{suite}-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}"
    try:
        factory, spec = policy_factory(policy, model_kwargs)
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
                "wall_seconds": round(time.monotonic() - start, 2),
                **{k: v for k, v in model_kwargs.items() if v is not None}}
        metrics = write_live_report(out, records, meta)
    except ConfigError as exc:
        console.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(EXIT_USAGE) from None
    _print_table(metrics)
    console.print(f"results: {out}/results.jsonl  report: {out}/report.html  "
                  f"({meta['wall_seconds']:.1f} s this session)")


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


def _options(device: str, workers: int, **kw: Any) -> Any:
    from cua.eval.live import LiveOptions

    return LiveOptions(device=device, workers=workers, **kw)


def _split(text: Optional[str]) -> Optional[list[str]]:
    return [t.strip() for t in text.split(",") if t.strip()] if text else None


def sandbox(
    tasks: Optional[str] = typer.Option(None, "--tasks", help="Comma-separated task ids (default: every sandbox template)."),
    seeds: int = typer.Option(3, "--seeds", min=1, help="Held-out seeds per template."),
    seed_start: Optional[int] = typer.Option(None, "--seed-start", help="First seed (default: the held-out range, 1000000)."),
    device: str = typer.Option("sandbox", "--device", "-d", help="A device spec whose screen is the sandbox phone."),
    workers: int = LIVE["workers"], policy: Optional[str] = LIVE["policy"], model: Optional[str] = LIVE["model"],
    codec: Optional[str] = LIVE["codec"], samples: Optional[int] = LIVE["samples"], judge: Optional[str] = LIVE["judge"],
    base_url: Optional[str] = LIVE["base_url"], max_new_tokens: Optional[int] = LIVE["max_new_tokens"],
    device_map: Optional[str] = LIVE["device_map"], dtype: Optional[str] = LIVE["dtype"],
    out: Optional[Path] = LIVE["out"], max_steps: Optional[int] = LIVE["max_steps"],
    step_timeout: Optional[float] = LIVE["step_timeout"], call_timeout: float = LIVE["call_timeout"],
    retries: int = LIVE["retries"], backend: str = LIVE["backend"],
) -> None:
    """Every sandbox template on held-out seeds, through a pool of sandbox phones."""
    from cua.cli_run import task_ids_for
    from cua.eval.live import HELD_OUT_SEED_START, Job, held_out_seeds

    model_kwargs = {k: v for k, v in locals().items() if k in MODEL_KEYS and v is not None}
    try:
        known = task_ids_for("sandbox")
        chosen = _split(tasks) or known
        unknown = [t for t in chosen if t not in known]
        if unknown:
            raise ConfigError(f"unknown sandbox task(s) {unknown}; known: {', '.join(known)}")
        seed_list = held_out_seeds(seeds, HELD_OUT_SEED_START if seed_start is None else seed_start)
    except ConfigError as exc:
        console.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(EXIT_USAGE) from None
    jobs = [Job("sandbox", t, s) for t in chosen for s in seed_list]
    options = _options(device, workers, max_steps=max_steps, step_timeout=step_timeout, call_timeout=call_timeout,
                       retries=retries, backend=backend)
    run_suite("sandbox", jobs, policy=policy, model_kwargs=model_kwargs, options=options, out=out,
              meta={"seeds": seed_list, "tasks": chosen})


def miniwob(
    tasks: Optional[str] = typer.Option(None, "--tasks", help="Task list (synapse48, all) or comma-separated pages."),
    seeds: int = typer.Option(3, "--seeds", min=1, help="Seeds per task."),
    seed_start: Optional[int] = typer.Option(None, "--seed-start", help="First seed (default 1000000)."),
    device: str = typer.Option("web:about:blank", "--device", "-d", help="A web device spec (the page is opened on it)."),
    viewport: str = typer.Option("160x210@2", "--viewport", help="Web viewport: the benchmark's 160x210 CSS px task area at a scale."),
    workers: int = LIVE["workers"], policy: Optional[str] = LIVE["policy"], model: Optional[str] = LIVE["model"],
    codec: Optional[str] = LIVE["codec"], samples: Optional[int] = LIVE["samples"], judge: Optional[str] = LIVE["judge"],
    base_url: Optional[str] = LIVE["base_url"], max_new_tokens: Optional[int] = LIVE["max_new_tokens"],
    device_map: Optional[str] = LIVE["device_map"], dtype: Optional[str] = LIVE["dtype"],
    out: Optional[Path] = LIVE["out"], max_steps: Optional[int] = LIVE["max_steps"],
    step_timeout: Optional[float] = LIVE["step_timeout"], call_timeout: float = LIVE["call_timeout"],
    retries: int = LIVE["retries"], backend: str = LIVE["backend"],
) -> None:
    """MiniWoB++ pages (PyPI miniwob) on the web backend: the page's utterance is the goal, its reward decides."""
    from cua.eval.live import HELD_OUT_SEED_START, Job, held_out_seeds

    model_kwargs = {k: v for k, v in locals().items() if k in MODEL_KEYS and v is not None}
    try:
        from cua.eval import miniwob as mw

        names = mw.resolve_tasks(tasks)
        seed_list = held_out_seeds(seeds, HELD_OUT_SEED_START if seed_start is None else seed_start)
    except ConfigError as exc:
        console.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(EXIT_USAGE) from None
    jobs = [Job("miniwob", mw.task_id(n), s) for n in names for s in seed_list]
    options = _options(device, workers, device_options={"viewport": viewport}, max_steps=max_steps,
                       step_timeout=step_timeout, call_timeout=call_timeout, retries=retries, backend=backend,
                       use_task_time_limit=True)
    run_suite("miniwob", jobs, policy=policy, model_kwargs=model_kwargs, options=options, out=out,
              meta={"seeds": seed_list, "task_list": tasks or "synapse48", "tasks": names})


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
