"""MiniWoB++ wiring: real task pages from the miniwob package, driven by cua actions on the web backend.

The solver below is TEST code: it reads the goal (the page's utterance) and the observed UI elements and
proposes cua actions, so a right answer must score 1 and a wrong one must not, by the page's own reward.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Sequence

import pytest

from cua.actions import Action, Click, Terminate, Type
from cua.agent import run_episode
from cua.devices.registry import make_device
from cua.eval import miniwob as mw
from cua.eval.live import Job, LiveOptions, run_live
from cua.policy import Proposal
from cua.task import get_task

SOLVED = ("click-button", "click-link", "enter-text", "click-checkboxes")


def _find(obs: Any, text: str, *, clickable: bool = True) -> Any:
    for el in obs.elements:
        if el.text.strip() == text and (el.clickable or not clickable) and el.bounds[1] >= 100:
            return el
    raise LookupError(f"no element {text!r}")


def _tap(el: Any) -> Click:
    x, y = el.center
    return Click(x=x, y=y)


class Solver:
    """Solves click-button, click-link, enter-text and click-checkboxes from the goal and the screen.

    ``wrong=True`` gives a deliberately wrong answer (another button/link, other text, no boxes ticked).
    """

    name = "test-solver"

    def __init__(self, wrong: bool = False) -> None:
        self.wrong = wrong
        self.plan: list[Action] = []

    def reset(self, goal: str) -> None:
        self.plan = []

    def _make_plan(self, goal: str, obs: Any) -> list[Action]:
        if m := re.fullmatch(r'Click on the "(.+)" button\.', goal):
            buttons = [e for e in obs.elements if e.role == "button"]
            pick = next((b for b in buttons if (b.text != m[1]) == self.wrong), None)
            return [_tap(pick)] if pick is not None else []
        if m := re.fullmatch(r'Click on the link "(.+)"\.', goal):
            links = [e for e in obs.elements if e.clickable and e.role == "span" and e.bounds[1] >= 100]
            pick = next((e for e in links if (e.text != m[1]) == self.wrong), None)
            return [_tap(pick)] if pick is not None else []
        if m := re.fullmatch(r'Enter "(.+)" into the text field and press Submit\.', goal):
            field = next(e for e in obs.elements if e.editable)
            return [_tap(field), Type(text=m[1] + ("x" if self.wrong else "")), _tap(_find(obs, "Submit"))]
        if m := re.fullmatch(r"Select (.+) and click Submit\.", goal):
            names = [] if m[1] == "nothing" else [n.strip() for n in m[1].split(",")]
            if self.wrong:  # tick the boxes NOT asked for
                names = [e.text for e in obs.elements if e.role == "label" and e.text not in names]
            return [_tap(_find(obs, n)) for n in names] + [_tap(_find(obs, "Submit"))]
        raise AssertionError(f"the test solver cannot read goal {goal!r}")

    def propose(self, goal: str, observation: Any, history: Sequence[Any]) -> Proposal:
        if not history:
            self.plan = self._make_plan(goal, observation)
        action = self.plan.pop(0) if self.plan else Terminate(status="success")
        return Proposal(text=json.dumps(action.to_dict()), action=action)


@pytest.fixture(scope="module")
def web() -> Any:
    device = make_device(mw.DEVICE, viewport=mw.VIEWPORT)
    yield device
    device.close()
    mw.stop_server()


def _play(device: Any, name: str, seed: int, policy: Any) -> tuple[Any, dict[str, Any]]:
    task = get_task(mw.task_id(name)).from_seed(seed)
    device.reset(seed=seed)
    task.initialize(device)
    traj = run_episode(device, policy, task=task, time_budget=task.time_limit)
    return traj, task.reward(device)


@pytest.mark.parametrize("name", SOLVED)
def test_right_answers_score_one_and_wrong_ones_do_not(web: Any, name: str) -> None:
    for seed in (1, 2):
        traj, page = _play(web, name, seed, Solver())
        assert page["done"] and page["raw"] == 1 and traj.success == 1.0, (traj.goal, page)
        assert 0 < page["reward"] <= 1  # the time-discounted reward of a success
    ended = 0
    for seed in range(1, 7):  # some seeds offer no wrong button / link to click
        traj, page = _play(web, name, seed, Solver(wrong=True))
        assert page["raw"] < 1 and traj.success < 1.0, (traj.goal, page)
        ended += bool(page["done"])
        if ended:
            break
    assert ended, "a wrong answer must end at least one episode through the page's own reward"


def test_a_seed_repeats_the_problem_and_the_goal_is_the_utterance(web: Any) -> None:
    goals = []
    for seed in (7, 7, 8):
        task = get_task("miniwob.click-checkboxes").from_seed(seed)
        web.reset(seed=seed)
        task.initialize(web)
        utterance = web.page.evaluate("() => core.getUtterance()")
        assert task.goal == utterance and task.params["utterance"] == utterance
        goals.append(task.goal)
    assert goals[0] == goals[1] != goals[2]


def test_the_page_ends_late_episodes_and_a_late_click_cannot_restart_one(web: Any) -> None:
    task = get_task("miniwob.click-button").from_seed(3)
    web.reset(seed=3)
    task.initialize(web)
    web.page.evaluate("() => core.endEpisode(-1, false, 'timed out')")  # what the page's own timer does
    assert task.reward(web)["done"] and task.is_successful(web) == 0.0
    web.execute(Click(x=100, y=200))  # on the cover
    assert task.reward(web) == {"done": True, "reward": -1, "raw": -1}


def test_task_lists_and_limits() -> None:
    assert len(mw.SYNAPSE48) == 48 and mw.resolve_tasks(None) == list(mw.SYNAPSE48)
    assert mw.resolve_tasks("click-button,miniwob.enter-text") == ["click-button", "enter-text"]
    assert len(mw.resolve_tasks("all")) == len(mw.page_names()) >= 100
    assert get_task("miniwob.click-checkboxes-large").from_seed(0).time_limit == 20.0
    assert get_task("miniwob.use-slider").from_seed(0).max_steps == 30
    from cua.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown MiniWoB"):
        mw.resolve_tasks("click-nothing-here")


def test_suite_through_the_pool_scores_by_the_page(tmp_path: Path) -> None:
    jobs = [Job("miniwob", mw.task_id(n), 1_000_000) for n in ("click-button", "enter-text", "click-link")]
    options = LiveOptions(device=mw.DEVICE, workers=2, device_options={"viewport": mw.VIEWPORT},
                          use_task_time_limit=True)
    records = run_live(jobs, lambda task: Solver(), out_dir=tmp_path, options=options)
    assert len(records) == 3 and all(r["success"] and r["reward"] == 1.0 for r in records), records
    assert all(r["goal"].endswith(".") and not r["goal"].startswith("(") for r in records)
