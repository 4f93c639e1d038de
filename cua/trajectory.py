"""Trajectories: the steps of one episode, saved incrementally so a crash keeps everything.

On-disk layout of a trajectory folder (format version 1)::

    episode.json     header (goal, task, seed, device, policy) + outcome; rewritten when the episode ends
    steps.jsonl      one JSON object per step, appended as each step finishes
    step_000.png     the screenshot each step observed, the device's PNG bytes as they came (no re-encode)

A step line holds ``index``, ``screenshot`` (file name), ``obs`` (width, height, scale, app, url), ``text``
(raw policy output), ``action`` (the plain-dict form of :mod:`cua.actions`, or null), ``error_kind`` /
``error`` (set on an invalid or failed step), ``output`` (tool output), ``timings`` (seconds: observe, propose,
execute), ``reward`` (named reward fields) and ``info`` (policy extras, e.g. sampler candidates; ``subgoal``:
the hierarchical policy's subgoal of the step). UI elements are kept in memory only. :meth:`Trajectory.load`
reads a folder back; any malformed file raises :class:`~cua.errors.DatasetError` naming the file and line.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from cua.actions import Action, Type, action_from_dict
from cua.errors import ActionParseError, DatasetError
from cua.observation import Observation

if TYPE_CHECKING:  # pragma: no cover
    from cua.device import ActionResult

FORMAT_VERSION = 1
EPISODE_FILE = "episode.json"
STEPS_FILE = "steps.jsonl"

Status = Literal["running", "terminated", "max_steps", "time_budget", "ended_on_error", "infra_error", "crashed"]
#: How an episode can end. ``crashed``: an unexpected (non-cua) exception escaped the policy or device.
STATUSES: tuple[str, ...] = ("running", "terminated", "max_steps", "time_budget", "ended_on_error", "infra_error",
                             "crashed")
#: Error kinds a step can carry (``device`` only on the last step of an ``infra_error`` episode).
ERROR_KINDS: tuple[str, ...] = ("parse", "out_of_bounds", "denied", "unsupported", "invalid", "device", "crash")
TIMING_KEYS: tuple[str, ...] = ("observe", "propose", "execute")
#: What a secret typed text is replaced with in every record.
REDACTED = "[redacted]"
#: ``Step.info`` key of the subgoal a hierarchical policy's high level set for the step (:attr:`Step.subgoal`).
SUBGOAL_KEY = "subgoal"


def screenshot_name(index: int) -> str:
    return f"step_{index:03d}.png"


@dataclass(kw_only=True)
class Step:
    """One observe -> propose -> act turn. ``action`` is None when the proposal did not parse."""

    index: int
    observation: Observation | None = field(default=None, repr=False, compare=False)
    screenshot: str | None = None
    obs: dict[str, Any] = field(default_factory=dict)
    text: str = ""
    action: Action | None = None
    error_kind: str | None = None
    error: str | None = None
    output: Any = None
    timings: dict[str, float] = field(default_factory=dict)
    reward: dict[str, float] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        """True when the action parsed and was carried out without an error."""
        return self.action is not None and self.error_kind is None

    @property
    def subgoal(self) -> str | None:
        """The subgoal this step acted on (``info["subgoal"]``, set by :mod:`cua.policies.hierarchical`), if any."""
        value = self.info.get(SUBGOAL_KEY)
        return value if isinstance(value, str) else None

    def record_result(self, result: "ActionResult") -> None:
        """Keep what executing the action produced: its output, its extras (``info["result"]``), and, when
        ``result.redacted``, the secret typed text replaced by :data:`REDACTED` (:meth:`redact`)."""
        self.output = result.output
        if result.info:
            self.info["result"] = dict(result.info)
        if result.redacted:
            self.redact()

    def redact(self) -> None:
        """Replace the typed text of a Type action, in the action and wherever the raw model text holds it
        (raw or JSON-escaped), by :data:`REDACTED`; sets ``info["redacted"]``. Other actions are left alone."""
        action = self.action
        if not isinstance(action, Type):
            return
        secret = action.text
        for form in {secret, json.dumps(secret, ensure_ascii=False)[1:-1], json.dumps(secret)[1:-1]}:
            if form:
                self.text = self.text.replace(form, REDACTED)
        self.action = replace(action, text=REDACTED)
        self.info["redacted"] = True

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "screenshot": self.screenshot,
            "obs": self.obs,
            "text": self.text,
            "action": self.action.to_dict() if self.action is not None else None,
            "error_kind": self.error_kind,
            "error": self.error,
            "output": self.output,
            "timings": self.timings,
            "reward": self.reward,
            "info": self.info,
        }

    @classmethod
    def from_dict(cls, data: Any) -> "Step":
        """Inverse of :meth:`to_dict`; ValueError / ActionParseError on malformed data."""
        if not isinstance(data, dict):
            raise ValueError(f"a step must be a JSON object, got {type(data).__name__}")
        index = data.get("index")
        if not isinstance(index, int) or isinstance(index, bool) or index < 0:
            raise ValueError(f"step index must be a non-negative int, got {index!r}")
        raw_action = data.get("action")
        action = action_from_dict(raw_action) if raw_action is not None else None
        return cls(
            index=index,
            screenshot=_opt_str(data, "screenshot"),
            obs=_dict(data, "obs"),
            text=_opt_str(data, "text") or "",
            action=action,
            error_kind=_opt_str(data, "error_kind"),
            error=_opt_str(data, "error"),
            output=data.get("output"),
            timings=_dict(data, "timings"),
            reward=_dict(data, "reward"),
            info=_dict(data, "info"),
        )


def _opt_str(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{key} must be a string or null, got {value!r}")
    return value


def _dict(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key) or {}
    if not isinstance(value, dict):
        raise ValueError(f"{key} must be a JSON object, got {value!r}")
    return value


@dataclass(kw_only=True)
class Trajectory:
    """An episode: header, steps and outcome.

    With ``out_dir`` set, :meth:`begin` writes the header, :meth:`add` appends each step (line + PNG) at once,
    and :meth:`finish` rewrites ``episode.json`` with the outcome. ``success`` is the task checker's score
    (None without a checker); ``claimed`` is the status of the policy's Terminate, if any.
    """

    goal: str
    task_id: str | None = None
    seed: int | None = None
    params: dict[str, Any] = field(default_factory=dict)
    device: str = ""
    policy: str = ""
    max_steps: int | None = None
    steps: list[Step] = field(default_factory=list)
    status: str = "running"
    success: float | None = None
    claimed: str | None = None
    answer: str | None = None
    error: str | None = None
    started: float = field(default_factory=time.time)
    duration_s: float | None = None
    out_dir: Path | None = None

    def header(self) -> dict[str, Any]:
        return {
            "version": FORMAT_VERSION,
            "goal": self.goal,
            "task_id": self.task_id,
            "seed": self.seed,
            "params": self.params,
            "device": self.device,
            "policy": self.policy,
            "max_steps": self.max_steps,
            "status": self.status,
            "success": self.success,
            "claimed": self.claimed,
            "answer": self.answer,
            "error": self.error,
            "started": self.started,
            "duration_s": self.duration_s,
            "num_steps": len(self.steps),
        }

    def begin(self) -> None:
        """Create ``out_dir`` (if set), write the header and start an empty steps file."""
        if self.out_dir is None:
            return
        self.out_dir = Path(self.out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        (self.out_dir / STEPS_FILE).write_text("", encoding="utf-8")
        self._write_header()

    def add(self, step: Step) -> None:
        """Append ``step``; with ``out_dir`` set, write its screenshot and its line now."""
        self.steps.append(step)
        if self.out_dir is None:
            return
        if step.observation is not None and step.screenshot is None:
            step.screenshot = screenshot_name(step.index)
            (Path(self.out_dir) / step.screenshot).write_bytes(step.observation.png)
        line = json.dumps(step.to_dict(), ensure_ascii=False, default=_json_default)
        with open(Path(self.out_dir) / STEPS_FILE, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")

    def finish(self, status: str, *, error: str | None = None) -> None:
        """Record the outcome and rewrite the header."""
        if status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {status!r}")
        self.status = status
        self.error = error
        self.duration_s = time.time() - self.started
        if self.out_dir is not None:
            self._write_header()

    def save(self) -> None:
        """Rewrite the header only (steps are already on disk)."""
        if self.out_dir is not None:
            self._write_header()

    def _write_header(self) -> None:
        path = Path(self.out_dir) / EPISODE_FILE  # type: ignore[arg-type]
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(self.header(), indent=2, ensure_ascii=False, default=_json_default) + "\n",
                       encoding="utf-8")
        os.replace(tmp, path)

    def save_to(self, out_dir: str | os.PathLike[str]) -> None:
        """Write the whole trajectory to ``out_dir`` at once (for one built in memory)."""
        steps, self.steps = self.steps, []
        self.out_dir = Path(out_dir)
        self.begin()
        for step in steps:
            self.add(step)
        self._write_header()

    @property
    def invalid_steps(self) -> int:
        return sum(1 for s in self.steps if not s.valid)

    def screenshot_path(self, step: Step) -> Path | None:
        if self.out_dir is None or step.screenshot is None:
            return None
        return Path(self.out_dir) / step.screenshot

    def observation(self, step: Step) -> Observation | None:
        """The step's Observation: the in-memory one, else rebuilt from its PNG file (no UI elements)."""
        if step.observation is not None:
            return step.observation
        path = self.screenshot_path(step)
        if path is None:
            return None
        try:
            png = path.read_bytes()
        except OSError as exc:
            raise DatasetError(f"{path}: cannot read screenshot: {exc.strerror}") from None
        extra = {k: step.obs[k] for k in ("scale", "app", "url") if step.obs.get(k) is not None}
        return Observation.from_png(png, **extra)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> "Trajectory":
        """Read a trajectory folder; DatasetError naming the file (and line) on anything malformed."""
        root = Path(path)
        header = _read_header(root / EPISODE_FILE)
        steps = _read_steps(root / STEPS_FILE)
        try:
            return cls(
                goal=_req(header, "goal", str),
                task_id=header.get("task_id"),
                seed=header.get("seed"),
                params=header.get("params") or {},
                device=header.get("device") or "",
                policy=header.get("policy") or "",
                max_steps=header.get("max_steps"),
                steps=steps,
                status=header.get("status") or "running",
                success=header.get("success"),
                claimed=header.get("claimed"),
                answer=header.get("answer"),
                error=header.get("error"),
                started=header.get("started") or 0.0,
                duration_s=header.get("duration_s"),
                out_dir=root,
            )
        except (TypeError, ValueError) as exc:
            raise DatasetError(f"{root / EPISODE_FILE}: {exc}") from None


