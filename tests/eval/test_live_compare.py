"""Run comparison: pairing by (task, seed), per-task deltas, the paired bootstrap CI (hand-made cases)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cua.errors import ConfigError
from cua.eval.cli import app
from cua.eval.compare import compare, paired_bootstrap


def rec(task: str, seed: int, success: bool, **kw: object) -> dict:
    return {"id": f"s/{task}/{seed}", "suite": "s", "task": task, "seed": seed, "success": success, **kw}


def test_identical_differences_give_a_degenerate_interval() -> None:
    assert paired_bootstrap([1.0] * 8, resamples=500) == (1.0, 1.0)
    assert paired_bootstrap([0.0] * 8, resamples=500) == (0.0, 0.0)


def test_half_improved_pairs_interval_matches_the_normal_approximation() -> None:
    # 20 pairs, 10 improved (+1) and 10 unchanged: mean 0.5, sd of the mean sqrt(0.25 / 20) = 0.112,
    # so the 95% interval is about 0.5 +- 0.22.
    lo, hi = paired_bootstrap([1.0] * 10 + [0.0] * 10, resamples=4000, seed=1)
    assert 0.22 <= lo <= 0.35 and 0.65 <= hi <= 0.78
    # a wider confidence gives a wider interval
    lo99, hi99 = paired_bootstrap([1.0] * 10 + [0.0] * 10, resamples=4000, confidence=0.99, seed=1)
    assert lo99 < lo and hi99 > hi


def test_pairs_by_task_and_seed_and_leaves_out_infra_and_unpaired() -> None:
    a = [rec("t1", 1, False), rec("t1", 2, True), rec("t2", 1, True), rec("t2", 2, False, infra_error=True),
         rec("t3", 9, True)]
    b = [rec("t1", 2, True), rec("t1", 1, True), rec("t2", 1, False), rec("t2", 2, True), rec("t4", 1, True)]
    result = compare(a, b, resamples=500)
    assert result.n_pairs == 3  # (t1,1) (t1,2) (t2,1); (t2,2) is infra in A; t3 / t4 unpaired
    assert result.only_a == 1 and result.only_b == 2
    assert result.per_task["t1"] == {"n": 2, "a": 0.5, "b": 1.0, "delta": 0.5}
    assert result.per_task["t2"] == {"n": 1, "a": 1.0, "b": 0.0, "delta": -1.0}
    assert result.delta == pytest.approx(0.0) and result.a == pytest.approx(2 / 3)
    assert -1.0 <= result.ci[0] <= 0.0 <= result.ci[1] <= 1.0


def test_no_common_episode_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="share no"):
        compare([rec("t", 1, True)], [rec("t", 2, True)])


def _run(folder: Path, records: list[dict]) -> Path:
    folder.mkdir()
    (folder / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    return folder


def test_compare_command_prints_deltas_and_interval(tmp_path: Path) -> None:
    a = _run(tmp_path / "a", [rec("t1", s, False) for s in range(6)])
    b = _run(tmp_path / "b", [rec("t1", s, s < 3) for s in range(6)])
    result = CliRunner().invoke(app, ["compare", str(a), str(b), "--resamples", "500"])
    assert result.exit_code == 0, result.output
    assert "+50.0" in result.output and "95% CI" in result.output and "6 paired" in result.output
    bad = CliRunner().invoke(app, ["compare", str(a), str(tmp_path / "nowhere")])
    assert bad.exit_code == 2 and "not a live-eval run folder" in bad.output
