"""``cua run "goal"`` with no --model and no --policy runs the default model, names it on the first line, and
fails cleanly (exit 2, the ways out, no traceback) where its weights cannot be had: no cache, no downloads."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cua.cli_run import DEFAULT_MODEL, MODEL_ENV, RunOptions, resolve_model, resolve_policy_spec


def _env(hf_home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in (MODEL_ENV, "HF_HUB_CACHE", "TRANSFORMERS_OFFLINE")}
    return {**env, "HF_HUB_OFFLINE": "1", "HF_HOME": str(hf_home), **extra}


def _cua(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cua", *args], env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def test_the_default_model_is_used_and_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MODEL_ENV, raising=False)
    options = RunOptions(goal="send a message", device="emulator-5554")
    spec = resolve_policy_spec(options)
    assert spec == "model" and resolve_model(spec, options)[0] == DEFAULT_MODEL == "Qwen/Qwen2.5-VL-7B-Instruct"
    monkeypatch.setenv(MODEL_ENV, "org/from-env")
    assert resolve_model(spec, options) == ("org/from-env", f"from ${MODEL_ENV}")
    assert resolve_model(spec, RunOptions(goal="g", model_kwargs={"model": "/ckpt"}))[0] == "/ckpt"
    assert resolve_model("model:org/named", RunOptions(goal="g"))[0] == "org/named"
    assert resolve_policy_spec(RunOptions(task="messages_send")) == "oracle"  # the sandbox expert, as before


def test_main_command_without_weights_exits_2_with_the_ways_out(tmp_path: Path) -> None:
    out = _cua(["run", "--device", "emulator-5554", "send a message"], _env(tmp_path / "hf"), tmp_path)
    assert out.returncode == 2, out.stdout + out.stderr
    assert out.stdout.splitlines()[0].startswith(f"model: {DEFAULT_MODEL} (the default")
    err = " ".join(out.stderr.split())
    assert f"the weights of model {DEFAULT_MODEL}" in err and "not in the Hugging Face cache" in err
    for way in ("--model PATH", "--model openai:NAME --base-url URL", "--policy oracle", f"{MODEL_ENV}=ID_OR_PATH"):
        assert way in err, way
    assert "Traceback" not in out.stderr and not (tmp_path / "runs").exists()


def test_the_environment_variable_and_the_flag_choose_the_model(tmp_path: Path) -> None:
    env = _env(tmp_path / "hf", **{MODEL_ENV: "org/env-model"})
    out = _cua(["run", "--device", "emulator-5554", "g"], env, tmp_path)
    assert out.returncode == 2 and out.stdout.splitlines()[0] == f"model: org/env-model (from ${MODEL_ENV})"
    assert "org/env-model" in out.stderr
    out = _cua(["run", "--device", "emulator-5554", "--model", "org/flag-model", "g"], env, tmp_path)
    assert out.returncode == 2 and out.stdout.splitlines()[0] == "model: org/flag-model (--model)"


def test_a_cached_hub_model_counts_as_available_offline(tmp_path: Path) -> None:
    snapshot = tmp_path / "hf" / "hub" / "models--org--cached" / "snapshots" / ("0" * 40)
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text("{}")
    (snapshot.parents[1] / "refs").mkdir()
    (snapshot.parents[1] / "refs" / "main").write_text("0" * 40)
    code = ("from cua.models.loading import hub_weights_unavailable as u; "
            "print(u('org/cached'), u('org/missing'), u('org/missing', offline=False))")
    out = subprocess.run([sys.executable, "-c", code], env=_env(tmp_path / "hf"), capture_output=True, text=True,
                         timeout=60, check=True)
    assert out.stdout.split() == ["False", "True", "False"]
