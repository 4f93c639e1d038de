"""bench/credit_compare.py (issue 13's comparison command): variant commands, the shared SFT start, the table."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from cua.train.recipe import load_recipe

ROOT = Path(__file__).resolve().parents[2]


def load() -> object:
    spec = importlib.util.spec_from_file_location("credit_compare", ROOT / "bench" / "credit_compare.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def test_every_variant_is_a_valid_recipe(tmp_path: Path) -> None:
    cc = load()
    for name in cc.VARIANTS:  # type: ignore[attr-defined]
        cmd = cc.commands(tmp_path, name, env_steps=300, episodes=200, tasks="button_chain.3", every=5)  # type: ignore[attr-defined]
        sets = [cmd[i + 1] for i, a in enumerate(cmd) if a == "--set"]
        recipe = load_recipe(cc.RECIPE, sets)  # type: ignore[attr-defined]
        online = recipe.stages[-1].online
        assert online is not None and online.max_env_steps == 300
        assert recipe.stages[-1].trl["max_steps"] == 2000  # the recipe's learning-rate schedule is kept
        assert recipe.live_eval is not None and recipe.live_eval.tasks == ["button_chain.3"]
        assert ("--resume" in cmd) == (name != "trajectory")
        shared = cc.commands(tmp_path, name, env_steps=300, episodes=200, tasks="button_chain.3", every=5,  # type: ignore[attr-defined]
                             shared_sft=True)
        assert "--resume" in shared
        if name == "foresight":
            assert online.advantage == "foresight" and online.hierarchical and not online.replay
    assert online.importance_sampling == "st_ppo"


def test_table_from_runs(tmp_path: Path) -> None:
    cc = load()
    assert [round(x, 3) for x in cc.wilson(50, 100)] == [0.404, 0.596]  # type: ignore[attr-defined]
    run = tmp_path / "gigpo"
    run.mkdir()
    (run / "live_eval.jsonl").write_text(
        json.dumps({"stage": "sft", "step": 10, "eval/live_success": 0.2, "live_eval/n": 200}) + "\n"
        + json.dumps({"stage": "online", "step": 4, "eval/live_success": 0.25, "live_eval/n": 200}) + "\n")
    (run / "metrics.jsonl").write_text("".join(json.dumps({"online/episodes": 8, "online/episode_steps": s}) + "\n"
                                               for s in (2.0, 2.5)))
    summary = cc.summarise(run)  # type: ignore[attr-defined]
    assert summary["success"] == 0.25 and summary["env_steps"] == 36 and summary["step"] == 4
    assert summary["low"] < 0.25 < summary["high"]
    text = cc.table(tmp_path, {"gigpo": 120.0})  # type: ignore[attr-defined]
    assert "| gigpo | 0.250 |" in text and "| 2.0 |" in text and "trajectory |" not in text
    # runs that log every device step (foresight's replays included) are counted by that
    (run / "metrics.jsonl").write_text("".join(json.dumps({"online/episodes": 1, "online/episode_steps": 2.0,
                                                           "online/env_steps": s}) + "\n" for s in (24, 30)))
    assert cc.summarise(run)["env_steps"] == 54  # type: ignore[attr-defined]


def test_variants_need_the_baselines_sft(tmp_path: Path) -> None:
    cc = load()
    with pytest.raises(SystemExit, match="SFT"):
        cc.seed_from_baseline(tmp_path, "gigpo")  # type: ignore[attr-defined]
    base = tmp_path / "trajectory"
    (base / "sft").mkdir(parents=True)
    (base / "sft" / "DONE").write_text("")
    (base / "base").mkdir()
    (base / "recipe.yaml").write_text("name: x\n")
    cc.seed_from_baseline(tmp_path, "gigpo")  # type: ignore[attr-defined]
    assert (tmp_path / "gigpo" / "sft" / "DONE").is_file() and (tmp_path / "gigpo" / "recipe.yaml").is_file()
    # --sft-from: any finished run's SFT stage, the trajectory baseline included
    other = tmp_path / "elsewhere"
    (other / "sft").mkdir(parents=True)
    (other / "sft" / "DONE").write_text("")
    (other / "recipe.yaml").write_text("name: y\n")
    cc.seed_from_baseline(tmp_path / "out", "trajectory", other)  # type: ignore[attr-defined]
    assert (tmp_path / "out" / "trajectory" / "recipe.yaml").read_text() == "name: y\n"


def test_curves_against_environment_steps_and_the_report(tmp_path: Path) -> None:
    cc = load()
    run = tmp_path / "gigpo"
    run.mkdir()
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in [
        {"stage": "online", "step": 1, "online/episodes": 16, "online/success": 0.0, "online/env_steps": 32},
        {"stage": "online", "step": 2, "online/episodes": 16, "online/success": 0.5, "online/env_steps": 40},
        {"stage": "online", "step": 2, "train_runtime": 9.0}]))
    (run / "live_eval.jsonl").write_text(  # a periodic check and the final one at the same step: the final wins
        json.dumps({"stage": "online", "step": 2, "eval/live_success": 0.7, "live_eval/n": 100}) + "\n"
        + json.dumps({"stage": "online", "step": 2, "eval/live_success": 0.6, "live_eval/n": 200}) + "\n")
    c = cc.curves(run)  # type: ignore[attr-defined]
    assert c["held_out"] == [(72.0, 0.6)] and c["sampled"] == [(32.0, 0.0), (72.0, 0.25)]
    sft = tmp_path / "sft_run"
    sft.mkdir()
    (sft / "live_eval.jsonl").write_text(json.dumps({"stage": "sft", "step": 9, "eval/live_success": 0.3}) + "\n")
    assert cc._start(sft) == 0.3 and cc._start(None) is None  # type: ignore[attr-defined]
    assert cc.plot(tmp_path, 0.3).stat().st_size > 1000  # type: ignore[attr-defined]
    # --report-only keeps the wall times an earlier table measured
    table = cc.table(tmp_path, {"gigpo": 90.0})  # type: ignore[attr-defined]
    assert cc._walls(table) == {"gigpo": 90.0}  # type: ignore[attr-defined]
