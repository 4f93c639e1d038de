"""One stage of a recipe on trl: ``SFTTrainer`` for ``sft``, :class:`CuaGRPOTrainer` for ``grpo``, and
:class:`cua.train.online.OnlineGRPOTrainer` (live episodes through an environment pool) for ``grpo_online``.

Contract of :func:`run_stage`: trains ``model`` in place (or a peft wrapper of it), writes checkpoints to
``run_dir/<stage>/checkpoint-N`` (each with ``cua_processing.json``), the final weights (or LoRA adapter) plus
processor to ``run_dir/<stage>/final``, and returns the trained model with any LoRA merged, ready for the next
stage. With LoRA the merged model is also saved to ``run_dir/<stage>/merged``: the next stage's adapter names
that folder as its base, so every stage's adapter loads onto exactly the weights it was trained on. ``resume=True`` continues from the stage's last checkpoint (optimizer, scheduler, RNG, data position).

CPU defaults (no CUDA): ``use_cpu=True``, ``bf16=False``; asking for bf16 on a CPU-only machine is refused by
:mod:`cua.train.checks` before anything runs. ``report_to`` defaults to ``"none"``; set it in the stage's
``trl`` mapping for TensorBoard / W&B.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from cua.models.loading import ProcessingConfig
from cua.train.callbacks import JsonlMetrics, SaveProcessing, truncate
from cua.train.live_eval import VALIDATION_KEY
from cua.train.recipe import Recipe, StageSpec, trl_config_class

FINAL = "final"
MERGED = "merged"
DONE_MARKER = "DONE"

try:
    from trl import GRPOTrainer as _GRPOBase
except ImportError:  # pragma: no cover - trl is a hard dependency; keeps `import cua.train` light in theory
    _GRPOBase = object  # type: ignore[assignment,misc]


class CuaGRPOTrainer(_GRPOBase):  # type: ignore[misc,valid-type]
    """trl's GRPOTrainer with one seam: ``advantage_fn(inputs, outputs) -> advantages``.

    When ``advantage_fn`` is None (every shipped recipe) this is trl's trainer unchanged. The online multi-turn
    stage plugs in here: hierarchical / step-level advantages replace ``outputs["advantages"]`` (shape
    ``(B,)`` or per-token ``(B, T)``), and multi-turn rollouts come through trl's own ``rollout_func`` /
    ``environment_factory`` arguments, which :func:`run_stage` passes through.
    """

    def __init__(self, *args: Any, advantage_fn: Callable[[list, dict], Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.advantage_fn = advantage_fn

    def _generate_and_score_completions(self, inputs: list[dict[str, Any]]) -> dict[str, Any]:
        outputs = super()._generate_and_score_completions(inputs)
        if self.advantage_fn is not None:
            outputs["advantages"] = self.advantage_fn(inputs, outputs)
        return outputs


def trl_args(recipe: Recipe, stage: StageSpec, stage_dir: Path, *, cuda: bool) -> Any:
    """trl's config for ``stage``: cua's defaults, then the stage's ``trl`` mapping on top."""
    defaults: dict[str, Any] = {
        "output_dir": str(stage_dir), "report_to": "none", "seed": recipe.seed, "logging_steps": 1,
        "save_strategy": "steps", "save_steps": 50, "remove_unused_columns": False,
    }
    if not cuda:
        defaults.update(use_cpu=True, bf16=False, fp16=False, gradient_checkpointing=False)
    if stage.kind == "sft":
        defaults.update(max_length=None)
    elif stage.kind == "grpo_online":
        from cua.train.online import LOSS_TYPES

        # trl's dataloader only paces updates here (cua.train.online): 2 placeholder rows, one generation
        # per optimiser step; ARPO trains without a KL term (beta 0).
        defaults.update(num_generations=2, per_device_train_batch_size=2, steps_per_generation=1,
                        gradient_accumulation_steps=1, beta=0.0,
                        loss_type=LOSS_TYPES[stage.online.loss_normalisation])  # type: ignore[union-attr]
    else:
        weights = [r.weight for r in recipe.stage_rewards(stage)]
        if weights:
            defaults["reward_weights"] = weights
    values = {**defaults, **dict(stage.trl)}
    config = trl_config_class(stage.kind)(**values)
    if stage.live_eval is not None and stage.live_eval.keep_best:
        # cua.train.live_eval records the best validation check in TrainerState (best_metric,
        # best_model_checkpoint: kept by checkpoint rotation, restored by resume) and train() loads it at the end.
        # Set after construction: TrainingArguments' check that eval and save strategies match assumes that
        # Trainer.evaluate() supplies the metric; here a callback does.
        config.load_best_model_at_end = True
        config.metric_for_best_model = VALIDATION_KEY
        config.greater_is_better = True
    return config


