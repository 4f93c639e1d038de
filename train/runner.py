"""Run a whole recipe: check everything, build the model, then each stage in order (``cua train``).

Run folder layout (``out``)::

    recipe.yaml          the validated recipe as run (overrides applied)
    metrics.jsonl        every trl log event of every stage (cua.train.callbacks)
    base/                the tiny model built offline (recipes with ``model.tiny`` only)
    <stage>/checkpoint-N trl checkpoints, each with cua_processing.json
    <stage>/final        the stage's model (or LoRA adapter) + processor + cua_processing.json
    <stage>/DONE         written when the stage finished

``resume=True`` skips finished stages (their ``final`` is loaded through :mod:`cua.models.loading`) and
continues the unfinished one from its last checkpoint. Every check in :mod:`cua.train.checks` runs, and every
stage's dataset is built, before the first optimizer step.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from cua.codecs import Codec, check_family, default_codec_for, get_codec
from cua.errors import ConfigError
from cua.models.loading import ProcessingConfig, load_model_and_processor, pixel_limits, processor_factor
from cua.train import checks
from cua.train.data import Pixels, stage_dataset
from cua.train.recipe import ModelSpec, Recipe
from cua.train.rewards import resolve_reward
from cua.train.stages import DONE_MARKER, FINAL, freeze_vision, run_stage

BASE = "base"


def build_tiny_base(spec: ModelSpec, folder: Path) -> Path:
    """Save the recipe's tiny model (with ``tiny_overrides`` on its text config) into ``folder``, once."""
    if (folder / "config.json").is_file():
        return folder
    import os
    import shutil

    from cua.models.tiny import save_tiny

    # Built aside and renamed into place (atomic): several processes (torchrun ranks) may build it at once;
    # the first rename wins, the others drop their identical copy and load the complete folder.
    tmp = folder.with_name(f"{folder.name}.tmp-{os.getpid()}")
    save_tiny(spec.tiny, tmp, seed=spec.seed)
    if spec.tiny_overrides:
        _reinit_with(tmp, dict(spec.tiny_overrides), spec.seed)
    try:
        os.rename(tmp, folder)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


def _reinit_with(folder: Path, overrides: dict[str, Any], seed: int) -> None:
    import torch
    import transformers as tf

    config = tf.AutoConfig.from_pretrained(folder)
    text = config.text_config
    valid = set(text.to_dict())
    unknown = sorted(set(overrides) - valid)
    if unknown:
        raise ConfigError(f"unknown tiny_overrides {unknown}; valid text-config keys: {', '.join(sorted(valid))}")
    for key, value in overrides.items():
        setattr(text, key, value)
    if "hidden_size" in overrides:
        config.vision_config.out_hidden_size = overrides["hidden_size"]
    torch.manual_seed(seed)
    model = tf.AutoModelForImageTextToText.from_config(config)
    model.generation_config = tf.GenerationConfig.from_pretrained(folder)
    model.save_pretrained(folder)


def model_source(recipe: Recipe, run_dir: Path) -> str:
    """The checkpoint the run starts from (a tiny model is built into ``run_dir/base`` first)."""
    if recipe.model.tiny is not None:
        return str(build_tiny_base(recipe.model, run_dir / BASE))
    return str(recipe.model.path)


def _codec(recipe: Recipe, family: str, factor: int) -> Codec:
    codec = get_codec(recipe.codec or default_codec_for(family))
    check_family(codec, family, factor)
    return codec


def _save_recipe(recipe: Recipe, run_dir: Path) -> None:
    import yaml

    (run_dir / "recipe.yaml").write_text(yaml.safe_dump(json.loads(json.dumps(asdict(recipe))), sort_keys=False))


def _load(source: str, recipe: Recipe, cuda: bool) -> tuple[Any, Any]:
    model, processor = load_model_and_processor(
        source, dtype=recipe.model.dtype, min_pixels=recipe.min_pixels, max_pixels=recipe.max_pixels,
        device_map="cuda" if cuda else "cpu")
    if hasattr(model, "merge_and_unload"):
        model = model.merge_and_unload()
    if recipe.freeze_vision:
        freeze_vision(model)
    return model, processor


