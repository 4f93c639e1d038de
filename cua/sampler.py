"""GTA1 test-time scaling: sample K candidate actions, let a judge pick one (Yang et al. 2025, arXiv 2507.05791).

Per step: K completions from ONE batched generate (``num_return_sequences=K``, sampling) -> parse each ->
merge duplicates (same action; point actions whose points all lie within ``radius`` device pixels count as
one, the first seen represents the group) -> if more than one distinct valid candidate remains, a judge model
(the same model or another, any :class:`Judge`) sees the screenshot with
each candidate's point drawn and numbered, the goal, the history and the numbered candidates, and answers
with a number. Judge output without a valid number falls back to the most frequent candidate (ties: the
earliest), and ``info["fallback"]`` records that. ``Proposal.info`` holds every candidate (text, parsed
action dict or error), the groups, the judge's text and the choice.

The sampler depends on two small protocols, not on a concrete policy: the sampled policy is a
:class:`Generator` (prompt building, ``complete(messages, n=, sample=)``, parsing; every model policy in
:mod:`cua.policies.model` is one) and the judge a :class:`Judge` (``complete`` only).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, Sequence, runtime_checkable

from cua.actions import Action
from cua.coords import Geometry
from cua.observation import Observation
from cua.policy import Proposal

if TYPE_CHECKING:  # pragma: no cover
    from PIL import Image

    from cua.codecs import Codec
    from cua.trajectory import Step

DEFAULT_RADIUS = 14.0
_MARK_COLOURS = ("#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#9a6324")
_NUMBER = re.compile(r"(?<![\d.])(\d{1,3})(?!\d)(?!\.\d)")


@runtime_checkable
class Judge(Protocol):
    """Anything that returns ``n`` completions of a chat prompt (sampled or greedy) in one call."""

    name: str

    def reset(self, goal: str) -> None: ...

    def complete(self, messages: list[dict[str, Any]], *, n: int = 1, sample: bool = False) -> list[str]: ...


@runtime_checkable
class Generator(Judge, Protocol):
    """A :class:`Judge` that also builds its own prompt and parses its completions with a codec."""

    codec: "Codec"

    def geometry(self, observation: Observation) -> Geometry: ...

    def messages(self, goal: str, observation: Observation, history: Sequence["Step"]) -> list[dict[str, Any]]: ...

    def parse(self, text: str, geometry: Geometry) -> Proposal: ...


@dataclass
class Group:
    """Candidates that propose the same action; ``members`` index the K completions."""

    action: Action
    members: list[int] = field(default_factory=list)


def same_action(a: Action, b: Action, radius: float = DEFAULT_RADIUS) -> bool:
    """Equal actions, or the same kind and fields with every point within ``radius`` device pixels."""
    if a.kind != b.kind:
        return False
    pa, pb = a.xy(), b.xy()
    if len(pa) != len(pb) or any(math.dist(p, q) > radius for p, q in zip(pa, pb)):
        return False
    coords = {f for pair in a.points for f in pair}
    strip = lambda act: {k: v for k, v in act.to_dict().items() if k not in coords}  # noqa: E731
    return strip(a) == strip(b)


def merge(actions: Sequence[Action | None], radius: float = DEFAULT_RADIUS) -> list[Group]:
    """Group the valid actions (None = unparsable) by :func:`same_action`, in first-seen order."""
    groups: list[Group] = []
    for i, action in enumerate(actions):
        if action is None:
            continue
        for g in groups:
            if same_action(g.action, action, radius):
                g.members.append(i)
                break
        else:
            groups.append(Group(action, [i]))
    return groups


def parse_choice(text: str, n: int) -> int | None:
    """The judge's 1-based choice as a 0-based index; None if ``text`` names no number in 1..n."""
    for m in _NUMBER.finditer(text or ""):
        value = int(m.group(1))
        if 1 <= value <= n:
            return value - 1
    return None


