"""The safety gate: a device wrapper that classifies every action allow / confirm / deny before it runs.

:func:`classify` is pure: (action, :class:`SafetyPolicy`) -> :class:`Verdict`; the strictest rule wins.
Default rules: typing shell-like destructive text (``rm -rf``, ``mkfs``, fork bombs, ``dd of=/dev/..``,
``DROP TABLE``, ``shutdown``, ``curl .. | sh``) is denied, and so is the same text in a tool call's string
arguments; ctrl+alt+delete / ctrl+alt+backspace are denied; opening settings, payment, banking or wallet apps
(``OpenApp`` or an app-launching tool) needs confirmation; tools outside ``tool_allowlist`` need confirmation
(``unlisted_tools="deny"`` to refuse them) and ``write_file`` always does; everything else is allowed.
Policies load from YAML or JSON (:meth:`SafetyPolicy.from_file`); unknown keys are ConfigErrors.

:class:`SafetyGate` contract:
- deny -> :class:`~cua.errors.ActionDenied` (the agent records an invalid step); NOTHING reaches the device.
- confirm -> ``confirm(action) -> bool`` decides (the CLI passes :func:`terminal_confirm`, or approves all with
  ``--yes``); with no ``confirm`` callable (non-interactive) a confirm-class action is denied.
- Every decision is appended to ``gate.decisions`` and logged (``cua.safety`` logger), with secrets redacted.

Password redaction contract. A :class:`~cua.observation.UIElement` is a password field when
``extra["password"]`` is true (bool or the string ``"true"``, as Android's uiautomator attribute),
``extra["input_type"]`` is ``"password"`` (web ``<input type=password>``), or its ``role`` is ``password``.
The gate remembers the last observation; a ``Type`` is *secret* when the observation's focused element
(``extra["focused"]`` true) is a password field, or when the last click/long press landed inside one. For a
secret Type the gate returns an :class:`~cua.device.ActionResult` with ``redacted=True``; the trajectory
honours it (:meth:`cua.trajectory.Step.record_result` replaces the typed text in the action and in the raw
model text with :data:`REDACTED`); other recorders call :meth:`SafetyGate.redact` / :func:`redact_action`."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Callable, Literal, Mapping

from cua.actions import Action, Click, Key, LongPress, OpenApp, ToolCall, Type
from cua.device import ActionResult, Device
from cua.errors import ActionDenied, ConfigError
from cua.devices.wrappers import DeviceWrapper
from cua.observation import Observation, UIElement
from cua.trajectory import REDACTED

Decision = Literal["allow", "confirm", "deny"]
SEVERITY: dict[str, int] = {"allow": 0, "confirm": 1, "deny": 2}
log = logging.getLogger("cua.safety")

DEFAULT_DENY_TEXT: tuple[str, ...] = (
    r"\brm\s+(-\w*\s+)*-\w*[rRf]", r"\brm\s+-{1,2}(recursive|force)\b", r"\bmkfs(\.\w+)?\b", r":\(\)\s*\{",
    r"\bdd\s+[^\n]*\bof=/dev/", r">\s*/dev/(sd|nvme|hd|mmcblk)", r"\bdrop\s+(table|database|schema)\b",
    r"\btruncate\s+table\b", r"(^|[;&|`(]\s*|\bsudo\s+)(shutdown|reboot|poweroff|halt|init\s+[06])\b",
    r"\bchmod\s+(-\w+\s+)*[0-7]*777\s+/(\s|$)", r"\b(curl|wget)\b[^\n|]*\|\s*(sudo\s+)?(ba|z)?sh\b",
    r"\bformat\s+[a-z]:", r"\bdel\s+/[sfq]\b",
)
DEFAULT_CONFIRM_APPS: tuple[str, ...] = (
    r"settings", r"\bpay|payment|paypal|venmo|gpay", r"bank", r"wallet", r"billing|checkout|purchase",
)
DEFAULT_TOOL_ALLOWLIST: tuple[str, ...] = (
    "read_file", "list_applications", "open_application", "list_apps", "open_url", "get_clipboard",
    "page_text", "goto", "search_contacts",
)
DEFAULT_APP_TOOLS: Mapping[str, str] = {
    "open_application": "name", "open_app": "app", "launch_app": "package", "launch_intent": "package",
}


@dataclass(frozen=True, kw_only=True)
class SafetyPolicy:
    """What the gate allows. Patterns are case-insensitive regexes searched in the text / app name."""

    deny_text: tuple[str, ...] = DEFAULT_DENY_TEXT
    confirm_text: tuple[str, ...] = ()
    deny_keys: tuple[str, ...] = ("ctrl+alt+delete", "ctrl+alt+del", "ctrl+alt+backspace")
    confirm_keys: tuple[str, ...] = ()
    deny_apps: tuple[str, ...] = ()
    confirm_apps: tuple[str, ...] = DEFAULT_CONFIRM_APPS
    tool_allowlist: tuple[str, ...] | None = DEFAULT_TOOL_ALLOWLIST
    unlisted_tools: Literal["confirm", "deny"] = "confirm"
    confirm_tools: tuple[str, ...] = ("write_file",)
    deny_tools: tuple[str, ...] = ()
    app_tools: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_APP_TOOLS))
    redact_passwords: bool = True

    def __post_init__(self) -> None:
        if self.unlisted_tools not in ("confirm", "deny"):
            raise ConfigError(f"unlisted_tools must be 'confirm' or 'deny', got {self.unlisted_tools!r}")
        for name in ("deny_text", "confirm_text", "deny_apps", "confirm_apps"):
            for pattern in getattr(self, name):
                try:
                    re.compile(pattern)
                except re.error as exc:
                    raise ConfigError(f"safety policy {name}: bad regex {pattern!r}: {exc}") from None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "SafetyPolicy":
        """Build from plain data (lists become tuples); ConfigError on unknown keys or bad values."""
        if not isinstance(data, Mapping):
            raise ConfigError(f"a safety policy must be a mapping, got {type(data).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"unknown safety policy keys {unknown}; known: {sorted(known)}")
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        try:
            return cls(**values)
        except TypeError as exc:
            raise ConfigError(f"bad safety policy: {exc}") from None

    @classmethod
    def from_file(cls, path: str | Path) -> "SafetyPolicy":
        """Load a YAML (``.yaml``/``.yml``) or JSON file."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read safety policy {path}: {exc.strerror}") from None
        try:
            if path.suffix in (".yaml", ".yml"):
                import yaml

                data = yaml.safe_load(text) or {}
            else:
                data = json.loads(text)
        except Exception as exc:  # yaml and json raise their own error types
            raise ConfigError(f"safety policy {path} does not parse: {exc}") from None
        return cls.from_dict(data)


