"""Issue 13's comparison, one command: trajectory GRPO vs + GiGPO step groups vs hierarchical vs Hi-Agent's
foresight advantage vs turn-level IS on the learning-proof environment (``online_proof`` recipe: button_chain on the web backend), from ONE SFT checkpoint.

    python bench/credit_compare.py --out runs/credit [--updates 200] [--episodes 200] [--tasks button_chain.3]

1. ``trajectory`` runs the recipe's SFT stage (stopped early on its held-out proxy, as in the learning proof)
   and then its online stage (trajectory GRPO), both scored by the recipe's live held-out evaluation;
2. every other variant gets a copy of that run's ``base/`` and finished ``sft/`` folders and ``--resume``s,
   so its online stage starts from the same SFT model, with the same number of updates (``--updates``; each
   update plays ``group_size`` x ``groups_per_step`` episodes, so the variants see the same number of
   episodes; environment steps are the episodes' lengths, reported per variant from ``metrics.jsonl``);
3. held-out success (``--episodes`` live episodes of unseen seeds, greedy) at the online stage's end, with a
   Wilson 95% interval, the environment steps played and the wall time go in ``OUT/table.md``; ``cua plot
   OUT/VARIANT`` draws each variant's curves.

Caveat for ``hierarchical`` here: the recipe's tiny grid8 model writes at most ``max_completion_length`` (3)
tokens, so its subgoals are a few tokens that replace the goal in the low level's prompt; the variant measures
the two-level wiring on this model, not Hi-Agent's planner. ``foresight`` (hierarchical + the foresight
advantage, :mod:`cua.train.foresight`) keeps the recipe's 8 candidates per state on 8 slots and turns replay off
(it does not compose); an update then plays ``groups_per_step`` trunks, each state on 8 replayed branches, so its
environment steps (``online/env_steps``, replays included) are far above the others' for the same updates.
``--dry-run`` prints the commands only. Each variant is a long CPU run (the learning proof's budget); do not run
it on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Sequence

from cua.eval.compare import wilson

RECIPE = "online_proof"
ONLINE = "stages.online.online"
#: name -> recipe overrides of the online stage (on top of the recipe's trajectory GRPO + curriculum + replay).
VARIANTS: dict[str, list[str]] = {
    "trajectory": [],
    "gigpo": [f"{ONLINE}.advantage=gigpo"],
    "hierarchical": [f"{ONLINE}.hierarchical=true"],
    "foresight": [f"{ONLINE}.hierarchical=true", f"{ONLINE}.advantage=foresight", f"{ONLINE}.replay=false",
                  f"{ONLINE}.pool_size=8"],
    "st_ppo": [f"{ONLINE}.importance_sampling=st_ppo"],
}
TABLE = "table.md"


def commands(out: Path, variant: str, *, updates: int, episodes: int, tasks: str, every: int) -> list[str]:
    """The ``cua train`` command line of one variant (live held-out evaluation as the recipe's ``live_eval``)."""
    # the recipe's 60-minute cap lifted: every variant plays the same number of updates
    sets = [f"stages.online.trl.max_steps={updates}", "stages.online.max_minutes=100000",
            f"live_eval.tasks=[{tasks}]", f"live_eval.episodes={episodes}", f"stages.online.live_eval.every={every}",
            *VARIANTS[variant]]
    cmd = [sys.executable, "-m", "cua", "train", RECIPE, "--out", str(out / variant)]
    for s in sets:
        cmd += ["--set", s]
    if variant != "trajectory":
        cmd.append("--resume")
    return cmd


def seed_from_baseline(out: Path, variant: str) -> None:
    """Give ``variant`` the baseline's recipe, base model and finished SFT stage (the same starting point)."""
    src, dst = out / "trajectory", out / variant
    if not (src / "sft" / "DONE").is_file():
        raise SystemExit(f"{src}: the baseline's SFT stage has not finished")
    dst.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src / "recipe.yaml", dst / "recipe.yaml")
    for part in ("base", "sft"):
        if (src / part).is_dir() and not (dst / part).exists():
            shutil.copytree(src / part, dst / part)


def summarise(run: Path) -> dict[str, Any]:
    """Held-out success of the online stage's last live evaluation, its interval, and environment steps played
    (``online/env_steps`` where logged: every device step, foresight's replays included)."""
    rows = [json.loads(x) for x in (run / "live_eval.jsonl").read_text().splitlines() if x.strip()]
    last = [r for r in rows if r.get("stage") == "online"][-1]
    n = int(last["live_eval/n"])
    rate = float(last["eval/live_success"])
    low, high = wilson(rate * n, n)
    steps = 0.0
    for line in (run / "metrics.jsonl").read_text().splitlines():
        row = json.loads(line) if line.strip() else {}
        if "online/env_steps" in row:
            steps += row["online/env_steps"]
        elif "online/episodes" in row:
            steps += row["online/episodes"] * row.get("online/episode_steps", 0.0)
    return {"success": rate, "n": n, "low": low, "high": high, "env_steps": int(round(steps)), "step": last["step"]}


def table(out: Path, walls: dict[str, float]) -> str:
    lines = ["| variant | held-out success | 95% CI | episodes | env steps | updates | wall (min) |",
             "|---|---|---|---|---|---|---|"]
    for name in VARIANTS:
        run = out / name
        if not (run / "live_eval.jsonl").is_file():
            continue
        s = summarise(run)
        wall = f"{walls[name] / 60:.1f}" if name in walls else "-"
        lines.append(f"| {name} | {s['success']:.3f} | [{s['low']:.3f}, {s['high']:.3f}] | {s['n']} | "
                     f"{s['env_steps']} | {s['step']} | {wall} |")
    note = "\nwall: the variant's command; the trajectory baseline's includes the shared SFT stage.\n"
    return "\n".join(lines) + "\n" + note


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--updates", type=int, default=200, help="online updates per variant")
    parser.add_argument("--episodes", type=int, default=200, help="held-out episodes per evaluation")
    parser.add_argument("--tasks", default="button_chain.3", help="held-out task ids, comma-separated")
    parser.add_argument("--every", type=int, default=25, help="online steps between live evaluations (curves)")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--dry-run", action="store_true")
    ns = parser.parse_args(argv)
    chosen = [v for v in ns.variants.split(",") if v]
    unknown = sorted(set(chosen) - set(VARIANTS))
    if unknown:
        raise SystemExit(f"unknown variants {unknown}; valid: {', '.join(VARIANTS)}")
    if "trajectory" in chosen:  # the baseline first: it makes the shared SFT checkpoint
        chosen.remove("trajectory")
        chosen.insert(0, "trajectory")
    walls: dict[str, float] = {}
    for name in chosen:
        cmd = commands(ns.out, name, updates=ns.updates, episodes=ns.episodes, tasks=ns.tasks, every=ns.every)
        print(shlex.join(cmd), flush=True)
        if ns.dry_run:
            continue
        if name != "trajectory":
            seed_from_baseline(ns.out, name)
        t0 = time.monotonic()
        subprocess.run(cmd, check=True)
        walls[name] = time.monotonic() - t0
    if not ns.dry_run:
        text = table(ns.out, walls)
        (ns.out / TABLE).write_text(text)
        print(text)


if __name__ == "__main__":
    main()