def _req(data: dict[str, Any], key: str, typ: type) -> Any:
    value = data.get(key)
    if not isinstance(value, typ):
        raise ValueError(f"{key} must be a {typ.__name__}, got {value!r}")
    return value


def _read_header(path: Path) -> dict[str, Any]:
    try:
        header = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DatasetError(f"{path}: missing; not a trajectory folder") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{path}: cannot read: {exc}") from None
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{path}: line {exc.lineno}: invalid JSON: {exc.msg}") from None
    if not isinstance(header, dict):
        raise DatasetError(f"{path}: must hold a JSON object")
    if header.get("version") != FORMAT_VERSION:
        raise DatasetError(f"{path}: unsupported format version {header.get('version')!r} (want {FORMAT_VERSION})")
    if header.get("status") not in STATUSES:
        raise DatasetError(f"{path}: unknown status {header.get('status')!r}; valid: {', '.join(STATUSES)}")
    return header


def _read_steps(path: Path) -> list[Step]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise DatasetError(f"{path}: missing; not a trajectory folder") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{path}: cannot read: {exc}") from None
    steps: list[Step] = []
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            steps.append(Step.from_dict(json.loads(line)))
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{path}: line {lineno}: invalid JSON: {exc.msg}") from None
        except (ActionParseError, ValueError, TypeError) as exc:
            raise DatasetError(f"{path}: line {lineno}: {exc}") from None
    return steps


def _json_default(value: Any) -> Any:
    """Make policy extras JSON-safe: to_dict() (actions, dataclasses), tolist() (numpy, torch), sets, else repr."""
    for method in ("to_dict", "tolist"):
        convert = getattr(value, method, None)
        if callable(convert):
            return convert()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    return repr(value)
