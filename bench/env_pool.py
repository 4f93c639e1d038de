"""Environment pool throughput: sandbox episodes per minute with N = 1, 2, 4 process workers, and Ray actors
against processes at N = 2, side by side in one run.

Every configuration plays the same fixed job list (every sandbox template x ``--seeds`` seeds) with the oracle
policy (run in the parent, as model policies are) through :meth:`cua.devices.pool.EnvPool.run`. All pools are
booted first (boot time is reported apart from throughput); then ``--rounds`` rounds play the list once per
configuration, the order rotating each round so that load drift on a shared machine hits every configuration
alike. Reported per configuration: the median round time, episodes per minute, the speed-up over N = 1 and the
goal ``N workers >= 0.8 x min(N, cores) x one worker``; and Ray's time over local's at N = 2 (goal <= 1.2x).
Run: ``python bench/env_pool.py [--seeds 2] [--rounds 2] [--no-ray]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from typing import Any

from cua.devices.pool import EnvPool
from cua.devices.sandbox.tasks.base import SandboxTask
from cua.policies.oracle import OraclePolicy
from cua.task import TASKS, get_task


def jobs(seeds: int) -> list[tuple[str, int]]:
    get_task("apps_open")  # loads the sandbox templates
    ids = sorted(t for t, cls in TASKS.items() if issubclass(cls, SandboxTask))
    return [(task_id, 100 + seed) for seed in range(seeds) for task_id in ids]


def play(pool: EnvPool, todo: list[tuple[str, int]]) -> float:
    t0 = time.perf_counter()
    results = pool.run(todo, OraclePolicy, max_retries=1)
    elapsed = time.perf_counter() - t0
    bad = [(r.job, r.trajectory.status, r.trajectory.error) for r in results if r.trajectory.success != 1.0]
    if bad:
        raise RuntimeError(f"{len(bad)} oracle episodes did not succeed, e.g. {bad[0]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=2, help="seeds per template (episodes = templates x seeds)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--sizes", default="1,2,4")
    parser.add_argument("--no-ray", action="store_true")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    cores = len(os.sched_getaffinity(0))
    todo = jobs(args.seeds)
    configs: list[tuple[str, str, int]] = [(f"process N={n}", "process", n) for n in sizes]
    if not args.no_ray:
        import ray

        ray.init(num_cpus=max(2, cores), include_dashboard=False, log_to_driver=False)
        configs.append(("ray N=2", "ray", 2))
    print(f"{len(todo)} oracle episodes per round, {args.rounds} rounds; {cores} cores; "
          f"load average at start {os.getloadavg()[0]:.1f}")
    pools: dict[str, EnvPool] = {}
    boot: dict[str, float] = {}
    times: dict[str, list[float]] = {name: [] for name, _, _ in configs}
    try:
        for name, backend, size in configs:
            t0 = time.perf_counter()
            pools[name] = EnvPool("sandbox", size=size, backend=backend)
            boot[name] = time.perf_counter() - t0
        for r in range(args.rounds):
            order = configs[r % len(configs):] + configs[:r % len(configs)]
            for name, _, _ in order:
                times[name].append(play(pools[name], todo))
    finally:
        for pool in pools.values():
            pool.close()
    report(configs, todo, times, boot, cores)


def report(configs: list[tuple[str, str, int]], todo: list[Any], times: dict[str, list[float]],
           boot: dict[str, float], cores: int) -> None:
    median = {name: statistics.median(ts) for name, ts in times.items()}
    base = median.get("process N=1")
    print(f"\n{'config':<14} {'boot s':>7} {'round s':>8} {'eps/min':>8} {'speed-up':>9} {'goal':>6}  ok")
    for name, _, size in configs:
        per_min = len(todo) / median[name] * 60
        speed = base / median[name] if base else float("nan")
        goal = 0.8 * min(size, cores)
        ok = "yes" if speed >= goal else "NO"
        print(f"{name:<14} {boot[name]:>7.1f} {median[name]:>8.1f} {per_min:>8.1f} {speed:>8.2f}x {goal:>5.2f}x  {ok}")
    if "ray N=2" in median and "process N=2" in median:
        ratio = median["ray N=2"] / median["process N=2"]
        print(f"\nray / process time at N=2: {ratio:.2f}x (goal <= 1.20x): {'yes' if ratio <= 1.2 else 'NO'}")
    print(f"load average at end {os.getloadavg()[0]:.1f} (a shared machine: figures move with other users' load)")


if __name__ == "__main__":
    main()
