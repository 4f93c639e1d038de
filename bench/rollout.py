"""Online rollouts: one step of N live episodes with ONE batched generate vs N sequential generates, and the time
split of one online GRPO update (devices / generation / training).

Part 1: N sandbox phones in an EnvPool (process workers), a tiny Qwen3-VL policy (sampling). Each round plays
one step of N episodes through :func:`cua.agent.run_episodes` twice, alternating the order: with the policy's
``propose_batch`` (one generate for the N prompts) and with a wrapper that only has ``propose`` (N generates,
one after the other, through the same loop). Reported: the median step wall time and generation time of each,
and their ratio (goal: batched <= 0.4 x sequential), with where each step's time goes: devices (the step less
the policy's time: observe, act and the threads), messages (the prompts, PNG decoding included), processor
(tokens and pixel values), generate (the ``model.generate`` calls; beside it two parts of it: the vision
tower and the text prefill, the forward passes over whole prompts; the rest of it is decoding) and, from those, the best step ratio batching the generate call could reach (the step
ratio if the batched generate cost nothing).

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
from typing import Any, Callable


class Sequential:
    """The same policy seen without its batched form: the agent's batcher then calls ``propose`` N times."""

    def __init__(self, policy: Any) -> None:
        self.policy, self.name = policy, policy.name

    def reset(self, goal: str) -> None:
        self.policy.reset(goal)

    def propose(self, goal: str, observation: Any, history: Any) -> Any:
        return self.policy.propose(goal, observation, history)


PARTS = ("messages", "processor", "generate", "vision", "prefill")


class Split:
    """Seconds spent in the policy's ``messages`` and ``inputs``, the model's ``generate``, its vision tower and
    its text prefill (a forward over more than one new token; images come encoded), summed since :meth:`take`.
    Wraps the given instances' methods and hooks their modules; for this bench only."""

    def __init__(self, policy: Any) -> None:
        self.seconds = dict.fromkeys(PARTS, 0.0)
        self._timed(policy, "messages", "messages")
        self._timed(policy, "inputs", "processor")
        self._timed(policy.model, "generate", "generate")
        self._hooked(policy.model.model.visual, "vision", lambda kwargs: True)
        self._hooked(policy.model, "prefill", lambda kwargs: kwargs.get("input_ids") is not None
                     and kwargs["input_ids"].shape[1] > 1)

    def _timed(self, owner: Any, method: str, part: str) -> None:
        inner = getattr(owner, method)

        def timed(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                self.seconds[part] += time.perf_counter() - t0

        setattr(owner, method, timed)

    def _hooked(self, module: Any, part: str, counts: Callable[[dict[str, Any]], bool]) -> None:
        starts: list[float] = []

        def pre(_module: Any, _args: Any, kwargs: dict[str, Any]) -> None:
            starts.append(time.perf_counter() if counts(kwargs) else -1.0)

        def post(_module: Any, _args: Any, _kwargs: Any, _out: Any) -> None:
            start = starts.pop()
            if start >= 0:
                self.seconds[part] += time.perf_counter() - start

        module.register_forward_pre_hook(pre, with_kwargs=True)
        module.register_forward_hook(post, with_kwargs=True)

    def take(self) -> dict[str, float]:
        out, self.seconds = self.seconds, dict.fromkeys(PARTS, 0.0)
        return out


def one_step(pool: Any, policy: Any, n: int, seed: int, split: Split) -> dict[str, float]:
    from cua.agent import EpisodeJob, run_episodes

    tasks = [env.start("settings_toggle", seed=seed + i) for i, env in enumerate(pool.slots[:n])]
    jobs = [EpisodeJob(device=env.device, task=task, max_steps=1) for env, task in zip(pool.slots, tasks)]
    split.take()
    t0 = time.perf_counter()
    _, batcher = run_episodes(jobs, policy)
    step = time.perf_counter() - t0
    return {"step": step, "generation": sum(batcher.seconds), "devices": step - sum(batcher.seconds),
            **split.take()}


def batched_vs_sequential(n: int, rounds: int, tokens: int, model_dir: Path, codec: str) -> dict[str, float]:
    import torch

    import cua.train  # noqa: F401  (registers the grid8 codec)
    from cua.devices.pool import EnvPool
    from cua.models.loading import load_model_and_processor
    from cua.policies.model import QwenVLPolicy

    model, processor = load_model_and_processor(str(model_dir))
    policy = QwenVLPolicy.from_model(model, processor, codec=codec, sample=True, max_new_tokens=tokens)
    policy.generation_overrides = {"min_new_tokens": tokens}  # every completion the same length: a fair count
    split = Split(policy)
    times: dict[str, list[dict[str, float]]] = {"batched": [], "sequential": []}
    with EnvPool("sandbox", size=n, backend="process") as pool:
        for r in range(rounds):
            order = ["batched", "sequential"] if r % 2 == 0 else ["sequential", "batched"]
            for name in order:
                torch.manual_seed(r)
                chosen = policy if name == "batched" else Sequential(policy)
                times[name].append(one_step(pool, chosen, n, 10 * r, split))
    out = {}
    for name, runs in times.items():
        for part in runs[0]:
            out[f"{name}_{part}_s"] = statistics.median(run[part] for run in runs)
    out["step_ratio"] = out["batched_step_s"] / out["sequential_step_s"]
    out["generation_ratio"] = out["batched_generation_s"] / out["sequential_generation_s"]
    out["generate_ratio"] = out["batched_generate_s"] / out["sequential_generate_s"]
    fixed = out["batched_step_s"] - out["batched_generate_s"]
    out["best_step_ratio"] = fixed / out["sequential_step_s"]
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
        columns = ("step", "generation", "devices", "messages", "processor", "generate", "vision", "prefill")
        print(f"  {'seconds':12}" + "".join(f"{c:>12}" for c in columns))
        for name in ("batched", "sequential"):
            print(f"  {name:12}" + "".join(f"{res[f'{name}_{c}_s']:>12.3f}" for c in columns))
        print(f"  ratio batched/sequential: step {res['step_ratio']:.2f}x, generation {res['generation_ratio']:.2f}x,"
              f" generate calls {res['generate_ratio']:.2f}x (goal <= 0.40x)")
        print(f"  best step ratio if the batched generate cost nothing: {res['best_step_ratio']:.2f}x "
              "(the batched step's devices, messages and processor over the sequential step)")
        if args.updates <= 0:
            return
        split = update_split(args.n, args.updates, args.tokens, Path(tmp) / "run")
        print(f"one online update (group of {args.n}, 2-step episodes): devices / generation / training, seconds")
        for i, row in enumerate(split):
            print(f"  update {i + 1}: {row['devices_s']:.2f} / {row['generation_s']:.2f} / {row['training_s']:.2f}"
                  f"  ({row['turns']:.0f} turns)")


if __name__ == "__main__":
    main()
