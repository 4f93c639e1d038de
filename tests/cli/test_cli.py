"""The ``cua`` command line: exit codes, error messages, listings, and real runs on the sandbox phone."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest
from typer.testing import CliRunner

from cua.cli import app
from cua.cli_run import RunOptions, default_out_dir, exit_code, resolve_policy_spec
from cua.devices import valid_forms
from cua.errors import ConfigError
from cua.task import TASKS, Task, register_task
from cua.trajectory import Trajectory

runner = CliRunner()


def invoke(*args: str) -> Any:
    return runner.invoke(app, list(args), catch_exceptions=False)


class OnSettingsTask(Task):
    """Test-only task: succeed when the named app is on screen (read from the observation's app name)."""

    id = "test_cli_open_app"
    template = "Open the {app} app"
    complexity = 0.3

    @classmethod
    def generate_params(cls, rng: Any) -> dict[str, Any]:
        return {"app": "Gallery"}

    def is_successful(self, device: Any, answer: str | None = None) -> float:
        return float(device.observe().app == self.params["app"])


@pytest.fixture
def settings_task() -> Iterator[type[Task]]:
    register_task(OnSettingsTask)
    try:
        yield OnSettingsTask
    finally:
        TASKS.pop(OnSettingsTask.id, None)


def _script(tmp_path: Path, *actions: dict[str, Any]) -> Path:
    path = tmp_path / "script.jsonl"
    path.write_text("".join(json.dumps(a) + "\n" for a in actions), encoding="utf-8")
    return path


def test_unknown_device_spec_exits_2_with_the_valid_forms() -> None:
    result = invoke("run", "--device", "toaster", "--policy", "oracle", "do it")
    assert result.exit_code == 2
    assert "unknown device spec 'toaster'" in result.output
    for form in valid_forms():
        assert form in result.output


def test_unknown_task_exits_2_listing_tasks(settings_task: type[Task]) -> None:
    result = invoke("run", "--task", "no_such_task")
    assert result.exit_code == 2
    assert "unknown task 'no_such_task'" in result.output and settings_task.id in result.output


@pytest.mark.parametrize("args, needle", [
    (["run"], "give a goal text"),
    (["run", "--task", "test_cli_open_app", "extra goal"], "not both"),
    (["run", "--policy", "telepathy", "g"], "unknown policy 'telepathy'"),
    (["run", "--policy", "script:/no/such/file.jsonl", "g"], "does not exist"),
    (["run", "--policy", "script:x.jsonl", "--samples", "4", "g"], "--samples only apply to the model policy"),
    (["run", "--max-steps", "0", "g"], "greater than or equal to 1"),
])
def test_bad_usage_exits_2(settings_task: type[Task], args: list[str], needle: str) -> None:
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    assert needle in result.output


def test_malformed_script_exits_2_naming_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"action": "home"}\n{"action": "click", "x": 1}\n', encoding="utf-8")
    result = invoke("run", "--policy", f"script:{path}", "--out", str(tmp_path / "out"), "g")
    assert result.exit_code == 2 and f"{path}:2:" in result.output


def test_tasks_json_lists_the_registry(settings_task: type[Task]) -> None:
    result = invoke("tasks", "--json")
    assert result.exit_code == 0
    rows = json.loads(result.output)
    assert [r["id"] for r in rows] == sorted(TASKS)
    row = next(r for r in rows if r["id"] == settings_task.id)
    assert row == {"id": settings_task.id, "template": "Open the {app} app", "max_steps": 3,
                   "complexity": 0.3, "device": "sandbox"}


def test_devices_lists_sandbox_and_forms() -> None:
    result = invoke("devices", "--json")
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["reachable"]["sandbox"] == ["sandbox"] and data["forms"] == valid_forms()


def test_policy_resolution(tmp_path: Path) -> None:
    script = _script(tmp_path, {"action": "home"})
    assert resolve_policy_spec(RunOptions(task="t")) == "oracle"
    assert resolve_policy_spec(RunOptions(model_kwargs={"model": "m"})) == "model"
    assert resolve_policy_spec(RunOptions(policy=str(script))) == f"script:{script}"
    assert resolve_policy_spec(RunOptions(goal="g")) == "model"  # the default model (tests/cli/test_default_model.py)
    assert resolve_policy_spec(RunOptions(task="t", model_kwargs={"model": "m"})) == "model"


@pytest.mark.parametrize("status, success, code", [
    ("terminated", 1.0, 0), ("max_steps", 0.0, 1), ("terminated", 0.5, 1), ("terminated", None, 0),
    ("max_steps", None, 0), ("infra_error", None, 1), ("time_budget", 1.0, 0),
])
def test_exit_code_table(status: str, success: float | None, code: int) -> None:
    assert exit_code(Trajectory(goal="g", status=status, success=success)) == code


