"""Live sandbox suite through the device pool: oracle 100%, a do-nothing script 0%, the run report, and a run
killed with -9 that resumes without redoing or duplicating an episode."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cua.eval.cli import app
from cua.eval.live import HELD_OUT_SEED_START, Job, LiveOptions, is_training_seed, run_live
from cua.eval.live_report import CHART_FILE, write_live_report
from cua.policy import make_policy

TASKS = ("apps_open", "settings_toggle")


def test_oracle_on_two_workers_solves_every_episode_and_reports(tmp_path: Path) -> None:
    jobs = [Job("sandbox", t, HELD_OUT_SEED_START + s) for t in TASKS for s in range(2)]
    records = run_live(jobs, lambda task: make_policy("oracle", task=task), out_dir=tmp_path,
                       options=LiveOptions(workers=2))
    assert sorted(r["id"] for r in records) == sorted(j.id for j in jobs)
    assert all(r["success"] and r["reward"] == 1.0 and not r["infra_error"] for r in records)
    assert all(r["steps"] >= 2 and r["invalid_steps"] == 0 and r["step_seconds"] > 0 for r in records)
    metrics = write_live_report(tmp_path, records, {"policy": "oracle"})
    assert metrics["success_rate"] == 1.0 and metrics["per_suite"]["sandbox"]["episodes"] == 4
    assert set(metrics["per_task"]) == set(TASKS) and metrics["infra_failure_rate"] == 0.0
    assert (tmp_path / CHART_FILE).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = (tmp_path / "report.html").read_text()
    for job in jobs:  # every episode links to its own report (screenshots with the actions drawn)
        assert f'href="{job.folder}/report.html"' in page
        assert (tmp_path / job.folder / "report.html").is_file()
        assert (tmp_path / job.folder / "annotated_000.jpg").is_file()
    # re-running the finished run plays nothing and keeps one record per episode
    again = run_live(jobs, lambda task: pytest.fail("nothing should be replayed"), out_dir=tmp_path,
                     options=LiveOptions(workers=2))
    assert [r["id"] for r in again] == [r["id"] for r in records]


def test_a_script_that_does_nothing_scores_zero(tmp_path: Path) -> None:
    script = tmp_path / "nothing.jsonl"
    script.write_text("# no actions: the policy terminates at once\n")
    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["sandbox", "--policy", f"script:{script}", "--workers", "2",
                                      "--tasks", ",".join(TASKS), "--seeds", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["success_rate"] == 0.0 and metrics["episodes"] == 2 and metrics["infra_failure_rate"] == 0.0
    assert metrics["meta"]["seeds"] == [HELD_OUT_SEED_START]
    # the run folder is bound to its settings: resuming it with another policy is refused before anything runs
    other = CliRunner().invoke(app, ["sandbox", "--policy", "oracle", "--tasks", ",".join(TASKS), "--seeds", "1",
                                     "--out", str(out)])
    assert other.exit_code == 2 and "other settings" in other.output and "oracle" in other.output


def test_held_out_seeds_are_not_training_seeds() -> None:
    assert is_training_seed(HELD_OUT_SEED_START - 1) and not is_training_seed(HELD_OUT_SEED_START)


def test_bad_usage_exits_2(tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["sandbox", "--policy", "oracle", "--tasks", "nope"]).exit_code == 2
    assert runner.invoke(app, ["sandbox", "--tasks", "apps_open"]).exit_code == 2  # no policy
    out = tmp_path / "run"
    conflict = runner.invoke(app, ["sandbox", "--policy", "oracle", "--model", "m", "--out", str(out)])
    assert conflict.exit_code == 2 and "--model" in conflict.output
    assert not (out / "run.json").exists()  # a refused invocation does not bind the folder to its settings


def _lines(path: Path) -> list[str]:
    return [ln for ln in path.read_text().splitlines() if ln.strip()] if path.exists() else []


@pytest.mark.slow
def test_killed_run_resumes_without_redoing_or_duplicating(tmp_path: Path) -> None:
    out = tmp_path / "run"
    argv = [sys.executable, "-m", "cua", "eval", "sandbox", "--policy", "oracle", "--workers", "1",
            "--tasks", "apps_open,settings_toggle", "--seeds", "2", "--out", str(out)]
    results = out / "results.jsonl"
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while len(_lines(results)) < 1 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)  # mid-run: the next episode is under way
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
    before = _lines(results)
    assert 1 <= len(before) < 4, "the run must be killed mid-way"
    done = subprocess.run(argv, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
    after = _lines(results)
    assert after[:len(before)] == before  # the episodes stored before the kill were not redone
    ids = [json.loads(line)["id"] for line in after]
    assert len(ids) == len(set(ids)) == 4
    assert all(json.loads(line)["success"] for line in after)
