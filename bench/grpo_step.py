"""GRPO step time: ``cua train``'s GRPO stage vs plain ``trl.GRPOTrainer``, side by side in one process.

Same tiny Qwen3-VL, same rendered rows (cua.train.data), same reward, same GRPOConfig values. The two paths
alternate (cua then trl, then trl then cua, ...) so machine load hits both alike; each run's first ``--warmup`` steps are
dropped and the median step time of each path is compared. Goal: ratio <= 1.10.

    python bench/grpo_step.py [--rounds 3] [--steps 8] [--warmup 2]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

from transformers import TrainerCallback

GRPO = {"max_steps": 8, "per_device_train_batch_size": 8, "num_generations": 4, "max_completion_length": 8,
        "learning_rate": 1e-4, "save_strategy": "no", "logging_steps": 1, "report_to": "none"}


class StepTimer(TrainerCallback):
    def __init__(self) -> None:
        self.times: list[float] = []
        self._t = 0.0

    def on_step_begin(self, args, state, control, **kwargs):  # noqa: ANN001, D102
        self._t = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):  # noqa: ANN001, D102
        self.times.append(time.perf_counter() - self._t)


def toy_rows(n: int, seed: int = 0, size: int = 256) -> list[dict]:
    from PIL import Image, ImageDraw

    rng, rows = random.Random(seed), []
    for _ in range(n):
        img = Image.new("RGB", (size, size), (200, 200, 200))
        x, y = rng.randrange(0, size - 32), rng.randrange(0, size - 32)
        ImageDraw.Draw(img).rectangle([x, y, x + 31, y + 31], fill=(220, 30, 30))
        rows.append({"image": img, "width": size, "height": size, "goal": "click the button", "history": None,
                     "action": json.dumps({"action": "click", "x": x + 16, "y": y + 16}),
                     "bbox": [x, y, x + 31, y + 31], "source": "bench"})
    return rows


def recipe(steps: int):
    from cua.train.recipe import parse_recipe

    return parse_recipe({
        "name": "bench", "model": {"tiny": "qwen3_vl"}, "codec": "grid8", "min_pixels": 65536,
        "max_pixels": 65536, "data": [{"loader": "bench", "args": {"n": 64}}], "rewards": ["codec_hit"],
        "stages": [{"name": "grpo", "kind": "grpo", "trl": {**GRPO, "max_steps": steps}}],
    })


def run_cua(steps: int, base: Path, work: Path) -> list[float]:
    from cua.train.runner import train

    r = recipe(steps)
    run = work / f"cua-{time.monotonic_ns()}"
    run.mkdir()
    (run / "base").symlink_to(base, target_is_directory=True)
    timer = StepTimer()
    train(r, run, callbacks=[timer])
    return timer.times


def run_trl(steps: int, base: Path, work: Path) -> list[float]:
    import trl

    from cua.codecs import get_codec
    from cua.models.loading import load_model_and_processor
    from cua.train.data import Pixels, build_dataset
    from cua.rewards.gta1 import codec_hit

    model, processor = load_model_and_processor(str(base), min_pixels=65536, max_pixels=65536, device_map="cpu")
    data = build_dataset(toy_rows(64), get_codec("grid8"), Pixels(32, 65536, 65536), with_completion=False)
    args = trl.GRPOConfig(output_dir=str(work / "trl"), use_cpu=True, bf16=False, gradient_checkpointing=False,
                          remove_unused_columns=False, seed=0, **{**GRPO, "max_steps": steps})
    timer = StepTimer()
    trainer = trl.GRPOTrainer(model=model.train(), reward_funcs=[codec_hit], args=args, train_dataset=data,
                              processing_class=processor, callbacks=[timer])
    trainer.train()
    return timer.times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--warmup", type=int, default=2)
    opts = parser.parse_args()

    from cua import datasets as cds
    from cua.models.tiny import save_tiny

    cds.LOADERS = {**getattr(cds, "LOADERS", {}), "bench": lambda n: toy_rows(n)}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        base = save_tiny("qwen3_vl", work / "base")
        times: dict[str, list[float]] = {"cua": [], "trl": []}
        ratios = []
        for i in range(opts.rounds):
            first, second = (run_cua, run_trl) if i % 2 == 0 else (run_trl, run_cua)
            a = first(opts.steps, base, work)[opts.warmup:]
            b = second(opts.steps, base, work)[opts.warmup:]
            cua_t, trl_t = (a, b) if first is run_cua else (b, a)
            times["cua"] += cua_t
            times["trl"] += trl_t
            ratios.append(statistics.median(cua_t) / statistics.median(trl_t))
            print(f"round {i + 1}: cua {statistics.median(cua_t) * 1000:.1f} ms, trl "
                  f"{statistics.median(trl_t) * 1000:.1f} ms, ratio {ratios[-1]:.3f}", flush=True)
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"GRPO step (tiny qwen3_vl, 8 prompts x 4 generations x <=8 tokens, {len(times['cua'])} steps each)")
    print(f"  cua train GRPO stage : median {med['cua'] * 1000:8.1f} ms")
    print(f"  plain trl.GRPOTrainer: median {med['trl'] * 1000:8.1f} ms")
    print(f"  ratio cua/trl        : {med['cua'] / med['trl']:.3f}x  (goal <= 1.10x)")
    print(f"  median of per-round ratios: {statistics.median(ratios):.3f}x  (robust to load that changes between rounds)")
    best = {k: min(v) for k, v in times.items()}
    print(f"  fastest step: cua {best['cua'] * 1000:.1f} ms, trl {best['trl'] * 1000:.1f} ms, ratio "
          f"{best['cua'] / best['trl']:.3f}x  (closest to the uncontended cost on a shared machine)")


if __name__ == "__main__":
    main()
