"""Curriculum task scheduling (CRAFT-GUI / ARPO task selection) and ARPO's replay rule, as pure objects."""

from __future__ import annotations

from collections import Counter

import pytest

from cua.train.curriculum import Curriculum
from cua.train.replay import ReplayBuffer


def test_tasks_unlock_easy_to_hard_and_spread_tasks_are_drawn_most() -> None:
    cur = Curriculum(["hard", "easy", "mid"], priors={"easy": 0.2, "mid": 0.5, "hard": 0.9}, warmup=1)
    assert cur.unlocked() == ["easy"] and set(cur.draw(10, step=0)) == {"easy"}
    cur.update("easy", 1.0)
    assert cur.unlocked() == ["easy", "mid"]
    cur.update("mid", 0.5)
    assert cur.unlocked() == ["easy", "mid", "hard"]
    cur.update("hard", 0.0)
    # always solved / never solved keep only the floor; p = 0.5 gets the full spread term
    assert cur.weight("easy") == pytest.approx(0.1) and cur.weight("hard") == pytest.approx(0.1)
    assert cur.weight("mid") == pytest.approx(1.1)
    counts = Counter(cur.draw(2000, step=3))
    assert counts["mid"] > 5 * counts["easy"] and counts["mid"] > 5 * counts["hard"]
    assert cur.difficulty("hard") == 1.0 and cur.difficulty("easy") == 0.0
    assert cur.draw(5, step=7, rank=1) == cur.draw(5, step=7, rank=1)  # deterministic: no RNG state to save


def test_disabled_curriculum_draws_uniformly_and_state_round_trips() -> None:
    off = Curriculum(["a", "b"], priors={"a": 0.1, "b": 0.9}, enabled=False)
    off.update("a", 1.0)
    assert off.weight("a") == off.weight("b") == 1.0 and set(off.draw(50, step=0)) == {"a", "b"}
    on = Curriculum(["a", "b"], window=3)
    for v in (0.0, 1.0, 1.0, 1.0):
        on.update("a", v)
    assert on.success("a") == 1.0 and on.plays["a"] == 4  # window of 3
    again = Curriculum(["a", "b"], window=3)
    again.load_state_dict(on.state_dict())
    assert again.metrics() == on.metrics()
    assert on.metrics()["curriculum/b/success"] == -1.0


def test_arpo_replay_rule() -> None:
    buf = ReplayBuffer(size=2, seed=0)
    assert not buf.add("t", "failed", 0.1)  # ARPO stores only score > 0.1
    assert buf.add("t", "win1", 1.0) and buf.add("t", "win2", 0.5) and buf.add("t", "win3", 1.0)
    assert list(buf.buffers["t"]) == ["win2", "win3"]  # FIFO of size 2
    assert buf.needs_replay([0.0, 0.0, 0.0]) and buf.needs_replay([0.1, 0.1])
    assert not buf.needs_replay([0.0, 1.0]) and not buf.needs_replay([0.3, 0.3])
    group = ["a", "b", "c"]
    assert buf.maybe_replace("t", group, [0.0, 0.0, 0.0]) in ("win2", "win3") and group[0] in ("win2", "win3")
    other = ["a", "b"]
    assert buf.maybe_replace("unknown", other, [0.0, 0.0]) is None and other == ["a", "b"]
    assert buf.maybe_replace("t", other, [0.0, 1.0]) is None
    restored = ReplayBuffer(size=2)
    restored.load_state_dict(buf.state_dict())
    assert list(restored.buffers["t"]) == ["win2", "win3"] and restored.draw("t") == buf.draw("t")
