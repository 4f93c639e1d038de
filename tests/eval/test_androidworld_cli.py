"""``cua eval androidworld``: argument checks, the install hint where android_world is not importable, the
suite summary. (The suite itself needs an emulator with AndroidWorld's apps: it cannot run here.)"""

from __future__ import annotations

import os
import subprocess
import sys

import androidworld_support  # noqa: F401  (AndroidWorld on sys.path, or skip)
import pytest
from typer.testing import CliRunner

from cua.cli import app
from cua.errors import ConfigError
from cua.eval.cli_benchmarks import androidworld_summary, console_port

runner = CliRunner()


def test_the_device_must_be_an_emulator() -> None:
    assert console_port("emulator-5554") == 5554 and console_port("android:emulator-5556") == 5556
    with pytest.raises(ConfigError):
        console_port("R58M123456")
    result = runner.invoke(app, ["eval", "androidworld", "--device", "192.168.1.5:5555", "--policy", "script:/dev/null"])
    assert result.exit_code == 2 and "emulator-PORT" in result.output


def test_a_missing_android_world_gives_the_install_steps() -> None:
    """Outside the tests android_world is not on sys.path here: the command says how to install it."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    if subprocess.run([sys.executable, "-c", "import android_world"], env=env, cwd="/", capture_output=True).returncode == 0:
        pytest.skip("android_world is installed on this machine: the command would look for an emulator")
    proc = subprocess.run([sys.executable, "-m", "cua", "eval", "androidworld", "--policy", "script:/dev/null"],
                          capture_output=True, text=True, timeout=120, env=env, cwd="/")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "docs/evaluation.md" in proc.stdout


def test_run_suite_rejects_unknown_families_before_touching_an_emulator() -> None:
    from cua.eval.androidworld import run_suite
    from cua.policy import make_policy

    with pytest.raises(ConfigError):
        run_suite(make_policy("script:/dev/null"), adb_path="adb", suite_family="ios_world", checkpoint_dir="x")


def test_summary_reads_androidworlds_episode_metadata() -> None:
    episodes = [{"task_template": "ContactsAddContact", "is_successful": 1.0},
                {"task_template": "ContactsAddContact", "is_successful": 0.0},
                {"task_template": "ClockStopWatchRunning", "is_successful": float("nan")}]  # raised: a failure
    summary = androidworld_summary(episodes)
    assert summary == {"episodes": 3, "success_rate": pytest.approx(1 / 3),
                       "per_task": {"ClockStopWatchRunning": 0.0, "ContactsAddContact": 0.5}}
