"""Hierarchical policy (Hi-Agent, Wu et al. 2025, arXiv 2510.14388): a high level proposes the next subgoal in
words from (goal, screen, history); a low level turns (subgoal, screen) into one action.

Both levels are ONE model with two role prompts (Hi-Agent trains two models; cua issue 13 leaves the choice):

- one set of weights serves both levels, so one checkpoint runs ``cua run --model M --hierarchical`` and online
  training updates both levels in one optimiser step over one parameter set (the foresight advantage trains
  both jointly, Hi-Agent's "joint optimisation");
- each level's step is ONE batched ``generate`` over every live episode (:meth:`propose_batch`); with two LoRA
  adapters on one base, the two levels would need adapter switches between the generates and two adapter
  states in every checkpoint, for no gain at the model sizes cua trains;
- the low level's prompt is the model's own codec prompt with the subgoal as its task, so an SFT checkpoint
  trained on (instruction, screen) -> action pairs is already a low level (AndroidControl-Low style).

The high level's role prompt (:data:`HIGH_SYSTEM`) is cua's wording (Hi-Agent's prompt is not in its abstract);
its reply is one line, optionally prefixed ``Subgoal:``. An empty reply leaves the goal as the subgoal
(``info["subgoal_error"]`` says so). Every proposal records ``info["subgoal"]`` (:data:`cua.trajectory.SUBGOAL_KEY`,
saved with the step and shown by the report) and, for model levels, the high level's :class:`TurnTokens`
(``info["subgoal_tokens"]``) next to the low level's (``info["tokens"]``), which online training uses.
"""

from __future__ import annotations

import dataclasses
import re
from typing import TYPE_CHECKING, Any, Sequence

from cua.errors import ConfigError
from cua.observation import Observation
from cua.policy import Policy, Proposal, register_policy
from cua.trajectory import SUBGOAL_KEY

if TYPE_CHECKING:  # pragma: no cover
    from cua.policies.model import ModelPolicyBase, TurnTokens
    from cua.trajectory import Step

#: Where a proposal keeps the high level's :class:`~cua.policies.model.TurnTokens`.
SUBGOAL_TOKENS_KEY = "subgoal_tokens"
MAX_SUBGOAL_CHARS = 200
HIGH_SYSTEM = (
    "You are the high-level planner of an agent that operates a device's screen. Given the user's goal, the "
    "subgoals already carried out (with the action taken for each) and the current screenshot, write the NEXT "
    "subgoal: one short instruction that a single action on the current screen achieves (for example "
    "'Tap the Settings app' or 'Type milk in the search box'). If the goal is already achieved, write "
    "'Finish the task'. Reply with one line: Subgoal: <instruction>"
)
_PREFIX = re.compile(r"^\s*(?:\**\s*subgoal\s*\**\s*[:：]\s*)", re.IGNORECASE)


def high_level_messages(goal: str, observation: Observation, history: Sequence["Step"]) -> list[dict[str, Any]]:
    """The high level's chat: role prompt, goal, past (subgoal -> action) lines, current screenshot."""
    lines = []
    for i, step in enumerate(history):
        sub = str(step.info.get(SUBGOAL_KEY) or "-")
        action = step.action.describe() if step.action is not None else f"invalid ({step.error_kind or 'no action'})"
        lines.append(f"Step {i + 1}: subgoal: {sub} -> action: {action}")
    text = f"Goal: {goal}\nSubgoals so far:\n{chr(10).join(lines) or 'None'}\nThe current screenshot follows."
    return [
        {"role": "system", "content": [{"type": "text", "text": HIGH_SYSTEM}]},
        {"role": "user", "content": [{"type": "text", "text": text}, {"type": "image", "image": observation.image}]},
    ]


