"""OSWorld task configs judged by OSWorld's own getters and metric functions (desktop_env.evaluators) on files,
and OSWorld's example loop driving cua script policies on Xvfb (a real autosaving Tk editor), the VM replaced
by a local server speaking their VM-server protocol."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Iterator

import osworld_support  # noqa: F401  (puts tests/ on sys.path)
import pytest
from desktop_env.controllers.python import PythonController
from support_x11 import XServer, x_server  # noqa: F401

from cua.errors import ConfigError
from cua.eval.osworld import OSWorldAgent, evaluate_task, evaluator_function, load_tasks, run_example, summarize
from cua.policy import make_policy


@pytest.fixture
def vm(tmp_path: Path) -> Iterator[SimpleNamespace]:
    """The 'VM' for getters: a controller speaking their protocol to a local server (files are local paths)."""
    cloud = tmp_path / "cloud"
    cloud.mkdir()
    for server in osworld_support.serve({"DISPLAY": ":0"}, cloud):
        ctl = PythonController(vm_ip="127.0.0.1", server_port=server.port)
        ctl.retry_times = 1
        yield SimpleNamespace(controller=ctl, cloud=cloud, url=f"http://127.0.0.1:{server.port}/cloud", root=tmp_path)


def _env(vm: SimpleNamespace, name: str) -> SimpleNamespace:
    """What OSWorld's getters read from their env: ``controller`` and a fresh ``cache_dir``."""
    cache = vm.root / f"cache-{name}"
    cache.mkdir()
    return SimpleNamespace(controller=vm.controller, cache_dir=str(cache))


def note_task(vm: SimpleNamespace, note: Path, expected: str) -> dict[str, Any]:
    """An OSWorld example (their JSON format): the note on the VM must equal the expected file, any case."""
    (vm.cloud / "expected.txt").write_text(expected, encoding="utf-8")
    return {
        "id": "5c1ad1e0-0000-4000-8000-000000000001", "snapshot": "os", "source": "cua tests",
        "instruction": "Type 'hello world' into the text field.", "config": [], "related_apps": ["os"],
        "trajectory": "trajectories/", "proxy": False,
        "evaluator": {"func": "compare_text_file",
                      "result": {"type": "vm_file", "path": str(note), "dest": "note.txt"},
                      "expected": {"type": "cloud_file", "path": f"{vm.url}/expected.txt", "dest": "expected.txt"},
                      "options": {"ignore_case": True}},
    }


def test_their_metrics_judge_files_through_their_getters(vm: SimpleNamespace) -> None:
    note = vm.root / "note.txt"
    task = note_task(vm, note, "Hello World")
    note.write_text("hello world", encoding="utf-8")
    assert evaluate_task(task, _env(vm, "a")) == 1.0
    note.write_text("hello there", encoding="utf-8")
    assert evaluate_task(task, _env(vm, "b")) == 0.0
    assert evaluate_task(task, _env(vm, "c"), action_history=["DONE"]) == 0.0  # still the wrong text
    note.write_text("HELLO WORLD", encoding="utf-8")
    assert evaluate_task(task, _env(vm, "d"), action_history=["FAIL"]) == 0.0  # gave up: 0 whatever the files


def test_metric_lists_rules_and_infeasible_tasks(vm: SimpleNamespace) -> None:
    settings, note = vm.root / "settings.json", vm.root / "note.txt"
    settings.write_text(json.dumps({"editor.fontSize": 14, "files.autoSave": "off"}), encoding="utf-8")
    note.write_text("nope", encoding="utf-8")
    (vm.cloud / "expected.txt").write_text("hello", encoding="utf-8")
    both = {"id": "t2", "instruction": "Set the font size to 14 and write hello.", "evaluator": {
        "func": ["check_json_settings", "compare_text_file"], "conj": "and",
        "result": [{"type": "vm_file", "path": str(settings), "dest": "settings.json"},
                   {"type": "vm_file", "path": str(note), "dest": "note.txt"}],
        "expected": [{"type": "rule", "rules": {"expected": {"editor.fontSize": 14}}},
                     {"type": "cloud_file", "path": f"{vm.url}/expected.txt", "dest": "expected.txt"}]}}
    assert evaluate_task(both, _env(vm, "and")) == 0.0  # the note is wrong
    either = json.loads(json.dumps(both))
    either["evaluator"]["conj"] = "or"
    assert evaluate_task(either, _env(vm, "or")) == 1.0  # the settings are right
    infeasible = {"id": "t3", "instruction": "Install Photoshop.", "evaluator": {"func": "infeasible"}}
    assert evaluate_task(infeasible, _env(vm, "i1"), action_history=["FAIL"]) == 1.0
    assert evaluate_task(infeasible, _env(vm, "i2"), action_history=["DONE"]) == 0.0
    with pytest.raises(ConfigError):
        evaluator_function("metrics", "no_such_metric")


