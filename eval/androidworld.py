"""AndroidWorld adapters: a cua device as their ``AsyncEnv``, a cua policy as their agent, and their suite.

Source: google-research/android_world -- ``env/interface.py`` (``AsyncEnv``, ``State``),
``agents/base_agent.py`` (``EnvironmentInteractingAgent``), ``episode_runner.py``, ``suite_utils.py`` and
``run.py`` (how their suite is built and run). Actions cross with :mod:`cua.eval.androidworld_actions`.

- :class:`CuaAsyncEnv` wraps any cua :class:`~cua.device.Device` (the sandbox phone, a web page, an ADB phone):
  ``get_state`` = the cua observation as ``State(pixels, forest=None, ui_elements)`` (their
  ``representation_utils.UIElement``; the cua Observation rides along in ``auxiliaries["observation"]``);
  ``execute_action`` translates a JSONAction and executes its cua actions (reading the screen again first
  only when the action names an element ``index``, as theirs does every time); ``answer`` fills
  ``interaction_cache`` and ``status`` does nothing, as in their ``AsyncAndroidEnv``. ``controller`` (their
  adb/gRPC controller) does not exist for a cua device: their own task checks need their own env.
- :class:`CuaAgent` runs a cua :class:`~cua.policy.Policy` as an AndroidWorld agent on ANY ``AsyncEnv``
  (theirs on an emulator, or :class:`CuaAsyncEnv`): each ``step`` observes, proposes, records a cua
  :class:`~cua.trajectory.Step` (the policy's history), and sends the JSONAction; ``Terminate`` ends the
  episode (``done``), ``Answer`` does not. An invalid proposal is a recorded invalid step, not a crash.
- :func:`run_suite` is their ``run.py`` with a cua policy: their task registry, ``create_suite`` with
  ``n_task_combinations`` and the task seed, ``suite_utils.run`` (their success checks, their checkpointer).

Importing this module needs ``android_world`` (and ``android_env``, ``dm_env``, ``absl``, ``numpy``,
``termcolor``): a ConfigError says how to install them (docs/evaluation.md).
"""

from __future__ import annotations

import time
from typing import Any, Sequence

from cua.actions import Answer, Terminate, check_bounds
from cua.device import Device
from cua.errors import ActionError, ConfigError
from cua.eval.androidworld_actions import INSTALL_HINT, from_cua, to_cua
from cua.observation import Observation, UIElement
from cua.policy import Policy
from cua.trajectory import Step

try:
    import numpy as np
    from android_world.agents import base_agent
    from android_world.env import interface, json_action, representation_utils
except ModuleNotFoundError as _exc:  # pragma: no cover - exercised where android_world is absent
    raise ConfigError(f"{INSTALL_HINT}: {_exc}") from None

SUITE_FAMILIES = ("android_world", "android", "miniwob", "miniwob_subset", "information_retrieval")
DEFAULT_TASK_SEED = 30  # run.py's --task_random_seed default


def to_aw_element(element: UIElement, screen_size: tuple[int, int]) -> Any:
    """A cua UIElement as AndroidWorld's ``representation_utils.UIElement`` (pixel and normalised boxes)."""
    left, top, right, bottom = element.bounds
    width, height = screen_size
    box = representation_utils.BoundingBox(x_min=left, x_max=right, y_min=top, y_max=bottom)
    norm = representation_utils.BoundingBox(x_min=left / width, x_max=right / width, y_min=top / height,
                                            y_max=bottom / height)
    extra = element.extra or {}
    return representation_utils.UIElement(
        text=element.text or None, content_description=extra.get("content_description") or None,
        class_name=element.role or None, bbox=norm, bbox_pixels=box, hint_text=extra.get("hint") or None,
        is_checked=element.checked, is_checkable=element.checked is not None, is_clickable=element.clickable,
        is_editable=element.editable, is_enabled=True, is_focused=bool(extra.get("focused", False)),
        is_scrollable=bool(extra.get("scrollable", False)), is_visible=True,
        resource_name=element.resource_id or None,
    )


def from_aw_element(element: Any) -> UIElement:
    """AndroidWorld's UIElement as a cua UIElement (for policies that read elements)."""
    bbox = element.bbox_pixels
    bounds = (0, 0, 0, 0) if bbox is None else (int(bbox.x_min), int(bbox.y_min), int(bbox.x_max), int(bbox.y_max))
    extra = {k: v for k, v in (("content_description", element.content_description),
                               ("scrollable", element.is_scrollable)) if v}
    return UIElement(text=element.text or element.content_description or "", role=element.class_name or "",
                     bounds=bounds, resource_id=element.resource_name or "", clickable=bool(element.is_clickable),
                     editable=bool(element.is_editable), checked=element.is_checked if element.is_checkable else None,
                     extra=extra)


