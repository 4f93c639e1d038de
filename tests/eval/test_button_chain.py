"""button_chain (cua.eval.button_chain): seeded chains of button screens played on the real web backend.

Checked through Chromium: the task's checker (all buttons clicked -> 1, a wrong click within the budget -> 0),
that step 2's button appears only after step 1's click, determinism per seed, the oracle solving chains of 2
and 4, and the oracle-demo dataset (cua.datasets.oracle_demos) recording each turn as the model policy sees it.
"""

from __future__ import annotations

import json
import random

import pytest

from cua.actions import Click
from cua.agent import run_task
from cua.codecs import get_codec
from cua.coords import Geometry
from cua.datasets.schema import Sample
from cua.devices.registry import make_device
from cua.errors import ConfigError
from cua.eval import button_chain as bc
from cua.policies.oracle import OraclePolicy
from cua.policy import Proposal
from cua.task import get_task

import cua.train  # noqa: F401  (registers the grid8 codec)


@pytest.fixture(scope="module")
def web():
    device = make_device(bc.DEVICE, viewport=bc.VIEWPORT)
    yield device
    device.close()


def _start(device, task_id: str, seed: int):
    task = get_task(task_id).from_seed(seed)
    device.reset(seed=seed)
    task.initialize(device)
    return task


def _targets(obs) -> list[tuple[int, int, int, int]]:
    return [e.bounds for e in obs.elements if e.resource_id == "target"]


class Clicks:
    """Plays a fixed list of clicks (test policy)."""

    name = "clicks"

    def __init__(self, points):
        self.points = list(points)

    def reset(self, goal):
        pass

    def propose(self, goal, observation, history):
        x, y = self.points[len(history)]
        return Proposal(text=f"{x},{y}", action=Click(x=x, y=y))


def test_registered_ids_params_and_determinism():
    for steps in (2, 4):
        for tid in (f"button_chain.{steps}", f"button_chain.{steps}.easy"):
            cls = get_task(tid)
            task = cls.from_seed(7)
            assert task.max_steps == steps and len(task.params["screens"]) == steps
            assert task.params == cls.from_seed(7).params
            assert task.params != cls.from_seed(8).params
    easy = get_task("button_chain.2.easy").from_seed(3)
    assert all(len(s["distractors"]) <= 1 for s in easy.params["screens"])
    assert get_task("button_chain.2").complexity == 0.2 and get_task("button_chain.2.easy").complexity == 0.1