@dataclass(frozen=True)
class Verdict:
    decision: Decision
    reason: str


def _search(patterns: tuple[str, ...], text: str) -> str | None:
    for pattern in patterns:
        if re.search(pattern, text, re.IGNORECASE):
            return pattern
    return None


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in _strings(v)]
    return []


def _text_verdicts(text: str, policy: SafetyPolicy, where: str) -> list[Verdict]:
    out = []
    if (hit := _search(policy.deny_text, text)) is not None:
        out.append(Verdict("deny", f"{where} matches the destructive pattern {hit!r}"))
    if (hit := _search(policy.confirm_text, text)) is not None:
        out.append(Verdict("confirm", f"{where} matches {hit!r}"))
    return out


def _app_verdicts(app: str, policy: SafetyPolicy) -> list[Verdict]:
    out = []
    if (hit := _search(policy.deny_apps, app)) is not None:
        out.append(Verdict("deny", f"opening {app!r} is not allowed ({hit!r})"))
    if (hit := _search(policy.confirm_apps, app)) is not None:
        out.append(Verdict("confirm", f"opening {app!r} (a sensitive app: {hit!r}) needs confirmation"))
    return out


def _tool_verdicts(action: ToolCall, policy: SafetyPolicy) -> list[Verdict]:
    name = action.name
    out = []
    if name in policy.deny_tools:
        out.append(Verdict("deny", f"tool {name!r} is not allowed"))
    if policy.tool_allowlist is not None and name not in policy.tool_allowlist:
        out.append(Verdict(policy.unlisted_tools, f"tool {name!r} is outside the allowlist"))
    if name in policy.confirm_tools:
        out.append(Verdict("confirm", f"tool {name!r} needs confirmation"))
    for text in _strings(dict(action.arguments)):
        out += _text_verdicts(text, policy, f"an argument of tool {name!r}")
    app = action.arguments.get(policy.app_tools.get(name, ""), None)
    if isinstance(app, str):
        out += _app_verdicts(app, policy)
    return out


