"""A cua device and task as a ``gymnasium.Env``, for RL stacks that speak Gymnasium.

``gymnasium.make("cua/Sandbox-v0", task="messages_send", seed=3)`` after ``import cua.devices.gym_env`` (or
in one line: ``gymnasium.make("cua.devices.gym_env:cua/Sandbox-v0", task=...)``; Gymnasium 1.x loads no
plug-in entry points, so the module that registers must be imported).

- Observation: ``{"screenshot": uint8 array (height, width, 3), "goal": str}`` (the task's goal text).
- Action: a cua action in its plain-dict form, e.g. ``{"action": "click", "x": 540, "y": 1200}`` (the README's
  action table; device pixels). :class:`ActionSpace` holds them: ``contains`` parses with
  :func:`cua.actions.action_from_dict` and checks the screen bounds; ``sample`` draws GUI actions from the
  space's generator.
- Step: an action that does not parse or is refused by the device (:class:`~cua.errors.ActionError`) is an
  invalid step (``info["error"]``), as in the agent loop; ``answer`` records the answer text; ``terminate``
  ends the episode (``terminated``); the task's step budget truncates it.
- Reward: the task's success (``task.is_successful``, 0..1) at the episode's end (terminated or truncated),
  0 before. Infrastructure failures (:class:`~cua.errors.DeviceError`) propagate.
- ``reset(seed=s)`` builds the task from seed ``s`` (else the ``seed`` given to the constructor on the first
  reset, else one drawn from ``np_random``), resets the device to it and initialises the task;
  ``options={"task": ID}`` switches the task. Reference: https://gymnasium.farama.org/api/env/
"""

from __future__ import annotations

import string
from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces

from cua.actions import Action, Answer, Terminate, action_from_dict, check_bounds
from cua.errors import ActionError, ConfigError
from cua.task import Task, get_task

ENV_ID = "cua/Sandbox-v0"
MAX_GOAL = 4096
#: Kinds :meth:`ActionSpace.sample` draws (screen gestures every backend supports).
SAMPLED_KINDS = ("click", "long_press", "swipe", "scroll", "type", "back", "home", "wait")


class GoalSpace(spaces.Text):
    """Any printable goal text up to ``max_length`` characters (``Text`` restricted to a charset cannot hold
    names with accents or quotes); ``sample`` draws from letters, digits and spaces."""

    def __init__(self, max_length: int = MAX_GOAL, seed: int | None = None) -> None:
        super().__init__(max_length=max_length, min_length=1, charset=string.ascii_letters + string.digits + " ",
                         seed=seed)

    def contains(self, x: Any) -> bool:
        return isinstance(x, str) and self.min_length <= len(x) <= self.max_length and x.isprintable()


class ActionSpace(spaces.Space[dict]):
    """cua actions in plain-dict form on a ``width`` x ``height`` screen (see the module docstring)."""

    def __init__(self, width: int, height: int, seed: int | None = None) -> None:
        self.width, self.height = int(width), int(height)
        super().__init__(shape=None, dtype=None, seed=seed)

    @property
    def is_np_flattenable(self) -> bool:
        return False

    def contains(self, x: Any) -> bool:
        try:
            check_bounds(action_from_dict(x), self.width, self.height)
        except ActionError:
            return False
        return True

    def sample(self, mask: Any = None, probability: Any = None) -> dict:
        rng = self.np_random
        kind = SAMPLED_KINDS[int(rng.integers(len(SAMPLED_KINDS)))]

        def point() -> tuple[int, int]:
            return int(rng.integers(self.width)), int(rng.integers(self.height))

        x, y = point()
        if kind in ("click", "long_press"):
            return {"action": kind, "x": x, "y": y}
        if kind == "swipe":
            x2, y2 = point()
            return {"action": "swipe", "x": x, "y": y, "x2": x2, "y2": y2}
        if kind == "scroll":
            return {"action": "scroll", "direction": ("up", "down", "left", "right")[int(rng.integers(4))]}
        if kind == "type":
            letters = string.ascii_lowercase
            return {"action": "type", "text": "".join(letters[int(i)] for i in rng.integers(26, size=5))}
        if kind == "wait":
            return {"action": "wait", "seconds": 0.0}
        return {"action": kind}

    def __repr__(self) -> str:
        return f"ActionSpace({self.width}x{self.height})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ActionSpace) and (other.width, other.height) == (self.width, self.height)