def draw_candidates(image: "Image.Image", groups: Sequence[Group]) -> "Image.Image":
    """A copy of ``image`` with each group's point(s) circled and numbered (1-based)."""
    from PIL import ImageDraw

    out = image.copy()
    draw = ImageDraw.Draw(out)
    r = max(8, min(out.size) // 60)
    for i, g in enumerate(groups):
        colour = _MARK_COLOURS[i % len(_MARK_COLOURS)]
        for x, y in g.action.xy():
            draw.ellipse((x - r, y - r, x + r, y + r), outline=colour, width=max(2, r // 4))
            draw.text((x + r + 2, y - r), str(i + 1), fill=colour)
    return out


def judge_messages(
    goal: str, observation: Observation, history: Sequence[str], groups: Sequence[Group], *, draw: bool = True,
) -> list[dict[str, Any]]:
    """The judge's prompt: goal, history, numbered candidates (device pixels) and the (marked) screenshot."""
    image = draw_candidates(observation.image, groups) if draw else observation.image
    past = "\n".join(f"Step {i + 1}: {h}" for i, h in enumerate(history)) or "None"
    cands = "\n".join(f"{i + 1}. {g.action.describe()}" for i, g in enumerate(groups))
    text = (
        f"Task: {goal}\nPrevious actions:\n{past}\n"
        f"The screenshot is {observation.width}x{observation.height} pixels"
        + ("; each candidate's point is circled and numbered on it" if draw else "") + ".\n"
        f"Candidate next actions:\n{cands}\n"
        f"Which candidate best advances the task? Answer with its number (1-{len(groups)}) only."
    )
    system = "You are a careful judge of GUI agent actions. You pick the single best next action."
    return [
        {"role": "system", "content": [{"type": "text", "text": system}]},
        {"role": "user", "content": [{"type": "text", "text": text}, {"type": "image", "image": image}]},
    ]


class JudgeSampler:
    """A Policy that wraps a :class:`Generator` with K-sample + judge selection (see the module docstring)."""

    def __init__(
        self, policy: Generator, *, judge: Judge | None = None, samples: int = 4,
        radius: float = DEFAULT_RADIUS, draw: bool = True,
    ) -> None:
        self.policy, self.judge = policy, judge or policy
        self.samples, self.radius, self.draw = samples, radius, draw
        self.name = f"{policy.name}+judge({self.judge.name})x{samples}"

    def reset(self, goal: str) -> None:
        self.policy.reset(goal)
        if self.judge is not self.policy:
            self.judge.reset(goal)

    def propose(self, goal: str, observation: Observation, history: Sequence["Step"]) -> Proposal:
        geometry: Geometry = self.policy.geometry(observation)
        texts = self.policy.complete(self.policy.messages(goal, observation, history), n=self.samples, sample=True)
        parsed = [self.policy.parse(t, geometry) for t in texts]
        groups = merge([p.action for p in parsed], self.radius)
        info: dict[str, Any] = {"sampler": "gta1_judge", "samples": self.samples, "candidates": [
            {"text": p.text, "action": p.action.to_dict() if p.action else None, "error": p.error} for p in parsed
        ], "groups": [g.members for g in groups]}
        if not groups:
            info.update(choice=None, judge_text=None)
            return Proposal(text=texts[0], error=f"none of {len(texts)} candidates parsed: {parsed[0].error}",
                            info={**info, "error_kind": parsed[0].info.get("error_kind", "parse")})
        judge_text, index, fallback = None, 0, False
        if len(groups) > 1:
            history_lines = [self.policy.codec.describe(s.action, geometry) for s in history]
            messages = judge_messages(goal, observation, history_lines, groups, draw=self.draw)
            judge_text = self.judge.complete(messages, n=1, sample=False)[0]
            choice = parse_choice(judge_text, len(groups))
            fallback = choice is None
            index = choice if choice is not None else _most_frequent(groups)
        chosen = groups[index]
        info.update(judge_text=judge_text, choice=index, fallback=fallback, chosen_members=chosen.members)
        return Proposal(text=texts[chosen.members[0]], action=chosen.action, info=info)


def _most_frequent(groups: Sequence[Group]) -> int:
    return max(range(len(groups)), key=lambda i: (len(groups[i].members), -i))
