"""Issue 13's comparison, one command: trajectory GRPO vs + GiGPO step groups vs hierarchical vs Hi-Agent's
foresight advantage vs turn-level IS on the learning-proof environment (``online_proof`` recipe: button_chain on
the web backend), from ONE SFT checkpoint and with the same number of environment steps.

    python bench/credit_compare.py --out runs/credit [--env-steps 2624] [--sft-from runs/online_proof]
                                   [--episodes 200] [--tasks button_chain.2]

1. The shared start: with ``--sft-from RUN`` every variant gets a copy of RUN's ``recipe.yaml``, ``base/`` and
   finished ``sft/`` (a finished ``cua train online_proof`` run: the learning proof's SFT checkpoint);
   without it ``trajectory`` runs the recipe's SFT stage first (stopped early on its held-out proxy, as in the
   learning proof) and the other variants copy that. Every variant then ``--resume``s, so its online stage
   starts from the same SFT model.
2. The budget is environment steps (``online.max_env_steps``: every device step, foresight's replayed prefixes
   included): a variant's online stage ends after the update in which its steps reach ``--env-steps``. The
   recipe's ``max_steps`` (the learning-rate schedule) is kept and its 60-minute cap lifted, so a variant whose
   update costs more steps (foresight: each state's candidates on replayed branches) makes fewer updates.
3. Held-out success (``--episodes`` live episodes of unseen seeds, greedy) at the online stage's end, with a
   Wilson 95% interval, the environment steps played, the updates and the wall time go in ``OUT/table.md``;
   ``cua plot OUT/VARIANT`` draws each variant's curves (the recipe's periodic checks every ``--every`` updates).

Caveat for ``hierarchical`` here: the recipe's tiny grid8 model writes at most ``max_completion_length`` (3)
tokens, so its subgoals are a few tokens that replace the goal in the low level's prompt; the variant measures
the two-level wiring on this model, not Hi-Agent's planner. ``foresight`` (hierarchical + the foresight
advantage, :mod:`cua.train.foresight`) keeps the recipe's 8 candidates per state on 8 slots and turns replay off
(it does not compose). ``--dry-run`` prints the commands only. Each variant is a long CPU run (tens of minutes
for the default budget); wall times are only comparable on an otherwise idle machine.
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
from cua.train.callbacks import read_metrics
from cua.train.live_eval import LIVE_FILE

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
CURVES = "curves.png"


def commands(out: Path, variant: str, *, env_steps: int, episodes: int, tasks: str, every: int,
             shared_sft: bool = False) -> list[str]:
    """The ``cua train`` command line of one variant (live held-out evaluation as the recipe's ``live_eval``);
    ``shared_sft``: the variant's folder already holds the SFT stage (``--sft-from``), so it resumes too."""
    # the recipe's 60-minute cap lifted: every variant plays the same number of environment steps
    sets = [f"{ONLINE}.max_env_steps={env_steps}", "stages.online.max_minutes=100000",
            f"live_eval.tasks=[{tasks}]", f"live_eval.episodes={episodes}", f"stages.online.live_eval.every={every}",
            *VARIANTS[variant]]
    cmd = [sys.executable, "-m", "cua", "train", RECIPE, "--out", str(out / variant)]
    for s in sets:
        cmd += ["--set", s]
    if variant != "trajectory" or shared_sft:
        cmd.append("--resume")
    return cmd


def seed_from_baseline(out: Path, variant: str, src: Path | None = None) -> None:
    """Give ``variant`` the recipe, base model and finished SFT stage of ``src`` (default: the trajectory
    baseline's run in ``out``), so that every variant starts from the same point."""
    src = out / "trajectory" if src is None else src
    dst = out / variant
    if not (src / "sft" / "DONE").is_file():
        raise SystemExit(f"{src}: the SFT stage there has not finished")
    dst.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src / "recipe.yaml", dst / "recipe.yaml")
    for part in ("base", "sft"):
        if (src / part).is_dir() and not (dst / part).exists():
            shutil.copytree(src / part, dst / part)


def live_records(run: Path) -> list[dict[str, Any]]:
    """The run's live held-out records (``live_eval.jsonl``)."""
    return [json.loads(x) for x in (run / LIVE_FILE).read_text().splitlines() if x.strip()]


def update_steps(row: dict[str, Any]) -> float | None:
    """Environment steps of one update's metrics record (``online/env_steps`` where logged: every device step,
    foresight's replays included; else episodes x mean length); None for a record that is not an update."""
    if "online/env_steps" in row:
        return float(row["online/env_steps"])
    if "online/episodes" in row:
        return row["online/episodes"] * row.get("online/episode_steps", 0.0)
    return None


def summarise(run: Path) -> dict[str, Any]:
    """Held-out success of the online stage's last live evaluation, its interval, and environment steps played
    (:func:`update_steps` summed)."""
    last = [r for r in live_records(run) if r.get("stage") == "online"][-1]
    n = int(last["live_eval/n"])
    rate = float(last["eval/live_success"])
    low, high = wilson(rate * n, n)
    steps = sum(s for s in map(update_steps, read_metrics(run)) if s is not None)
    return {"success": rate, "n": n, "low": low, "high": high, "env_steps": int(round(steps)), "step": last["step"]}


