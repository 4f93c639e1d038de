"""Online rollouts: one step of N live episodes with ONE batched generate vs N sequential generates, and the time
split of one online GRPO update (devices / generation / training).

Part 1: N sandbox phones in an EnvPool (process workers), a tiny Qwen3-VL policy (sampling). Each round plays
one step of N episodes through :func:`cua.agent.run_episodes` twice, alternating the order: with the policy's
``propose_batch`` (one generate for the N prompts) and with a wrapper that only has ``propose`` (N generates,
one after the other, through the same loop). Reported: the median step wall time and generation time of each,
and their ratio (goal: batched <= 0.4 x sequential).

Part 2: a ``grpo_online`` stage of ``--updates`` updates (one group of N on the same kind of pool) through
``cua train``'s runner; from metrics.jsonl, per update: devices = rollout - generation, generation, and
training = step time - rollout.

    python bench/rollout.py [--n 8] [--rounds 3] [--tokens 16] [--updates 3] [--codec qwen3_mobile_use|grid8]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any


class Sequential:
    """The same policy seen without its batched form: the agent's batcher then calls ``propose`` N times."""

    def __init__(self, policy: Any) -> None:
        self.policy, self.name = policy, policy.name

    def reset(self, goal: str) -> None:
        self.policy.reset(goal)

    def propose(self, goal: str, observation: Any, history: Any) -> Any:
        return self.policy.propose(goal, observation, history)


def one_step(pool: Any, policy: Any, n: int, seed: int) -> tuple[float, float]:
    from cua.agent import EpisodeJob, run_episodes

    tasks = [env.start("settings_toggle", seed=seed + i) for i, env in enumerate(pool.slots[:n])]
    jobs = [EpisodeJob(device=env.device, task=task, max_steps=1) for env, task in zip(pool.slots, tasks)]
    t0 = time.perf_counter()
    _, batcher = run_episodes(jobs, policy)
    return time.perf_counter() - t0, sum(batcher.seconds)


def batched_vs_sequential(n: int, rounds: int, tokens: int, model_dir: Path, codec: str) -> dict[str, float]:
    import torch

    import cua.train  # noqa: F401  (registers the grid8 codec)
    from cua.devices.pool import EnvPool
    from cua.models.loading import load_model_and_processor
    from cua.policies.model import QwenVLPolicy

    model, processor = load_model_and_processor(str(model_dir))
    policy = QwenVLPolicy.from_model(model, processor, codec=codec, sample=True, max_new_tokens=tokens)
    policy.generation_overrides = {"min_new_tokens": tokens}  # every completion the same length: a fair count
    times: dict[str, list[tuple[float, float]]] = {"batched": [], "sequential": []}
    with EnvPool("sandbox", size=n, backend="process") as pool:
        for r in range(rounds):
            order = ["batched", "sequential"] if r % 2 == 0 else ["sequential", "batched"]
            for name in order:
                torch.manual_seed(r)
                times[name].append(one_step(pool, policy if name == "batched" else Sequential(policy), n, 10 * r))
    out = {}
    for name, runs in times.items():
        out[f"{name}_step_s"] = statistics.median(t for t, _ in runs)
        out[f"{name}_generation_s"] = statistics.median(g for _, g in runs)
    out["step_ratio"] = out["batched_step_s"] / out["sequential_step_s"]
    out["generation_ratio"] = out["batched_generation_s"] / out["sequential_generation_s"]
    return out


def update_split(n: int, updates: int, tokens: int, run_dir: Path) -> list[dict[str, float]]:
    from cua.train.recipe import parse_recipe
    from cua.train.runner import train

    recipe = parse_recipe({
        "name": "bench_online", "model": {"tiny": "qwen3_vl"}, "codec": "qwen3_mobile_use",
        "min_pixels": 65536, "max_pixels": 65536,
        "stages": [{"name": "online", "kind": "grpo_online", "online": {
            "env": "sandbox", "tasks": ["settings_toggle"], "pool_size": n, "group_size": n, "max_episode_steps": 2},
            "trl": {"max_steps": updates, "save_strategy": "no", "logging_steps": 1,
                    "max_completion_length": tokens}}]})
    train(recipe, run_dir)
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    split = []
    for row in rows:
        if "time/rollout_s" in row:
            rollout, gen = row["time/rollout_s"], row["time/generation_s"]
            split.append({"devices_s": rollout - gen, "generation_s": gen,
                          "training_s": row["step_time"] - rollout, "turns": row["online/turns"]})
    return split


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tokens", type=int, default=16)
    parser.add_argument("--updates", type=int, default=3, help="0: skip the update time split")
    parser.add_argument("--codec", default="qwen3_mobile_use",
                        help="the prompt format (qwen3_mobile_use: ~1,700 prompt tokens; grid8: a one-word prompt)")
    args = parser.parse_args()
    from cua.models.tiny import save_tiny

    with tempfile.TemporaryDirectory() as tmp:
        model_dir = save_tiny("qwen3_vl", Path(tmp) / "tiny")
        res = batched_vs_sequential(args.n, args.rounds, args.tokens, model_dir, args.codec)
        print(f"one step of {args.n} live sandbox episodes (tiny Qwen3-VL, {args.codec}, {args.tokens} new tokens "
              f"each, median of {args.rounds}):")
        print(f"  {'':12}{'step s':>10}{'generate s':>12}")
        for name in ("batched", "sequential"):
            print(f"  {name:12}{res[f'{name}_step_s']:>10.2f}{res[f'{name}_generation_s']:>12.2f}")
        print(f"  ratio batched/sequential: step {res['step_ratio']:.2f}x, generation {res['generation_ratio']:.2f}x"
              " (goal <= 0.40x)")
        if args.updates <= 0:
            return
        split = update_split(args.n, args.updates, args.tokens, Path(tmp) / "run")
        print(f"one online update (group of {args.n}, 2-step episodes): devices / generation / training, seconds")
        for i, row in enumerate(split):
            print(f"  update {i + 1}: {row['devices_s']:.2f} / {row['generation_s']:.2f} / {row['training_s']:.2f}"
                  f"  ({row['turns']:.0f} turns)")


if __name__ == "__main__":
    main()