def classify(action: Action, policy: SafetyPolicy | None = None) -> Verdict:
    """The strictest verdict any rule of ``policy`` (default: :class:`SafetyPolicy()`) gives ``action``."""
    policy = policy or SafetyPolicy()
    verdicts: list[Verdict] = []
    if isinstance(action, Type):
        verdicts = _text_verdicts(action.text, policy, "typed text")
    elif isinstance(action, Key):
        if action.key in policy.deny_keys:
            verdicts.append(Verdict("deny", f"key {action.key!r} is not allowed"))
        elif action.key in policy.confirm_keys:
            verdicts.append(Verdict("confirm", f"key {action.key!r} needs confirmation"))
    elif isinstance(action, OpenApp):
        verdicts = _app_verdicts(action.app, policy)
    elif isinstance(action, ToolCall):
        verdicts = _tool_verdicts(action, policy)
    if not verdicts:
        return Verdict("allow", "no rule matched")
    return max(verdicts, key=lambda v: SEVERITY[v.decision])


def is_password_element(element: UIElement) -> bool:
    """True for a password field (see the module docstring for the markers)."""
    extra = element.extra
    return (extra.get("password") in (True, "true") or str(extra.get("input_type", "")).lower() == "password"
            or element.role.lower() == "password")


def redact_action(action: Action) -> Action:
    """``action`` with any typed text replaced by :data:`REDACTED`."""
    return replace(action, text=REDACTED) if isinstance(action, Type) else action


def terminal_confirm(action: Action) -> bool:
    """Ask on the terminal; True only for an explicit yes."""
    answer = input(f"Allow {action.describe()}? [y/N] ")
    return answer.strip().lower() in ("y", "yes")


def default_policy(device: Device) -> SafetyPolicy:
    """The policy used when none is given: :class:`SafetyPolicy`'s defaults, except that a *simulated* device
    (``device.simulated`` true, e.g. the sandbox phone, whose apps touch no real system) opens any app without
    asking. Destructive text, keys and tools stay denied everywhere."""
    if getattr(device, "simulated", False):
        return SafetyPolicy(confirm_apps=())
    return SafetyPolicy()


class SafetyGate(DeviceWrapper):
    """Classifies every action before it reaches ``device`` (see the module docstring)."""

    def __init__(self, device: Device, policy: SafetyPolicy | None = None,
                 confirm: Callable[[Action], bool] | None = None) -> None:
        super().__init__(device)
        self.policy = policy or default_policy(device)
        self.confirm = confirm
        self.decisions: list[tuple[str, Decision, str]] = []
        self._last_obs: Observation | None = None
        self._target: UIElement | None = None

    def observe(self, *, timeout: float | None = None) -> Observation:
        self._last_obs = self.device.observe(timeout=timeout)
        return self._last_obs

    def _secret(self, action: Action) -> bool:
        if not self.policy.redact_passwords or not isinstance(action, Type):
            return False
        focused = [e for e in (self._last_obs.elements if self._last_obs else ())
                   if e.extra.get("focused") in (True, "true")]
        target = focused[0] if focused else self._target
        return target is not None and is_password_element(target)

    def redact(self, action: Action) -> Action:
        """``action`` as it may be shown or stored: typed text redacted when it goes into a password field."""
        return redact_action(action) if self._secret(action) else action

    def _record(self, action: Action, verdict: Verdict, decision: Decision) -> None:
        shown = self.redact(action).describe()
        self.decisions.append((shown, decision, verdict.reason))
        log.info("safety %s: %s (%s)", decision, shown, verdict.reason)

    def execute(self, action: Action, *, timeout: float | None = None) -> ActionResult:
        verdict = classify(action, self.policy)
        if verdict.decision == "deny":
            self._record(action, verdict, "deny")
            raise ActionDenied(f"denied by the safety policy: {verdict.reason}")
        if verdict.decision == "confirm":
            if self.confirm is None:
                self._record(action, verdict, "deny")
                raise ActionDenied(f"{verdict.reason}; no one can confirm here (non-interactive): "
                                   "run interactively or approve with --yes")
            if not self.confirm(self.redact(action)):
                self._record(action, verdict, "deny")
                raise ActionDenied(f"declined by the user: {verdict.reason}")
        self._record(action, verdict, verdict.decision)
        secret = self._secret(action)
        if isinstance(action, (Click, LongPress)):
            self._target = self._element_at(action.x, action.y)
        result = self.device.execute(action, timeout=timeout)
        if secret:
            return replace(result, redacted=True)
        return result

    def _element_at(self, x: int, y: int) -> UIElement | None:
        hits = [e for e in (self._last_obs.elements if self._last_obs else ())
                if e.bounds[0] <= x < e.bounds[2] and e.bounds[1] <= y < e.bounds[3]]
        return min(hits, key=lambda e: (e.bounds[2] - e.bounds[0]) * (e.bounds[3] - e.bounds[1])) if hits else None
