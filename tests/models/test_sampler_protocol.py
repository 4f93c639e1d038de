"""The judge sampler depends on small generation protocols, not on the concrete model policy (issue 10, item 9)."""

from __future__ import annotations

import ast
from pathlib import Path

from PIL import Image

import cua.sampler
from cua.codecs import get_codec
from cua.coords import Geometry
from cua.observation import Observation
from cua.policy import Proposal
from cua.sampler import Generator, Judge, JudgeSampler


def _imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at any depth (TYPE_CHECKING blocks and function bodies included)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_sampler_imports_no_policy_module():
    imported = _imported_modules(Path(cua.sampler.__file__))
    assert not {m for m in imported if m.startswith("cua.policies")}, imported


class Plain:
    """A generator that is no ModelPolicyBase: fixed completions, the qwen25_mobile_use codec."""

    name = "plain"

    def __init__(self, texts: list[str]) -> None:
        self.codec, self.texts, self.calls = get_codec("qwen25_mobile_use"), texts, []

    def reset(self, goal: str) -> None:
        self.calls.append(("reset", goal))

    def geometry(self, observation: Observation) -> Geometry:
        return Geometry.for_screen(observation.width, observation.height, factor=self.codec.factor)

    def messages(self, goal, observation, history):
        return self.codec.messages(goal, observation, self.geometry(observation))

    def complete(self, messages, *, n=1, sample=False):
        self.calls.append((n, sample))
        return self.texts[:n]

    def parse(self, text: str, geometry: Geometry) -> Proposal:
        return Proposal(text=text, action=self.codec.parse(text, geometry))


def _click(x: int, y: int) -> str:
    return ('<tool_call>{"name": "mobile_use", "arguments": {"action": "click", "coordinate": [%d, %d]}}'
            "</tool_call>" % (x, y))


def test_any_generator_and_judge_drive_the_sampler():
    obs = Observation.from_image(Image.new("RGB", (1080, 2400), "white"))
    policy = Plain([_click(100, 100), _click(800, 2000)])
    judge = Plain(["2"])
    assert isinstance(policy, Generator) and isinstance(judge, Judge)
    sampler = JudgeSampler(policy, judge=judge, samples=2)
    sampler.reset("tap")
    proposal = sampler.propose("tap", obs, [])
    assert proposal.info["choice"] == 1 and proposal.action.y > 1900
    assert policy.calls == [("reset", "tap"), (2, True)] and judge.calls == [("reset", "tap"), (1, False)]


def test_the_model_policies_are_generators():
    from cua.policies.model import ModelPolicyBase

    class Fixed(ModelPolicyBase):
        def __init__(self) -> None:
            self.codec = get_codec("qwen25_mobile_use")

    assert isinstance(Fixed(), Generator)