def test_task_files_in_their_layout(tmp_path: Path) -> None:
    (tmp_path / "examples" / "os").mkdir(parents=True)
    (tmp_path / "examples" / "os" / "t1.json").write_text(json.dumps(
        {"id": "t1", "instruction": "x", "evaluator": {"func": "infeasible"}}))
    (tmp_path / "test_all.json").write_text(json.dumps({"os": ["t1"]}))
    assert load_tasks(tmp_path / "test_all.json", tmp_path / "examples") == [
        ("os", {"id": "t1", "instruction": "x", "evaluator": {"func": "infeasible"}})]
    (tmp_path / "test_all.json").write_text(json.dumps({"os": ["t1", "t2"]}))
    with pytest.raises(ConfigError, match="t2.json"):
        load_tasks(tmp_path / "test_all.json", tmp_path / "examples")
    with pytest.raises(ConfigError):
        load_tasks(tmp_path / "test_all.json", tmp_path / "examples", domain="chrome")


class LocalDesktopEnv:
    """The DesktopEnv methods OSWorld's example loop calls, on the local 'VM' (Xvfb + the protocol server):
    ``step`` treats WAIT/FAIL/DONE and runs actions through their controller as DesktopEnv.step does."""

    def __init__(self, controller: PythonController, cache_dir: Path, action_space: str) -> None:
        self.controller, self.cache_dir, self.action_space = controller, str(cache_dir), action_space
        self.task: dict[str, Any] = {}
        self.action_history: list[Any] = []

    def reset(self, task_config: dict[str, Any]) -> None:
        self.task, self.action_history = task_config, []

    def _get_obs(self) -> dict[str, Any]:
        return {"screenshot": self.controller.get_screenshot(), "instruction": self.task["instruction"]}

    def step(self, action: Any, pause: float = 0.0) -> tuple[dict[str, Any], float, bool, dict[str, Any]]:
        self.action_history.append(action)
        if action in ("WAIT", "FAIL", "DONE"):
            return self._get_obs(), 0.0, action != "WAIT", {}
        if self.action_space == "pyautogui":
            assert self.controller.execute_python_command(action)["returncode"] == 0
        else:
            self.controller.execute_action(action)
        return self._get_obs(), 0.0, False, {}

    def evaluate(self) -> float:
        return evaluate_task(self.task, self, action_history=self.action_history)


@pytest.fixture
def editor(x_server: XServer, tmp_path: Path) -> Iterator[Path]:  # noqa: F811
    note = tmp_path / "vm" / "note.txt"
    note.parent.mkdir()
    proc = subprocess.Popen([sys.executable, osworld_support.__file__, "editor", str(note)], env=x_server.env)
    try:
        deadline = time.monotonic() + 10
        while not Path(str(note) + ".ready").exists():
            assert time.monotonic() < deadline and proc.poll() is None, "editor did not start"
            time.sleep(0.05)
        yield note
    finally:
        proc.terminate()
        proc.wait(timeout=5)


@pytest.mark.slow
@pytest.mark.parametrize("action_space", ["pyautogui", "computer_13"])
def test_their_example_loop_runs_cua_policies_on_a_real_window(
        x_server: XServer, editor: Path, tmp_path: Path, action_space: str) -> None:  # noqa: F811
    cloud = tmp_path / "cloud"
    cloud.mkdir()
    for server in osworld_support.serve(x_server.env, cloud):
        ctl = PythonController(vm_ip="127.0.0.1", server_port=server.port)
        ctl.retry_times = 1
        vm = SimpleNamespace(cloud=cloud, url=f"http://127.0.0.1:{server.port}/cloud")
        task = note_task(vm, editor, "hello world")
        scores = {}
        for name, text in (("right", "Hello World"), ("wrong", "Goodbye")):
            script = tmp_path / f"{name}.jsonl"
            script.write_text("\n".join(json.dumps(a) for a in (
                {"action": "click", "x": 600, "y": 130}, {"action": "key", "key": "ctrl+a"},
                {"action": "key", "key": "backspace"},
                {"action": "type", "text": text}, {"action": "terminate", "status": "success"})) + "\n")
            env = LocalDesktopEnv(ctl, tmp_path / f"cache-{name}", action_space)
            (tmp_path / f"cache-{name}").mkdir()
            agent = OSWorldAgent(make_policy(f"script:{script}"), action_space=action_space)
            out = tmp_path / "results" / "os" / name
            scores[name] = run_example(agent, env, task, max_steps=8, settle_seconds=0,
                                       sleep_after_execution=0.5, out_dir=out)  # X input reaches Tk late
            assert env.action_history[-1] == "DONE"
            assert editor.read_text(encoding="utf-8") == text
            records = [json.loads(line) for line in (out / "traj.jsonl").read_text().splitlines()]
            assert records[-1]["done"] is True and records[-1]["action"] == "DONE"
        assert scores == {"right": 1.0, "wrong": 0.0}
        assert summarize(tmp_path / "results") == {"episodes": 2, "success_rate": 0.5, "per_domain": {"os": 0.5}}


def test_cli_checks_the_task_files_before_any_vm(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from cua.cli import app

    result = CliRunner().invoke(app, ["eval", "osworld", "--test-meta", str(tmp_path / "none.json"),
                                      "--examples", str(tmp_path), "--policy", "script:/dev/null"])
    assert result.exit_code == 2 and "none.json" in result.output
