"""Two training processes (torchrun, gloo on CPU) run a grpo_online stage: each rank plays its own groups on its
own devices, the curriculum sees every rank's groups, rank 0 alone writes metrics and checkpoints, and
``resume`` continues from the last checkpoint."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow
HERE = Path(__file__).resolve().parent

SCRIPT = """
import json, sys
import online.memory_env
from cua.train.recipe import parse_recipe
from cua.train.runner import train
train(parse_recipe(json.loads(sys.argv[1])), sys.argv[2], resume=sys.argv[3] == "1")
"""


def _recipe(max_steps: int) -> dict[str, Any]:
    online = {"env": "buttons", "tasks": ["buttons_two"], "backend": "local", "pool_size": 2, "group_size": 2,
              "max_episode_steps": 2, "train_seeds": 50, "invalid_penalty": 0.1, "curriculum": True}
    return {"name": "ddp", "model": {"tiny": "qwen3_vl"}, "codec": "grid8", "min_pixels": 65536,
            "max_pixels": 65536, "stages": [{"name": "online", "kind": "grpo_online", "online": online, "trl": {
                "max_steps": max_steps, "save_steps": 1, "logging_steps": 1, "max_completion_length": 3}}]}


def _torchrun(script: Path, run: Path, max_steps: int, resume: bool, recipe: dict[str, Any] | None = None) -> None:
    env = {**os.environ, "PYTHONPATH": str(HERE.parent) + os.pathsep + os.environ.get("PYTHONPATH", ""),
           "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", str(script),
           json.dumps(recipe or _recipe(max_steps)), str(run), "1" if resume else "0"]
    done = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=400)
    assert done.returncode == 0, done.stdout.decode()[-4000:]


def test_two_ranks_train_online_write_once_and_resume(tmp_path: Path) -> None:
    script = tmp_path / "run_online.py"
    script.write_text(SCRIPT)
    run = tmp_path / "run"
    _torchrun(script, run, 2, resume=False)
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    steps = [r["step"] for r in rows if "online/turns" in r]
    assert steps == [1, 2]  # one writer: each update logged once
    state = json.loads((run / "online" / "checkpoint-2" / "cua_online_state.json").read_text())
    assert state["curriculum"]["plays"]["buttons_two"] == 4  # 2 ranks x 1 group x 2 updates, gathered
    # as if the run had been killed right after checkpoint-2: no final model, no DONE marker
    shutil.rmtree(run / "online" / "final")
    (run / "online" / "DONE").unlink()
    _torchrun(script, run, 3, resume=True)
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows if "online/turns" in r] == [1, 2, 3]
    state = json.loads((run / "online" / "checkpoint-3" / "cua_online_state.json").read_text())
    assert state["curriculum"]["plays"]["buttons_two"] == 6 and (run / "online" / "DONE").is_file()


KEEP_BEST_SCRIPT = """
import json, sys
import torch
import online.memory_env
import cua.train.live_eval as live_eval
from cua.train.recipe import parse_recipe
from cua.train.runner import train

scores = iter([0.75, 0.25, 0.5])  # validation at steps 1 and 2 (the last), then the test check: rank 0 only

def scripted(model, processor, codec, jobs, slots, **kw):
    return {"eval/live_success": next(scores), "live_eval/n": float(len(jobs)), "live_eval/lost": 0.0,
            "live_eval/invalid_rate": 0.0}

live_eval.live_success = scripted
unit = lambda inputs, outputs: torch.ones_like(outputs["advantages"])  # every update moves the weights
train(parse_recipe(json.loads(sys.argv[1])), sys.argv[2], resume=sys.argv[3] == "1", advantage_fn=unit)
"""


def test_two_ranks_keep_the_best_model_that_rank_zero_checked(tmp_path: Path) -> None:
    """live_eval.keep_best with two ranks: rank 0 alone plays the checks, both ranks agree on the best step,
    and the stage's final model is that step's checkpoint, not the last update's."""
    from safetensors.torch import load_file

    script = tmp_path / "run_keep_best.py"
    script.write_text(KEEP_BEST_SCRIPT)
    recipe = _recipe(2)
    recipe["stages"][0]["live_eval"] = {"every": 1, "keep_best": True}
    recipe["live_eval"] = {"tasks": ["buttons_two"], "episodes": 2, "env": "buttons", "env_options": {}, "slots": 1}
    run = tmp_path / "run"
    _torchrun(script, run, 2, resume=False, recipe=recipe)
    records = [json.loads(x) for x in (run / "live_eval.jsonl").read_text().splitlines()]
    assert [(r["step"], r.get("eval/live_validation_success"), r.get("eval/live_success"),
             r.get("live_eval/model_step")) for r in records] == [(1, 0.75, None, None), (2, 0.25, None, None),
                                                                  (2, None, 0.5, 1)]
    final = load_file(str(run / "online" / "final" / "model.safetensors"))
    best = load_file(str(run / "online" / "checkpoint-1" / "model.safetensors"))
    last = load_file(str(run / "online" / "checkpoint-2" / "model.safetensors"))
    assert final.keys() == best.keys()
    assert all(final[k].equal(best[k]) for k in final)
    assert any(not final[k].equal(last[k]) for k in final)