def test_default_out_dir_is_unique_and_slugged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    first = default_out_dir(None, "Send 'hi' to Ann!")
    assert first.parent == Path("runs") and first.name.endswith("-send-hi-to-ann")
    first.mkdir(parents=True)
    assert default_out_dir(None, "Send 'hi' to Ann!") != first
    assert default_out_dir("notes_add", "x").name.endswith("-notes_add")


def test_help_imports_no_heavy_library() -> None:
    code = ("import sys; from cua.cli import app; "
            "print([m for m in ('torch', 'transformers', 'playwright', 'adbutils', 'pyautogui') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "[]"


def test_python_m_cua_usage_error_has_no_traceback() -> None:
    out = subprocess.run([sys.executable, "-m", "cua", "run", "--device", "nope:", "g"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "valid forms" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.parametrize("actions, code, success", [
    ([{"action": "open_app", "app": "Gallery"}, {"action": "terminate", "status": "success"}], 0, 1.0),
    ([{"action": "open_app", "app": "Notes"}, {"action": "click", "x": 99999, "y": 1}], 1, 0.0),
])
def test_script_run_on_sandbox_task(
    tmp_path: Path, settings_task: type[Task], actions: list[dict[str, Any]], code: int, success: float,
) -> None:
    out = tmp_path / "run"
    result = invoke("run", "--task", settings_task.id, "--seed", "3", "--policy",
                    f"script:{_script(tmp_path, *actions)}", "--out", str(out))
    assert result.exit_code == code, result.output
    traj = Trajectory.load(out)
    assert traj.success == success and traj.task_id == settings_task.id and traj.seed == 3
    assert traj.goal == "Open the Gallery app"
    assert (out / "report.html").is_file() and (out / "annotated_000.jpg").is_file()
    assert str(out / "report.html") in result.output.replace("\n", "")
    assert len(list(out.glob("step_*.png"))) == len(traj.steps)


def test_goal_run_without_checker_exits_0(tmp_path: Path) -> None:
    out = tmp_path / "run"
    script = _script(tmp_path, {"action": "scroll", "direction": "down"}, {"action": "answer", "text": "<b>42</b>"})
    result = invoke("run", "--policy", f"script:{script}", "--max-steps", "5", "--out", str(out), "look around")
    assert result.exit_code == 0, result.output
    traj = Trajectory.load(out)
    assert traj.success is None and traj.answer == "<b>42</b>" and traj.status == "terminated"
    assert [s.action.kind for s in traj.steps if s.action] == ["scroll", "answer", "terminate"]
    html = (out / "report.html").read_text()
    assert "&lt;b&gt;42&lt;/b&gt;" in html and "<b>42</b>" not in html


@pytest.mark.parametrize("flags, code, error_kind", [([], 1, "denied"), (["--yes"], 0, None), (["--unsafe"], 0, None)])
def test_safety_gate_is_wired(
    tmp_path: Path, settings_task: type[Task], monkeypatch: pytest.MonkeyPatch,
    flags: list[str], code: int, error_kind: str | None,
) -> None:
    """Opening Settings needs confirmation: denied when nobody can confirm, approved by --yes, ungated by --unsafe.

    The sandbox is marked simulated (the gate then opens its apps without asking); here it plays a real phone.
    """
    from cua.devices.sandbox.device import SandboxDevice

    monkeypatch.setattr(SandboxDevice, "simulated", False)
    monkeypatch.setattr(settings_task, "generate_params", classmethod(lambda cls, rng: {"app": "Settings"}))
    out = tmp_path / "run"
    script = _script(tmp_path, {"action": "open_app", "app": "Settings"})
    result = invoke("run", "--task", settings_task.id, "--policy", f"script:{script}", "--out", str(out), *flags)
    assert result.exit_code == code, result.output
    assert Trajectory.load(out).steps[0].error_kind == error_kind


def test_subcommand_table_skips_missing_modules_but_not_broken_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    import typer

    from cua.cli import add_subcommands

    (tmp_path / "cua_test_ok_cli.py").write_text(
        "import typer\napp = typer.Typer()\n@app.command()\ndef hello() -> None:\n    print('hello from ok')\n")
    (tmp_path / "cua_test_broken_cli.py").write_text("import cua_test_dependency_that_is_missing\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    target = typer.Typer()

    @target.command()
    def noop() -> None:
        pass

    assert add_subcommands(target, (("ok", "cua_test_ok_cli"), ("gone", "cua_test_no_such_cli"))) == ["ok"]
    assert "hello from ok" in CliRunner().invoke(target, ["ok", "hello"]).output
    with pytest.raises(ModuleNotFoundError, match="cua_test_dependency_that_is_missing"):
        add_subcommands(typer.Typer(), (("broken", "cua_test_broken_cli"),))