def state_to_observation(state: Any) -> Observation:
    """A cua Observation of an AndroidWorld ``State`` (the original one when a CuaAsyncEnv made the state)."""
    obs = (state.auxiliaries or {}).get("observation")
    if isinstance(obs, Observation):
        return obs
    from PIL import Image

    image = Image.fromarray(np.asarray(state.pixels, dtype=np.uint8)[..., :3])
    return Observation.from_image(image, elements=tuple(from_aw_element(e) for e in state.ui_elements or ()))


class CuaAsyncEnv(interface.AsyncEnv):
    """A cua device as an AndroidWorld ``AsyncEnv`` (see the module docstring). Owns nothing: ``close``
    closes the device only when ``owns_device``."""

    STABLE_READS, STABLE_PAUSE, STABLE_TIMEOUT = 3, 0.5, 6.0  # their _get_stable_state defaults

    def __init__(self, device: Device, *, owns_device: bool = False, step_timeout: float | None = None) -> None:
        self.device = device
        self.owns_device = owns_device
        self.step_timeout = step_timeout
        self._interaction_cache = ""
        self._size: tuple[int, int] | None = None
        self.executed: list[Any] = []  # the cua actions sent to the device, in order (for reports and tests)

    @property
    def controller(self) -> Any:
        raise ConfigError("a cua device has no AndroidWorld controller (adb/gRPC); AndroidWorld's own task "
                          "checks run on their env: cua eval androidworld")

    @property
    def interaction_cache(self) -> str:
        return self._interaction_cache

    @interaction_cache.setter
    def interaction_cache(self, value: str) -> None:
        self._interaction_cache = value

    def reset(self, go_home: bool = False) -> Any:
        if go_home:
            from cua.actions import Home

            self._execute(Home())
        self._interaction_cache = ""
        return self.get_state()

    def get_state(self, wait_to_stabilize: bool = False) -> Any:
        """The current screen. ``wait_to_stabilize``: as their ``AsyncAndroidEnv._get_stable_state``, read until
        the UI elements are the same on :attr:`STABLE_READS` reads :attr:`STABLE_PAUSE` s apart, at most
        :attr:`STABLE_TIMEOUT` s, and return the last read."""
        state = self._read_state()
        deadline, stable = time.monotonic() + self.STABLE_TIMEOUT, 1
        while wait_to_stabilize and stable < self.STABLE_READS and time.monotonic() < deadline:
            time.sleep(self.STABLE_PAUSE)
            current = self._read_state()
            stable = stable + 1 if current.ui_elements == state.ui_elements else 1
            state = current
        return state

    def _read_state(self) -> Any:
        obs = self.device.observe(timeout=self.step_timeout)
        self._size = (obs.width, obs.height)
        return interface.State(
            pixels=np.asarray(obs.image), forest=None,
            ui_elements=[to_aw_element(e, self._size) for e in obs.elements], auxiliaries={"observation": obs},
        )

    def execute_action(self, action: Any) -> None:
        """Translate ``action`` (a JSONAction) and execute it; ActionError (cua) when it cannot be done."""
        if action.action_type == json_action.ANSWER:
            self._interaction_cache = action.text or ""
            return
        if action.action_type == json_action.STATUS:
            return
        elements: list[Any] = []
        if action.index is not None or self._size is None:
            elements = self.get_state().ui_elements  # as AsyncAndroidEnv: an index means an element on screen now
        for cua_action in to_cua(action, screen_size=self.logical_screen_size, elements=elements):
            self._execute(cua_action)

    def _execute(self, action: Any) -> None:
        if self._size is not None:
            check_bounds(action, *self._size)
        self.device.execute(action, timeout=self.step_timeout)
        self.executed.append(action)

    def ask_question(self, question: str, timeout_seconds: float = -1.0) -> str | None:
        raise NotImplementedError("ask_question is not implemented (as in AndroidWorld's AsyncAndroidEnv).")

    @property
    def foreground_activity_name(self) -> str:
        obs = self.device.observe(timeout=self.step_timeout)
        return obs.app or ""

    @property
    def device_screen_size(self) -> tuple[int, int]:
        if self._size is None:
            self.get_state()
        assert self._size is not None
        return self._size

    @property
    def logical_screen_size(self) -> tuple[int, int]:
        return self.device_screen_size

    def hide_automation_ui(self) -> None:
        """Nothing to hide on a cua device."""

    @property
    def orientation(self) -> int:
        width, height = self.device_screen_size
        return 0 if height >= width else 1

    @property
    def physical_frame_boundary(self) -> tuple[int, int, int, int]:
        width, height = self.device_screen_size
        return 0, 0, width, height

    def close(self) -> None:
        if self.owns_device:
            self.device.close()


