"""Metrics JSONL (truncation on resume, torn lines), the plot, and the GRPO advantage seam."""

from __future__ import annotations

import json

import pytest

from cua.errors import ConfigError
from cua.train.callbacks import read_metrics, truncate
from cua.train.plot import plot_run


def write(path, records, torn=False):
    text = "".join(json.dumps(r) + "\n" for r in records)
    path.write_text(text + ('{"stage": "sft", "st' if torn else ""))


RECORDS = [{"stage": "sft", "step": s, "loss": 2.0 / s, "grad_norm": 1.0} for s in range(1, 6)] + [
    {"stage": "grpo", "step": s, "loss": 0.1, "reward": s / 10, "rewards/codec_hit/mean": s / 10, "kl": 0.01,
     "completions/mean_length": 3.0} for s in range(1, 4)] + [
    {"stage": "grpo", "step": 3, "eval/hit_rate": 0.4, "eval/parse_rate": 1.0}]


def test_read_skips_torn_line_and_truncate_drops_later_steps(tmp_path):
    write(tmp_path / "metrics.jsonl", RECORDS, torn=True)
    write(tmp_path / "eval.jsonl", [{"stage": "sft", "step": s, "eval/hit_rate": 0.1} for s in (0, 2, 4)])
    assert len(read_metrics(tmp_path)) == len(RECORDS)
    truncate(tmp_path, "sft", 3)
    kept = read_metrics(tmp_path)
    assert [r["step"] for r in kept if r["stage"] == "sft"] == [1, 2, 3]
    assert len([r for r in kept if r["stage"] == "grpo"]) == 4
    evals = [json.loads(line) for line in (tmp_path / "eval.jsonl").read_text().splitlines()]
    assert [r["step"] for r in evals] == [0, 2], "held-out records past the resume point are dropped too"


def test_plot_writes_png_with_every_panel(tmp_path):
    write(tmp_path / "metrics.jsonl", RECORDS)
    png = plot_run(tmp_path)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000


def test_plot_of_empty_folder_is_config_error(tmp_path):
    with pytest.raises(ConfigError, match="metrics.jsonl"):
        plot_run(tmp_path)


def test_advantage_seam_replaces_advantages():
    import torch

    from cua.train.stages import CuaGRPOTrainer

    trainer = CuaGRPOTrainer.__new__(CuaGRPOTrainer)
    trainer.advantage_fn = lambda inputs, outputs: outputs["advantages"] * 0 + 7
    base = CuaGRPOTrainer.__mro__[1]
    original = base._generate_and_score_completions
    base._generate_and_score_completions = lambda self, inputs: {"advantages": torch.ones(4)}
    try:
        out = trainer._generate_and_score_completions([{}])
    finally:
        base._generate_and_score_completions = original
    assert out["advantages"].tolist() == [7.0] * 4


def test_eval_table_lists_full_set_rows_with_random_button_where_known(tmp_path):
    from cua.train.plot import eval_table

    full = {"eval/n": 1000, "eval/parse_rate": 1.0, "eval/chance": 0.03, "eval/reward": 0.5}
    write(tmp_path / "metrics.jsonl", [
        {"stage": "sft", "step": 0, **full, "eval/hit_rate": 0.0},
        {"stage": "sft", "step": 10, **full, "eval/n": 200, "eval/hit_rate": 0.2},
        {"stage": "sft", "step": 20, **full, "eval/hit_rate": 0.4},
        {"stage": "attr", "step": 30, **full, "eval/hit_rate": 0.5, "eval/random_button": 0.24}])
    lines = eval_table(tmp_path).splitlines()
    assert "random button" in lines[0] and len(lines) == 5
    assert lines[3].startswith("| sft | 20 | 1000 | 1.000 | 0.400 | 0.030 | - |")
    assert lines[4].startswith("| attr | 30 | 1000 | 1.000 | 0.500 | 0.030 | 0.240 |")


def test_live_table_lists_full_evaluations_with_a_wilson_interval_and_skips_unplayed_tasks(tmp_path):
    from cua.train.plot import _series, live_table

    records = [
        {"stage": "sft", "step": 20, "eval/live_success": 0.5, "live_eval/n": 10.0, "live_eval/jobs": 10},
        {"stage": "sft", "step": 40, "eval/live_success": 0.25, "live_eval/n": 200.0, "live_eval/jobs": 200,
         "live_eval/invalid_rate": 0.0, "live_eval/seconds": 90.0},
        {"stage": "online", "step": 1, "curriculum/a/success": -1.0, "curriculum/b/success": 0.5},
        {"stage": "online", "step": 50, "eval/live_success": 0.5, "live_eval/n": 198.0, "live_eval/jobs": 200,
         "live_eval/lost": 2.0, "live_eval/invalid_rate": 0.01, "live_eval/seconds": 80.0},
    ]
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    lines = live_table(tmp_path).splitlines()
    assert lines[2] == "| sft | 40 | 200 | 0.250 | [0.195, 0.314] | 0.000 | 90 |"
    assert lines[3].startswith("| online | 50 | 198 | 0.500 | [0.431, 0.569] |") and len(lines) == 4
    series, _ = _series(records)
    assert "curriculum/a/success" not in series and series["curriculum/b/success"][1] == [0.5]
    (tmp_path / "metrics.jsonl").write_text(json.dumps({"stage": "sft", "step": 1, "loss": 1.0}) + "\n")
    with pytest.raises(ConfigError, match="no live evaluations"):
        live_table(tmp_path)


def test_only_the_main_rank_truncates_the_logs_on_resume(tmp_path, monkeypatch):
    lines = [{"stage": "online", "step": s, "loss": 0.0} for s in (1, 2, 3)]
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    monkeypatch.setenv("RANK", "1")  # another torchrun rank: must not rewrite the file rank 0 may be rewriting
    truncate(tmp_path, "online", 2)
    assert [r["step"] for r in read_metrics(tmp_path)] == [1, 2, 3]
    monkeypatch.setenv("RANK", "0")
    truncate(tmp_path, "online", 2)
    assert [r["step"] for r in read_metrics(tmp_path)] == [1, 2]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.jsonl"]  # no temporary file left
