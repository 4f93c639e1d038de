"""``cua eval androidworld`` and ``cua eval osworld``: the two benchmarks' own suites with a cua policy.

Both need software that cannot run on a plain machine (an Android emulator with AndroidWorld's apps; an
OSWorld VM provider): docs/evaluation.md has the exact install steps. Mounted on ``cua eval`` by
:func:`register`. Exit 2 on bad input or a missing install.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from pathlib import Path
from typing import Any, Optional

import typer
from rich.markup import escape

from cua.errors import ConfigError, CuaError
from cua.eval.cli import EXIT_USAGE, console  # cli.py mounts this module after defining them


def _make_policy(policy: str, **options: Any) -> Any:
    """``make_policy(policy, ...)`` with the options given on the command line (``--samples K --judge J``
    wrap a model policy in the GTA1 judge sampler, as in every suite)."""
    from cua.policy import make_policy

    return make_policy(policy, **{k: v for k, v in options.items() if v is not None})


SAMPLES = typer.Option(None, "--samples", min=1, help="Candidates per step (GTA1 judge sampler).")
JUDGE = typer.Option(None, "--judge", help="Judge model for --samples > 1 (default: the policy model).")
BASE_URL = typer.Option(None, "--base-url", help="OpenAI-compatible server for --model openai:NAME.")


def console_port(device: str) -> int:
    """The emulator console port of a spec ``emulator-5554`` / ``android:emulator-5554`` (AndroidWorld talks
    to the emulator through its console and gRPC ports, not through a serial)."""
    match = re.fullmatch(r"(?:android:)?emulator-(\d+)", device)
    if not match:
        raise ConfigError(f"AndroidWorld runs on an emulator: --device emulator-PORT (e.g. emulator-5554), got {device!r}")
    return int(match.group(1))


def default_adb() -> str:
    """adb on PATH, else the Android SDK's (the places AndroidWorld's run.py looks)."""
    found = shutil.which("adb")
    for path in (found, "~/Android/Sdk/platform-tools/adb", "~/Library/Android/sdk/platform-tools/adb"):
        if path and os.path.isfile(os.path.expanduser(path)):
            return os.path.expanduser(path)
    return "adb"


def androidworld(
    device: str = typer.Option("emulator-5554", "--device", "-d", help="The emulator (started with -grpc 8554)."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="Model id or local folder (policy 'model')."),
    codec: Optional[str] = typer.Option(None, "--codec", help="Model I/O codec (default: the model family's)."),
    policy: str = typer.Option("model", "--policy", help="Policy spec (model, script:PATH, ...)."),
    family: str = typer.Option("android_world", "--family", help="Suite family: android_world (116 tasks), "
                               "android, miniwob, miniwob_subset, information_retrieval."),
    tasks: Optional[str] = typer.Option(None, "--tasks", help="Comma-separated task names (default: all)."),
    n_task_combinations: int = typer.Option(1, "--n-task-combinations", min=1, help="Instances per task."),
    task_seed: int = typer.Option(30, "--task-seed", help="Seed of the task parameters (run.py's default 30)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Checkpoint folder (re-use it to resume)."),
    adb_path: Optional[str] = typer.Option(None, "--adb-path", help="adb binary (default: PATH, then the SDK)."),
    grpc_port: int = typer.Option(8554, "--grpc-port", help="The emulator's gRPC port."),
    emulator_setup: bool = typer.Option(False, "--perform-emulator-setup",
                                        help="Install AndroidWorld's apps first (once per emulator)."),
    max_new_tokens: Optional[int] = typer.Option(None, "--max-new-tokens", min=1, help="Generation length per step."),
    samples: Optional[int] = SAMPLES, judge: Optional[str] = JUDGE, base_url: Optional[str] = BASE_URL,
) -> None:
    """AndroidWorld's suite (their task registry, seeds and success checks) with a cua policy on an emulator."""
    try:
        port = console_port(device)
        agent_policy = _make_policy(policy, model=model, codec=codec, max_new_tokens=max_new_tokens,
                                    samples=samples, judge=judge, base_url=base_url)
        from cua.eval.androidworld import run_suite

        out = out or Path("runs") / f"androidworld-{time.strftime('%Y%m%d-%H%M%S')}"
        episodes = run_suite(
            agent_policy, console_port=port, adb_path=adb_path or default_adb(), suite_family=family,
            tasks=[t.strip() for t in tasks.split(",") if t.strip()] if tasks else None,
            n_task_combinations=n_task_combinations, task_seed=task_seed, checkpoint_dir=str(out),
            emulator_setup=emulator_setup, grpc_port=grpc_port,
        )
    except CuaError as exc:
        console.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(EXIT_USAGE) from None
    summary = androidworld_summary(episodes)
    (Path(out) / "cua_summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    console.print(f"episodes={summary['episodes']} success_rate={summary['success_rate']:.3f}  results: {out}")


def androidworld_summary(episodes: list[dict[str, Any]]) -> dict[str, Any]:
    """Success rate overall and per task template from AndroidWorld's episode metadata (their
    ``is_successful`` is a float in [0, 1]; an episode that raised has NaN and counts as a failure)."""
    per_task: dict[str, list[float]] = {}
    for ep in episodes:
        value = float(ep.get("is_successful", 0.0) or 0.0)
        per_task.setdefault(str(ep.get("task_template", "?")), []).append(0.0 if value != value else value)
    scores = [v for vs in per_task.values() for v in vs]
    return {"episodes": len(scores), "success_rate": sum(scores) / len(scores) if scores else 0.0,
            "per_task": {k: sum(v) / len(v) for k, v in sorted(per_task.items())}}


def osworld(
    test_meta: Path = typer.Option(..., "--test-meta", help="OSWorld test list (evaluation_examples/test_all.json)."),
    examples: Path = typer.Option(..., "--examples", help="OSWorld examples folder (evaluation_examples/examples)."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="Model id or local folder (policy 'model')."),
    codec: Optional[str] = typer.Option(None, "--codec", help="Model I/O codec (default: the model family's)."),
    policy: str = typer.Option("model", "--policy", help="Policy spec (model, script:PATH, ...)."),
    provider: str = typer.Option("vmware", "--provider", help="OSWorld VM provider: vmware, virtualbox, docker, aws, ..."),
    path_to_vm: Optional[str] = typer.Option(None, "--path-to-vm", help="The VM image (.vmx) where the provider needs one."),
    action_space: str = typer.Option("pyautogui", "--action-space", help="pyautogui (code from cua's templates) or computer_13."),
    domain: Optional[str] = typer.Option(None, "--domain", help="Run one domain of the test list only."),
    max_steps: int = typer.Option(15, "--max-steps", min=1, help="Steps per example (OSWorld's default 15)."),
    width: int = typer.Option(1920, "--width", help="VM screen width."),
    height: int = typer.Option(1080, "--height", help="VM screen height."),
    settle: float = typer.Option(60.0, "--settle", min=0, help="Seconds to wait after each reset (OSWorld: 60)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Results folder (re-use it to resume)."),
    max_new_tokens: Optional[int] = typer.Option(None, "--max-new-tokens", min=1, help="Generation length per step."),
    samples: Optional[int] = SAMPLES, judge: Optional[str] = JUDGE, base_url: Optional[str] = BASE_URL,
) -> None:
    """OSWorld's tasks (their task JSON, VM and evaluators) with a cua policy as the agent."""
    try:
        from cua.eval.osworld import load_tasks, run_suite

        load_tasks(test_meta, examples, domain=domain)  # bad task files fail before a VM starts
        agent_policy = _make_policy(policy, model=model, codec=codec, max_new_tokens=max_new_tokens,
                                    samples=samples, judge=judge, base_url=base_url)
        out = out or Path("runs") / f"osworld-{time.strftime('%Y%m%d-%H%M%S')}"
        summary = run_suite(agent_policy, test_meta=test_meta, examples_dir=examples, out_dir=out,
                            provider_name=provider, path_to_vm=path_to_vm, action_space=action_space,
                            screen_size=(width, height), domain=domain, max_steps=max_steps, settle_seconds=settle)
    except CuaError as exc:
        console.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(EXIT_USAGE) from None
    (Path(out) / "cua_summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    console.print(f"episodes={summary['episodes']} success_rate={summary['success_rate']:.3f}  results: {out}")


def register(app: typer.Typer) -> None:
    """Add ``androidworld`` and ``osworld`` to the ``cua eval`` app."""
    app.command("androidworld")(androidworld)
    app.command("osworld")(osworld)