def _stage_source(recipe: Recipe, index: int, run_dir: Path) -> str:
    """The folder stage ``index`` starts from: its ``init`` stage's final, the previous stage's, or the base."""
    stage = recipe.stages[index]
    init = stage.init if stage.init is not None else (recipe.stages[index - 1].name if index else "base")
    return model_source(recipe, run_dir) if init == "base" else str(run_dir / init / FINAL)


def _done(run_dir: Path, stage_name: str) -> bool:
    return (run_dir / stage_name / DONE_MARKER).is_file()


def train(recipe: Recipe, run_dir: str | Path, *, resume: bool = False, callbacks: list[Any] = (),
          **trainer_kwargs: Any) -> Path:
    """Run ``recipe`` into ``run_dir``; returns the last stage's ``final`` folder. See the module docstring.

    ``callbacks`` (extra TrainerCallbacks) and ``trainer_kwargs`` (e.g. ``rollout_func``, ``advantage_fn`` for
    GRPO stages) go to every stage's trainer.
    """
    run_dir = Path(run_dir)
    cuda = checks.preflight(recipe, run_dir, resume=resume)
    run_dir.mkdir(parents=True, exist_ok=True)
    todo = [i for i, st in enumerate(recipe.stages) if not (resume and _done(run_dir, st.name))]
    if not todo:
        return run_dir / recipe.stages[-1].name / FINAL
    model, processor = _load(_stage_source(recipe, todo[0], run_dir), recipe, cuda)
    family, factor = str(model.config.model_type), processor_factor(processor)
    codec = _codec(recipe, family, factor)
    lo, hi = pixel_limits(processor)
    processing = ProcessingConfig(min_pixels=lo, max_pixels=hi, factor=factor, codec=codec.name)
    pixels = Pixels(factor=factor, min_pixels=lo, max_pixels=hi)
    plan = _prepare_stages(recipe, codec, pixels, todo)
    eval_rows = _eval_sets(recipe, codec, pixels, [recipe.stages[i] for i in todo])
    if not resume:
        _save_recipe(recipe, run_dir)
        processing.save(run_dir)
    from cua.train.live_eval import live_eval_callback

    live = live_eval_callback(recipe, run_dir, codec.name)
    try:
        return _run_stages(recipe, run_dir, todo, plan, eval_rows, model, processor, processing,
                           resume=resume, cuda=cuda, callbacks=[*callbacks, *([live] if live else [])],
                           trainer_kwargs=trainer_kwargs, codec=codec)
    finally:
        if live is not None:
            live.close()


def _run_stages(recipe: Recipe, run_dir: Path, todo: list[int], plan: list[tuple[Any, Any]],
                eval_rows: dict[str, Any], model: Any, processor: Any, processing: ProcessingConfig, *,
                resume: bool, cuda: bool, callbacks: list[Any], trainer_kwargs: dict[str, Any], codec: Codec) -> Path:
    for i, (train_ds, rewards) in zip(todo, plan):
        stage = recipe.stages[i]
        if i != todo[0] and stage.init is not None and stage.init != recipe.stages[i - 1].name:
            model, processor = _load(_stage_source(recipe, i, run_dir), recipe, cuda)
        stage_callbacks = _eval_callbacks(recipe, stage, run_dir, eval_rows[stage.name], processor, rewards,
                                          at_start=(i == 0 and not resume)) + list(callbacks)
        model.train()
        model = run_stage(recipe, stage, model=model, processor=processor, train_dataset=train_ds,
                          eval_dataset=None, reward_funcs=rewards, processing=processing, run_dir=run_dir,
                          resume=resume, cuda=cuda, extra_callbacks=stage_callbacks,
                          **(trainer_kwargs if stage.kind != "sft" else {}),
                          **({"codec": codec.name} if stage.kind == "grpo_online" else {}))
        if recipe.freeze_vision:
            freeze_vision(model)
    return run_dir / recipe.stages[-1].name / FINAL


def _eval_sets(recipe: Recipe, codec: Codec, pixels: Pixels, stages: list[Any]
               ) -> dict[str, list[dict[str, Any]] | None]:
    """Held-out rows by stage name (the recipe's ``eval_data`` or the stage's own); each distinct set built once."""
    built: dict[str, list[dict[str, Any]] | None] = {}
    out = {}
    for stage in stages:
        sources = recipe.stage_eval_data(stage)
        if repr(sources) not in built:
            built[repr(sources)] = _eval_rows(sources, codec, pixels, recipe.seed)
        out[stage.name] = built[repr(sources)]
    return out


