"""``cua eval sandbox --device sandbox+web | sandbox+desktop``: the sandbox world shown through the web backend
(a Playwright page) and the desktop backend (a Chromium kiosk window on a private Xvfb, pyautogui input, mss
frames), played by the pool: the oracle scores 100%, a script that does nothing 0%. Plus the spec's errors."""

from __future__ import annotations

import json
from pathlib import Path

import psutil
import pytest
from typer.testing import CliRunner

from cua.devices.registry import make_device
from cua.errors import ConfigError
from cua.eval.cli import app

#: Two templates: typing (keyboard input through the backend); a long press and a centred dialog.
ORACLE_TASKS = "notes_create,notes_delete"


def _eval(spec: str, policy: str, tasks: str, out: Path) -> dict:
    result = CliRunner().invoke(app, ["sandbox", "--device", spec, "--policy", policy, "--tasks", tasks,
                                      "--seeds", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return json.loads((out / "metrics.json").read_text())


@pytest.mark.slow
@pytest.mark.parametrize("spec", ["sandbox+web", "sandbox+desktop"])
def test_oracle_scores_100_and_doing_nothing_0_through_the_spec(spec: str, tmp_path: Path) -> None:
    metrics = _eval(spec, "oracle", ORACLE_TASKS, tmp_path / "oracle")
    assert metrics["meta"]["device"] == spec
    assert metrics["episodes"] == len(ORACLE_TASKS.split(","))
    assert metrics["success_rate"] == 1.0 and metrics["infra_failure_rate"] == 0.0, metrics["per_task"]
    records = [json.loads(ln) for ln in (tmp_path / "oracle" / "results.jsonl").read_text().splitlines()]
    assert all(r["steps"] >= 2 and r["invalid_steps"] == 0 for r in records)  # clicks/typing went through
    script = tmp_path / "nothing.jsonl"
    script.write_text("# no actions: the policy terminates at once\n")
    nothing = _eval(spec, f"script:{script}", "settings_toggle", tmp_path / "nothing")
    assert nothing["success_rate"] == 0.0 and nothing["episodes"] == 1 and nothing["infra_failure_rate"] == 0.0


def test_bad_composed_specs_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="takes no argument"):
        make_device("sandbox+web:http://x")
    with pytest.raises(ConfigError, match="does not take"):
        make_device("sandbox+desktop", viewport="phone")


@pytest.mark.slow
def test_a_display_of_another_size_is_refused_and_nothing_is_left(tmp_path: Path) -> None:
    from cua.devices.xvfb import Xvfb

    with Xvfb(640, 480) as server:
        before = {p.pid for p in psutil.Process().children(recursive=True)}
        with pytest.raises(ConfigError, match="1080x2400"):
            make_device(f"sandbox+desktop{server.display}")
        new = [p for p in psutil.Process().children(recursive=True) if p.pid not in before]
        # a process that is only finishing its exit gets a few seconds; one left running fails the test
        _, alive = psutil.wait_procs(new, timeout=10)
        alive = [p for p in alive if _running(p)]
        assert not alive, [(p.pid, _cmdline(p)) for p in alive]  # no Chromium was left running
    assert server.proc.poll() is not None


def _running(proc: psutil.Process) -> bool:
    try:
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _cmdline(proc: psutil.Process) -> str:
    try:
        return " ".join(proc.cmdline())[:200]
    except psutil.Error:
        return "?"