def test_targets_are_large_enough_for_the_grid8_answer_to_hit():
    """A demo's grid8 answer (the cell of the button's centre), decoded, lands inside the button."""
    codec = get_codec("grid8")
    geometry = Geometry.for_screen(224, 224, factor=32, min_pixels=65536, max_pixels=65536)
    rng = random.Random(0)
    for seed in rng.sample(range(100_000), 60):
        for screen in get_task("button_chain.2").from_seed(seed).params["screens"]:
            x1, y1, x2, y2 = screen["target"]
            assert x2 - x1 >= 30 and y2 - y1 >= 30
            click = codec.parse(codec.format(Click(x=(x1 + x2) // 2, y=(y1 + y2) // 2), geometry), geometry)
            assert x1 <= click.x <= x2 and y1 <= click.y <= y2


def test_step_two_appears_only_after_step_one_and_right_clicks_succeed(web):
    task = _start(web, "button_chain.2", 11)
    first, second = (tuple(s["target"]) for s in task.params["screens"])
    obs = web.observe()
    assert _targets(obs) == [first]
    x, y = first[0] + 3, first[1] + 3
    assert obs.image.getpixel(((first[0] + first[2]) // 2, (first[1] + first[3]) // 2)) == bc.TARGET_FILL
    assert task.is_successful(web) == 0.0
    web.execute(Click(x=x, y=y))
    assert _targets(web.observe()) == [second]
    assert task.is_successful(web) == 0.0  # judged only at the end: one of two clicked
    web.execute(Click(x=(second[0] + second[2]) // 2, y=(second[1] + second[3]) // 2))
    assert _targets(web.observe()) == []
    assert task.is_successful(web) == 1.0
    assert task.state(web)["wrong"] == 0


def test_a_wrong_click_fails_the_episode(web):
    task = get_task("button_chain.2").from_seed(12)
    first, second = (s["target"] for s in task.params["screens"])
    miss = next((x, y) for x in range(0, 224, 7) for y in range(0, 224, 7)
                if not (first[0] <= x <= first[2] and first[1] <= y <= first[3]))
    centre = ((second[0] + second[2]) // 2, (second[1] + second[3]) // 2)
    traj = run_task(web, Clicks([miss, centre]), task)
    assert traj.success == 0.0 and task.state(web)["wrong"] >= 1
    right = run_task(web, Clicks([((first[0] + first[2]) // 2, (first[1] + first[3]) // 2), centre]), task)
    assert right.success == 1.0


def test_same_seed_same_pixels(web):
    shots = []
    for _ in range(2):
        _start(web, "button_chain.2", 5)
        shots.append(web.observe().image.tobytes())
    _start(web, "button_chain.2", 6)
    assert shots[0] == shots[1] and web.observe().image.tobytes() != shots[0]


@pytest.mark.parametrize("task_id", ["button_chain.2", "button_chain.4", "button_chain.2.easy"])
def test_oracle_solves_through_the_web_backend(web, task_id):
    task = get_task(task_id).from_seed(21)
    traj = run_task(web, OraclePolicy(task), task)
    assert traj.success == 1.0 and len(traj.steps) == task.max_steps
    assert all(isinstance(s.action, Click) and s.error is None for s in traj.steps)


def test_wrong_screen_size_is_a_config_error():
    device = make_device(bc.DEVICE, viewport="200x200")
    try:
        with pytest.raises(ConfigError, match="224x224"):
            get_task("button_chain.2").from_seed(0).initialize(device)
    finally:
        device.close()


def test_oracle_demos_round_trip_and_match_the_policy_prompt(web):
    """Each demo row is one turn: the screenshot, goal and history a model policy sees at that step."""
    from cua.datasets import LOADERS
    from cua.policies.model import history_actions
    from cua.train.data import Pixels, to_trl_row

    ds = LOADERS["oracle_demos"](tasks=["button_chain.2"], n=2, start=40, device=bc.DEVICE,
                                 device_options={"viewport": bc.VIEWPORT})
    assert len(ds) == 4
    samples = [Sample.from_row(r) for r in ds]
    assert [s.step_index for s in samples] == [0, 1, 0, 1]
    assert samples[1].history == [samples[0].action] and samples[0].history == []
    assert json.loads(ds[0]["extra"]) == {"task": "button_chain.2", "seed": 40, "episode_steps": 2}
    for s in samples:
        assert Sample.from_row(s.to_row()).to_row()["action"] == s.to_row()["action"]
        assert s.bbox and s.bbox[0] <= s.action.x <= s.bbox[2] and s.bbox[1] <= s.action.y <= s.bbox[3]
    # the same turn played live: the policy's messages equal the SFT row's prompt (grid8, 256 px model image)
    task = get_task("button_chain.2").from_seed(40)
    traj = run_task(web, OraclePolicy(task), task)
    codec, pixels = get_codec("grid8"), Pixels(factor=32, min_pixels=65536, max_pixels=65536)
    for i, step in enumerate(traj.steps):
        row = to_trl_row(ds[i], i, codec, pixels, with_completion=True)
        live = codec.messages(traj.goal, step.observation, pixels.geometry(224, 224),
                              history=history_actions(traj.steps[:i]))
        assert row["prompt"][1]["content"][0] == live[1]["content"][0]
        assert row["prompt"][0] == live[0]
        assert row["images"][0].tobytes() == step.observation.image.convert("RGB").tobytes()
        assert row["completion"][0]["content"] == codec.format(step.action, pixels.geometry(224, 224))


def test_oracle_demos_refuse_held_out_seeds_for_training():
    from cua.datasets.oracle_demos import _seeds

    with pytest.raises(ConfigError, match="held-out"):
        _seeds(10, 999_995, held_out=False)
    assert _seeds(2, 0, held_out=True) == [1_000_000, 1_000_001]


@pytest.mark.slow
def test_cua_eval_button_chain_oracle_and_bad_task(tmp_path):
    from typer.testing import CliRunner

    from cua.eval.cli import app

    result = CliRunner().invoke(app, ["button-chain", "--policy", "oracle", "--tasks", "button_chain.2",
                                      "--seeds", "2", "--out", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in (tmp_path / "run" / "results.jsonl").read_text().splitlines()]
    assert [(r["task"], r["seed"], r["success"]) for r in records] == [
        ("button_chain.2", 1_000_000, True), ("button_chain.2", 1_000_001, True)]
    assert CliRunner().invoke(app, ["button-chain", "--policy", "oracle", "--tasks", "apps_open"]).exit_code == 2