def parse_subgoal(text: str) -> str:
    """The subgoal in a high-level reply: the last ``Subgoal:`` line, else the first non-empty line, stripped and
    cut to :data:`MAX_SUBGOAL_CHARS`; '' when the reply holds no text."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    tagged = [ln for ln in lines if _PREFIX.match(ln)]
    line = tagged[-1] if tagged else (lines[0] if lines else "")
    return _PREFIX.sub("", line).strip()[:MAX_SUBGOAL_CHARS]


class HierarchicalPolicy:
    """Two levels over one model policy ``low`` (see the module docstring). ``low`` is a
    :class:`~cua.policies.model.ModelPolicyBase`; with ``sample_chats`` (QwenVLPolicy) each level of a step is one
    batched generate with token records, otherwise each request is one :meth:`complete` call."""

    def __init__(self, low: "ModelPolicyBase") -> None:
        self.low = low
        self.name = f"hierarchical:{getattr(low, 'name', type(low).__name__)}"

    @property
    def sample(self) -> bool:
        return bool(getattr(self.low, "sample", False))

    @sample.setter
    def sample(self, value: bool) -> None:
        self.low.sample = value

    def reset(self, goal: str) -> None:
        self.low.reset(goal)

    def propose(self, goal: str, observation: Observation, history: Sequence["Step"]) -> Proposal:
        return self.propose_batch([(goal, observation, history)])[0]

    def _generate(self, chats: list[list[dict[str, Any]]]) -> list[tuple[str, "TurnTokens | None"]]:
        batched = getattr(self.low, "sample_chats", None)
        if batched is not None:
            return list(batched(chats))
        sample = self.sample
        return [(self.low.complete(chat, n=1, sample=sample)[0], None) for chat in chats]

    def subgoals(self, requests: Sequence[tuple[str, Observation, Sequence["Step"]]]
                 ) -> list[tuple[str, str, "TurnTokens | None"]]:
        """The high level for every request in one batch: ``(subgoal, raw reply, tokens)`` each."""
        replies = self._generate([high_level_messages(g, o, h) for g, o, h in requests])
        return [(parse_subgoal(text), text, tokens) for text, tokens in replies]

    def act(self, subgoals: Sequence[str], observations: Sequence[Observation]) -> list[Proposal]:
        """The low level for every (subgoal, screen) in one batch: one action proposal each (no history: the
        subgoal is the whole instruction)."""
        from cua.policies.model import TOKENS_KEY

        chats = [self.low.messages(s, o, ()) for s, o in zip(subgoals, observations)]
        out = []
        for obs, (text, tokens) in zip(observations, self._generate(chats)):
            proposal = self.low.parse(text, self.low.geometry(obs))
            if tokens is not None:
                proposal = dataclasses.replace(proposal, info={**proposal.info, TOKENS_KEY: tokens})
            out.append(proposal)
        return out

    def propose_batch(self, requests: Sequence[tuple[str, Observation, Sequence["Step"]]]) -> list[Proposal]:
        """Both levels for every request: one batched high-level generate, then one batched low-level one."""
        high = self.subgoals(requests)
        chosen = [sub or goal for (goal, _, _), (sub, _, _) in zip(requests, high)]
        proposals = []
        for proposal, (sub, reply, tokens), subgoal in zip(self.act(chosen, [o for _, o, _ in requests]), high,
                                                            chosen):
            info: dict[str, Any] = {**proposal.info, SUBGOAL_KEY: subgoal, "subgoal_text": reply}
            if not sub:
                info["subgoal_error"] = "the high level wrote no subgoal; the goal stood in for it"
            if tokens is not None:
                info[SUBGOAL_TOKENS_KEY] = tokens
            proposals.append(dataclasses.replace(proposal, info=info))
        return proposals


@register_policy("hierarchical")
def make(arg: str, *, samples: int = 1, judge: str | None = None, **context: Any) -> Policy:
    """Factory for ``--policy hierarchical`` / ``hierarchical:MODEL`` (``cua run --model M --hierarchical``): the
    model policy's options build the one model both levels share."""
    from cua.policies.model import make as make_model

    if samples != 1 or judge is not None:
        raise ConfigError("--hierarchical does not combine with --samples / --judge")
    return HierarchicalPolicy(make_model(arg, **context))  # type: ignore[arg-type]