class CuaEnv(gymnasium.Env):
    """A device (spec, built here; default ``sandbox``) playing ``task`` (an id) as a Gymnasium environment."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 4}

    def __init__(self, task: str, *, seed: int | None = None, device: str = "sandbox",
                 device_options: dict[str, Any] | None = None, render_mode: str | None = None) -> None:
        if render_mode not in (None, "rgb_array"):
            raise ConfigError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        self.task_id = task
        get_task(task)  # unknown ids fail before a browser starts
        from cua.devices.registry import make_device

        self.render_mode = render_mode
        self._first_seed = seed
        self.device = make_device(device, **(device_options or {}))
        width, height = getattr(self.device, "width", None), getattr(self.device, "height", None)
        if width is None or height is None:
            first = self.device.observe()
            width, height = first.width, first.height
        self.observation_space = spaces.Dict({
            "screenshot": spaces.Box(0, 255, shape=(height, width, 3), dtype=np.uint8),
            "goal": GoalSpace(),
        })
        self.action_space = ActionSpace(width, height)
        self.task: Task | None = None
        self._steps = 0
        self._answer: str | None = None
        self._frame: np.ndarray | None = None

    def _observe(self) -> dict[str, Any]:
        assert self.task is not None
        self._frame = np.asarray(self.device.observe().image, dtype=np.uint8)
        return {"screenshot": self._frame, "goal": self.task.goal}

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[dict, dict]:
        super().reset(seed=seed)
        if options and "task" in options:
            self.task_id = str(options["task"])
        if seed is None:
            seed, self._first_seed = self._first_seed, None
        if seed is None:
            seed = int(self.np_random.integers(2**31 - 1))
        if self.task is not None:
            self.task.tear_down(self.device)
        self.task = get_task(self.task_id).from_seed(int(seed))
        self.device.reset(seed=self.task.seed)
        self.task.initialize(self.device)
        self._steps, self._answer = 0, None
        return self._observe(), {"task_id": self.task.id, "seed": self.task.seed}

    def step(self, action: dict) -> tuple[dict, float, bool, bool, dict]:
        if self.task is None:
            raise ConfigError("call reset() before step()")
        self._steps += 1
        info: dict[str, Any] = {"step": self._steps}
        terminated = False
        try:
            parsed: Action = action_from_dict(action)
            if isinstance(parsed, Terminate):
                terminated = True
                info["claimed"] = parsed.status
            elif isinstance(parsed, Answer):
                self._answer = parsed.text
            else:
                check_bounds(parsed, self.action_space.width, self.action_space.height)
                self.device.execute(parsed)
        except ActionError as exc:
            info["error"] = f"{type(exc).__name__}: {exc}"
        truncated = not terminated and self._steps >= self.task.max_steps
        reward = 0.0
        if terminated or truncated:
            reward = float(self.task.is_successful(self.device, answer=self._answer))
            info["success"] = reward
        return self._observe(), reward, terminated, truncated, info

    def render(self) -> np.ndarray | None:
        if self.render_mode != "rgb_array":
            return None
        return self._frame

    def close(self) -> None:
        device = getattr(self, "device", None)
        if device is not None:
            device.close()


if ENV_ID not in gymnasium.registry:
    gymnasium.register(id=ENV_ID, entry_point="cua.devices.gym_env:CuaEnv",
                       kwargs={"device": "sandbox"})