class CuaAgent(base_agent.EnvironmentInteractingAgent):
    """A cua policy as an AndroidWorld agent (see the module docstring). ``history`` holds this episode's
    cua Steps; ``transition_pause`` as theirs (None: wait for a stable screen)."""

    def __init__(self, env: Any, policy: Policy, *, name: str = "", transition_pause: float | None = 1.0) -> None:
        super().__init__(env, name=name or f"cua:{getattr(policy, 'name', type(policy).__name__)}",
                         transition_pause=transition_pause)
        self.policy = policy
        self.history: list[Step] = []
        self.answer: str | None = None
        self._goal: str | None = None

    def reset(self, go_home: bool = False) -> None:
        super().reset(go_home)
        self.history, self.answer, self._goal = [], None, None

    def step(self, goal: str) -> Any:
        if goal != self._goal:
            self.policy.reset(goal)
            self.history, self.answer, self._goal = [], None, goal
        state = self.get_post_transition_state()
        obs = state_to_observation(state)
        step = Step(index=len(self.history), observation=obs,
                    obs={"width": obs.width, "height": obs.height, "scale": obs.scale, "app": obs.app})
        t0 = time.perf_counter()
        done, sent = self._propose_and_send(goal, obs, state.ui_elements, step)
        step.timings["step"] = time.perf_counter() - t0
        self.history.append(step)
        data = {"raw_response": step.text, "action_output": sent, "error": step.error, "error_kind": step.error_kind,
                "cua_action": step.action.to_dict() if step.action is not None else None}
        return base_agent.AgentInteractionResult(done=done, data=data)

    def _propose_and_send(self, goal: str, obs: Observation, elements: Sequence[Any], step: Step) -> tuple[bool, str | None]:
        try:
            proposal = self.policy.propose(goal, obs, self.history)
        except ActionError as exc:
            step.error_kind, step.error = getattr(exc, "kind", "invalid"), str(exc)
            return False, None
        step.text, step.action, step.info = proposal.text, proposal.action, dict(proposal.info)
        action = proposal.action
        if action is None:
            step.error_kind = getattr(proposal, "error_kind", None) or "parse"
            step.error = proposal.error or "the proposal holds no action"
            return False, None
        try:
            check_bounds(action, obs.width, obs.height)
            translated = from_cua(action, elements=elements)
            self.env.execute_action(translated)
        except ActionError as exc:
            step.error_kind, step.error = getattr(exc, "kind", "invalid"), str(exc)
            return False, None
        if isinstance(action, Answer):
            self.answer = action.text
        return isinstance(action, Terminate), translated.json_str()


def run_suite(policy: Policy, *, console_port: int = 5554, adb_path: str, suite_family: str = "android_world",
              tasks: Sequence[str] | None = None, n_task_combinations: int = 1, task_seed: int = DEFAULT_TASK_SEED,
              checkpoint_dir: str, emulator_setup: bool = False, grpc_port: int = 8554,
              transition_pause: float | None = None, fixed_task_seed: bool = False) -> list[dict[str, Any]]:
    """AndroidWorld's ``run.py`` with a cua policy on a running emulator; returns their episode metadata.

    Their env (``env_launcher.load_and_setup_env``), task registry (``suite_family``), ``create_suite``
    (``n_task_combinations``, ``task_seed``), ``suite_utils.run`` with their ``IncrementalCheckpointer`` in
    ``checkpoint_dir`` (re-running resumes). Needs their repository installed and an emulator started with
    ``-grpc 8554`` (docs/evaluation.md).
    """
    if suite_family not in SUITE_FAMILIES:
        raise ConfigError(f"unknown suite family {suite_family!r}; valid: {', '.join(SUITE_FAMILIES)}")
    if n_task_combinations < 1:
        raise ConfigError("n_task_combinations must be >= 1")
    try:
        from android_world import checkpointer as checkpointer_lib
        from android_world import registry, suite_utils
        from android_world.env import env_launcher
    except (ModuleNotFoundError, ImportError) as exc:
        raise ConfigError(f"{INSTALL_HINT}: {exc}") from None
    env = env_launcher.load_and_setup_env(console_port=console_port, emulator_setup=emulator_setup,
                                          adb_path=adb_path, grpc_port=grpc_port)
    try:
        env_launcher.verify_api_level(env)
        suite = suite_utils.create_suite(
            registry.TaskRegistry().get_registry(family=suite_family), n_task_combinations=n_task_combinations,
            seed=task_seed, tasks=list(tasks) if tasks else None, use_identical_params=fixed_task_seed,
        )
        suite.suite_family = suite_family
        agent = CuaAgent(env, policy, transition_pause=transition_pause)
        if suite_family.startswith("miniwob"):
            agent.transition_pause = 0.2  # run.py: MiniWoB pages settle fast
        return suite_utils.run(suite, agent, checkpointer=checkpointer_lib.IncrementalCheckpointer(checkpoint_dir),
                               demo_mode=False)
    finally:
        env.close()