def _eval_rows(sources: list[Any], codec: Codec, pixels: Pixels, seed: int) -> list[dict[str, Any]] | None:
    if not sources:
        return None
    import datasets as hf

    data = stage_dataset(sources, codec, pixels, with_completion=False, seed=seed + 1)
    rows = [dict(r) for r in data.cast_column("images", hf.List(hf.Image(decode=False)))]  # PNG bytes, not pixels
    if any(not r.get("bbox") or len(r["bbox"]) != 4 for r in rows):
        raise ConfigError("eval_data rows need a bbox (click-in-box accuracy); use a grounding source")
    return rows


def _eval_callbacks(recipe: Recipe, stage: Any, run_dir: Path, rows: list[dict[str, Any]] | None, processor: Any,
                    rewards: list[Any] | None, *, at_start: bool) -> list[Any]:
    from cua.train.evaluate import GroundingEval, TimeLimit

    out: list[Any] = [TimeLimit(stage.max_minutes)] if stage.max_minutes else []
    if rows is None:
        if stage.stop_at_hit_rate is not None:
            raise ConfigError(f"stage {stage.name!r} sets stop_at_hit_rate but the recipe has no eval_data")
        return out
    specs = recipe.stage_rewards(stage)
    funcs = rewards if rewards is not None else [resolve_reward(r.name) for r in specs]
    out.append(GroundingEval(run_dir, stage.name, rows, processor,
                             every=recipe.eval_every if stage.eval_every is None else stage.eval_every,
                             every_n=recipe.eval_every_n, at_start=at_start,
                             max_new_tokens=recipe.eval_max_new_tokens, reward_funcs=funcs,
                             reward_weights=[r.weight for r in specs], stop_at_hit_rate=stage.stop_at_hit_rate))
    return out


def _prepare_stages(recipe: Recipe, codec: Codec, pixels: Pixels, todo: list[int]) -> list[tuple[Any, Any]]:
    """Every remaining stage's (train set, reward functions), built before any training."""
    plan = []
    for i in todo:
        stage = recipe.stages[i]
        if stage.kind == "grpo_online":
            plan.append(_online_plan(stage))
            continue
        sft = stage.kind == "sft"
        rewards = None if sft else [resolve_reward(r.name) for r in recipe.stage_rewards(stage)]
        if rewards is not None and not rewards:
            raise ConfigError(f"GRPO stage {stage.name!r} has no rewards; add `rewards: [{{name: ..., weight: 1}}]`")
        train_ds = stage_dataset(recipe.stage_data(stage), codec, pixels, with_completion=sft, seed=recipe.seed)
        plan.append((train_ds, rewards))
    return plan


def _online_plan(stage: Any) -> tuple[Any, Any]:
    """A ``grpo_online`` stage's (placeholder train set, [task reward]): its episodes are played live."""
    from cua.train.online import online_dataset, task_reward

    max_steps = int(stage.trl.get("max_steps", 0) or 0)
    if max_steps <= 0:
        raise ConfigError(f"grpo_online stage {stage.name!r} needs trl.max_steps (its number of updates)")
    if stage.data or stage.rewards:
        raise ConfigError(f"grpo_online stage {stage.name!r} plays live episodes: it takes no data or rewards "
                          "(the reward is the task's, shaped by online.step_penalty / invalid_penalty / "
                          "format_failure)")
    unsupported = {k: v for k, v in (("beta", 0), ("num_iterations", 1), ("steps_per_generation", 1),
                                     ("gradient_accumulation_steps", 1)) if stage.trl.get(k, v) != v}
    if unsupported:
        raise ConfigError(f"grpo_online stage {stage.name!r}: {unsupported} not supported yet (each batch of live "
                          "turns is trained once, on-policy, without a KL reference); leave them at their defaults")
    for task_id in stage.online.tasks:
        from cua.task import get_task

        get_task(task_id)
    rows = max(2, int(stage.trl.get("per_device_train_batch_size", 2))) * int(
        stage.trl.get("gradient_accumulation_steps", 1))
    return online_dataset(max_steps, rows * 2), [task_reward(stage.online).reward_fn("task")]
