"""The Policy protocol and the one registry of policies.

A policy looks at (goal, observation, history) and proposes one action. It returns a :class:`Proposal`
holding the raw text it produced (model completion, or the JSON of a scripted action) and either the parsed
Action or the parse error, so the agent can record an invalid step with the text that caused it.

Policy specs: ``oracle`` (sandbox expert), ``script:PATH`` (replay a JSONL file of actions); model policies
(``--model``) and the hierarchical policy (``--hierarchical``) register themselves in ``cua.policies`` modules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Protocol, Sequence, runtime_checkable

from cua.actions import Action
from cua.errors import ActionError, ActionParseError, ConfigError
from cua.observation import Observation

if TYPE_CHECKING:  # pragma: no cover
    from cua.trajectory import Step


@dataclass(frozen=True, kw_only=True)
class Proposal:
    """One proposed action. ``action`` is None when ``text`` did not parse; ``error`` then says why and
    ``info["error_kind"]`` which :class:`~cua.errors.ActionError` kind it was (see :meth:`invalid`)."""

    text: str
    action: Action | None = None
    error: str | None = None
    info: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def invalid(cls, text: str, exc: ActionError, info: dict[str, Any] | None = None) -> "Proposal":
        """A proposal whose ``text`` failed with ``exc``: no action, the error and its kind recorded."""
        return cls(text=text, error=str(exc), info={**(info or {}), "error_kind": exc.kind})

    @property
    def error_kind(self) -> str | None:
        """The step error kind of a proposal without an action (``info["error_kind"]``, default ``parse``);
        None when it holds one."""
        if self.action is not None:
            return None
        return str(self.info.get("error_kind") or ActionParseError.kind)


@runtime_checkable
class Policy(Protocol):
    """Proposes the next action. ``reset`` is called at the start of every episode."""

    name: str

    def reset(self, goal: str) -> None: ...

    def propose(self, goal: str, observation: Observation, history: Sequence["Step"]) -> Proposal: ...


PolicyFactory = Callable[..., Policy]
POLICIES: dict[str, PolicyFactory] = {}


def register_policy(name: str) -> Callable[[PolicyFactory], PolicyFactory]:
    """Register ``factory(arg: str, **context) -> Policy`` for specs ``name`` / ``name:ARG``."""

    def deco(factory: PolicyFactory) -> PolicyFactory:
        POLICIES[name] = factory
        return factory

    return deco


def make_policy(spec: str, **context: Any) -> Policy:
    """Build a policy from ``spec``; ``context`` carries e.g. ``task=`` for the oracle."""
    _load_builtin()
    name, _, arg = spec.partition(":")
    if name not in POLICIES:
        raise ConfigError(f"unknown policy {spec!r}; valid: {', '.join(sorted(POLICIES))}")
    return POLICIES[name](arg, **context)


def _load_builtin() -> None:
    import importlib

    for module in ("cua.policies.script", "cua.policies.oracle", "cua.policies.model", "cua.policies.hierarchical"):
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