def lora_config(recipe: Recipe) -> Any:
    """peft ``LoraConfig`` from the recipe, or None."""
    if recipe.lora is None:
        return None
    from peft import LoraConfig

    spec = recipe.lora
    return LoraConfig(r=spec.r, lora_alpha=spec.alpha, lora_dropout=spec.dropout,
                      target_modules=spec.target_modules, task_type="CAUSAL_LM")


def freeze_vision(model: Any) -> int:
    """Freeze the vision tower (parameters under ``visual``); returns how many tensors were frozen."""
    count = 0
    for name, param in model.named_parameters():
        if ".visual." in f".{name}" or name.startswith("visual."):
            param.requires_grad_(False)
            count += 1
    return count


def last_checkpoint(stage_dir: Path) -> Path | None:
    """The highest ``checkpoint-N`` folder whose trainer state is complete (a run killed while writing it
    leaves it empty or truncated: that checkpoint is skipped), or None."""
    found = [p for p in stage_dir.glob("checkpoint-*") if _complete_state(p / "trainer_state.json")]
    return max(found, key=lambda p: int(p.name.split("-")[-1])) if found else None


def _complete_state(path: Path) -> bool:
    import json

    try:
        json.loads(path.read_text())
    except (OSError, ValueError):
        return False
    return True


def run_stage(
    recipe: Recipe,
    stage: StageSpec,
    *,
    model: Any,
    processor: Any,
    train_dataset: Any,
    eval_dataset: Any | None,
    reward_funcs: list[Callable] | None,
    processing: ProcessingConfig,
    run_dir: Path,
    resume: bool,
    cuda: bool,
    extra_callbacks: list[Any] = (),
    **trainer_kwargs: Any,
) -> Any:
    """Train one stage (see the module docstring); returns the merged model for the next stage."""
    stage_dir = run_dir / stage.name
    stage_dir.mkdir(parents=True, exist_ok=True)
    args = trl_args(recipe, stage, stage_dir, cuda=cuda)
    checkpoint = last_checkpoint(stage_dir) if resume else None
    truncate(run_dir, stage.name, _step_of(checkpoint))
    callbacks = [JsonlMetrics(run_dir, stage.name), SaveProcessing(processing), *extra_callbacks]
    common = dict(model=model, args=args, train_dataset=train_dataset, eval_dataset=eval_dataset,
                  processing_class=processor, callbacks=callbacks, peft_config=lora_config(recipe))
    if stage.kind == "sft":
        from trl import SFTTrainer

        trainer = SFTTrainer(**common, **trainer_kwargs)
    elif stage.kind == "grpo_online":
        from contextlib import ExitStack

        from cua.train.online import OnlineGRPOTrainer, open_slots

        with ExitStack() as stack:
            slots = open_slots(stage.online, stack)  # type: ignore[arg-type]
            trainer = OnlineGRPOTrainer(reward_funcs=reward_funcs, online=stage.online, slots=slots, **common,
                                        **trainer_kwargs)
            trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
        return finish_stage(trainer, processor, processing, stage_dir)
    else:
        trainer = CuaGRPOTrainer(reward_funcs=reward_funcs, **common, **trainer_kwargs)
    trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    return finish_stage(trainer, processor, processing, stage_dir)


def _step_of(checkpoint: Path | None) -> int:
    return int(checkpoint.name.split("-")[-1]) if checkpoint else 0


def finish_stage(trainer: Any, processor: Any, processing: ProcessingConfig, stage_dir: Path) -> Any:
    """Save ``final`` (weights or adapter + processor + cua_processing.json), mark done, return merged model."""
    final = stage_dir / FINAL
    trainer.save_model(str(final))
    processor.save_pretrained(str(final))
    processing.save(final)
    model = trainer.model
    if hasattr(model, "merge_and_unload"):
        model = _save_merged(model.merge_and_unload(), processor, processing, stage_dir / MERGED)
    (stage_dir / DONE_MARKER).write_text(str(trainer.state.global_step) + "\n")
    return model


def _save_merged(model: Any, processor: Any, processing: ProcessingConfig, folder: Path) -> Any:
    """Save a LoRA-merged model and make it the base that the next stage's adapter names."""
    model.save_pretrained(str(folder))
    processor.save_pretrained(str(folder))
    processing.save(folder)
    model.config._name_or_path = str(folder)
    model.name_or_path = str(folder)
    return model