def curves(run: Path) -> dict[str, list[tuple[float, float]]]:
    """A variant's curves against environment steps: ``held_out`` (the online stage's live checks: steps played
    by then, success) and ``sampled`` (each update's training-episode success, a moving mean of 10 updates)."""
    total, at_step, sampled, window = 0.0, {0: 0.0}, [], []
    for row in read_metrics(run):
        steps = update_steps(row)
        if row.get("stage") != "online" or "online/episodes" not in row or steps is None:
            continue
        total += steps
        at_step[int(row["step"])] = total
        window = (window + [float(row["online/success"])])[-10:]
        sampled.append((total, sum(window) / len(window)))
    last = {int(r["step"]): r for r in live_records(run) if r.get("stage") == "online"}  # a step's final check wins
    held_out = [(at_step.get(step, total), float(r["eval/live_success"])) for step, r in sorted(last.items())]
    return {"held_out": held_out, "sampled": sampled}


def plot(out: Path, start: float | None = None) -> Path:
    """Draw every finished variant's curves against environment steps into ``OUT/curves.png``; ``start``: the
    shared SFT checkpoint's held-out success, drawn at 0 steps."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    for name in VARIANTS:
        run = out / name
        if not (run / LIVE_FILE).is_file() or not (run / "metrics.jsonl").is_file():
            continue
        c = curves(run)
        held = ([(0.0, start)] if start is not None else []) + c["held_out"]
        left.plot([x for x, _ in held], [y for _, y in held], marker="o", label=name)
        right.plot([x for x, _ in c["sampled"]], [y for _, y in c["sampled"]], label=name)
    left.set(title="held-out success (live, greedy)", xlabel="environment steps", ylabel="success", ylim=(0, 1))
    right.set(title="training episodes' success (mean of 10 updates)", xlabel="environment steps", ylim=(0, 1))
    for ax in (left, right):
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    path = out / CURVES
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def table(out: Path, walls: dict[str, float], shared_sft: bool = False) -> str:
    lines = ["| variant | held-out success | 95% CI | episodes | env steps | updates | wall (min) |",
             "|---|---|---|---|---|---|---|"]
    for name in VARIANTS:
        run = out / name
        if not (run / LIVE_FILE).is_file():
            continue
        s = summarise(run)
        wall = f"{walls[name] / 60:.1f}" if name in walls else "-"
        lines.append(f"| {name} | {s['success']:.3f} | [{s['low']:.3f}, {s['high']:.3f}] | {s['n']} | "
                     f"{s['env_steps']} | {s['step']} | {wall} |")
    note = ("\nwall: the variant's command (online stage and its live checks)"
            + ("" if shared_sft else "; the trajectory baseline's includes the shared SFT stage") + ".\n")
    return "\n".join(lines) + "\n" + note


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--env-steps", type=int, default=2624,
                        help="environment steps per variant (default: the learning proof's first 75 updates)")
    parser.add_argument("--sft-from", type=Path, default=None,
                        help="a finished online_proof run whose SFT checkpoint every variant starts from")
    parser.add_argument("--episodes", type=int, default=200, help="held-out episodes per evaluation")
    parser.add_argument("--tasks", default="button_chain.2", help="held-out task ids, comma-separated")
    parser.add_argument("--every", type=int, default=25, help="online steps between live evaluations (curves)")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--dry-run", action="store_true")
    parser.add_argument("--report-only", action="store_true",
                        help="write the table and curves of the variants already in --out (no training)")
    ns = parser.parse_args(argv)
    chosen = [v for v in ns.variants.split(",") if v]
    unknown = sorted(set(chosen) - set(VARIANTS))
    if unknown:
        raise SystemExit(f"unknown variants {unknown}; valid: {', '.join(VARIANTS)}")
    if "trajectory" in chosen:  # the baseline first: it makes the shared SFT checkpoint
        chosen.remove("trajectory")
        chosen.insert(0, "trajectory")
    walls: dict[str, float] = {}
    for name in [] if ns.report_only else chosen:
        cmd = commands(ns.out, name, env_steps=ns.env_steps, episodes=ns.episodes, tasks=ns.tasks, every=ns.every,
                       shared_sft=ns.sft_from is not None)
        print(shlex.join(cmd), flush=True)
        if ns.dry_run:
            continue
        if ns.sft_from is not None or name != "trajectory":
            seed_from_baseline(ns.out, name, ns.sft_from)
        t0 = time.monotonic()
        subprocess.run(cmd, check=True)
        walls[name] = time.monotonic() - t0
    if not ns.dry_run:
        if ns.report_only and (ns.out / TABLE).is_file():  # keep the wall times the training run measured
            walls = _walls((ns.out / TABLE).read_text())
        text = table(ns.out, walls, shared_sft=ns.sft_from is not None)
        (ns.out / TABLE).write_text(text)
        print(text)
        print(plot(ns.out, _start(ns.sft_from)))


def _walls(text: str) -> dict[str, float]:
    """The wall times (minutes) of an earlier ``table.md``, in seconds, per variant."""
    walls = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 7 and cells[0] in VARIANTS and cells[6] != "-":
            walls[cells[0]] = float(cells[6]) * 60
    return walls


def _start(sft_from: Path | None) -> float | None:
    """The SFT stage's held-out success in ``sft_from``'s ``live_eval.jsonl`` (its last check), if any."""
    if sft_from is None or not (sft_from / LIVE_FILE).is_file():
        return None
    sft = [r for r in live_records(sft_from) if r.get("stage") == "sft"]
    return float(sft[-1]["eval/live_success"]) if sft else None


if __name__ == "__main__":
    main()
