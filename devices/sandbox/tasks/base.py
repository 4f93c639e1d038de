"""The sandbox task base class and the screen-reading helpers its experts use.

A :class:`SandboxTask` is an AndroidWorld-style TaskEval (:class:`cua.task.Task`): ``initialize`` arranges the
world through :class:`~cua.devices.sandbox.world.SandboxWorld`'s methods (as AndroidWorld sets state over adb)
and opens the start screen; ``is_successful`` reads ``device.world.state``. Each task also carries its own
``expert(observation, history) -> Action``: a reactive demonstrator (used by the ``oracle`` policy) that decides
from the current screen's UI elements, the task's parameters and the actions taken so far, and never touches
the world. Coordinates are device pixels (1080x2400).

A task module declares each task with :func:`sandbox_task` (id, template, complexity, primitives, parameter
draws) and writes only its setup, checker and expert; the steps every expert takes (go to an app, fill a form,
tap a labelled element) are here: :meth:`SandboxTask.go_to`, :func:`fill_form`, :func:`tap_on`.
"""

from __future__ import annotations

import random
import re
from typing import Any, Callable, ClassVar, Mapping, Sequence, TypeVar, Union

from cua.actions import Action, Back, Click, Home, OpenApp, Scroll, Terminate, Type
from cua.devices.sandbox.device import APPS, HOME_ROUTE, app_of, route_of
from cua.errors import ConfigError
from cua.observation import Observation, UIElement
from cua.task import Task, register_task

#: Top of the content area in device pixels (status bar 24 + app bar 56 CSS px, at scale 3).
CONTENT_TOP = 240
SCROLL_POINT = (540, 1400)
#: How a parameter is drawn: ``rng.choice`` of a sequence, or a function of the RNG.
Draw = Union[Sequence[Any], Callable[[random.Random], Any]]
T = TypeVar("T", bound="SandboxTask")


class SandboxTask(Task):
    """A task on the sandbox phone. ``launch`` says how the expert opens apps: ``open_app`` or ``home`` icons;
    ``draws`` how each parameter is drawn, in order (:meth:`generate_params`)."""

    device_kind: ClassVar[str] = "sandbox"
    launch: ClassVar[str] = "open_app"
    primitives: ClassVar[tuple[str, ...]] = ()
    draws: ClassVar[Mapping[str, Draw]] = {}

    @classmethod
    def generate_params(cls, rng: random.Random) -> dict[str, Any]:
        """Each of ``draws`` in order: a choice from its sequence, or its function of ``rng``."""
        return {name: draw(rng) if callable(draw) else rng.choice(draw) for name, draw in cls.draws.items()}

    def initialize(self, device: Any) -> None:
        """Arrange the world (:meth:`setup`), then open :meth:`start_route` (home by default).

        ConfigError when ``device`` is not the sandbox phone (it has no world to arrange or check).
        """
        if not hasattr(device, "world") or not hasattr(device, "navigate"):
            raise ConfigError(f"task {self.id} runs on the sandbox phone only (--device sandbox, sandbox+web or "
                              f"sandbox+desktop[:DISPLAY]), not {device!r}")
        self.setup(device.world)
        route = self.start_route(device.world)
        if route != HOME_ROUTE:
            device.navigate(route)

    def setup(self, world: Any) -> None:
        """Arrange the world's state for this task (default: nothing)."""

    def start_route(self, world: Any) -> str:
        return HOME_ROUTE

    def expert(self, observation: Observation, history: Sequence[Any]) -> Action:
        """The next action of a reactive expert (see the module docstring)."""
        raise NotImplementedError

    def go_to(self, obs: Observation, name: str) -> Action:
        """One step toward app ``name``'s start screen: Back on a deeper screen of it, else launch it (the
        task's ``launch``: OpenApp, or Home then its icon)."""
        return Back() if app(obs) == name else open_app(obs, name, self.launch)


def sandbox_task(task_id: str, template: str, *, complexity: float, primitives: tuple[str, ...],
                 draws: Mapping[str, Draw] | None = None, launch: str | None = None) -> Callable[[type[T]], type[T]]:
    """Class decorator: give a :class:`SandboxTask` its id, goal template, complexity, the GUI primitives its
    expert uses, its parameter ``draws`` (and ``launch``), then register it (:func:`cua.task.register_task`)."""

    def deco(cls: type[T]) -> type[T]:
        cls.id, cls.template, cls.complexity, cls.primitives = task_id, template, complexity, primitives
        if draws is not None:
            cls.draws = draws
        if launch is not None:
            cls.launch = launch
        register_task(cls)
        return cls

    return deco


def route(obs: Observation) -> str:
    return route_of(obs.url)


def app(obs: Observation) -> str:
    return app_of(route(obs))


def title(obs: Observation) -> str:
    """The app bar's title (the ``h1`` element's text), or '' when there is none."""
    return next((e.text for e in obs.elements if e.role == "h1"), "")


def fully_visible(obs: Observation, el: UIElement, *, content: bool = True) -> bool:
    left, top, right, bottom = el.bounds
    return (top >= CONTENT_TOP or not content) and bottom <= obs.height and right > left and bottom > top


def find(obs: Observation, text: str, *, role: str | None = None, content: bool = True,
         prefix: bool = False) -> UIElement | None:
    """The first fully visible element whose text equals ``text`` (or starts with it), of ``role`` if given.

    ``content`` restricts the search to the content area below the app bar (list rows scrolled under the bar
    are still in the DOM but hidden).
    """
    for el in obs.elements:
        hit = el.text.startswith(text) if prefix else el.text == text
        if hit and (role is None or el.role == role) and fully_visible(obs, el, content=content):
            return el
    return None


def by_id(obs: Observation, resource_id: str) -> UIElement | None:
    return next((e for e in obs.elements if e.resource_id == resource_id), None)


def require(el: UIElement | None, what: str) -> UIElement:
    """``el``, or LookupError (the expert cannot read the screen) naming ``what`` when it is None."""
    if el is None:
        raise LookupError(f"no {what!r} on this screen")
    return el


def tap(el: UIElement) -> Click:
    x, y = el.center
    return Click(x=x, y=y)


def tap_on(obs: Observation, text: str, *, role: str | None = None, content: bool = True) -> Click:
    """Tap the element showing ``text`` (see :func:`find`); LookupError naming it when the screen has none."""
    return tap(require(find(obs, text, role=role, content=content), text))


def actions(history: Sequence[Any]) -> list[Action]:
    """The actions of the valid steps so far, in order."""
    return [s.action for s in history if s.action is not None and s.error_kind is None]


def last_action(history: Sequence[Any]) -> Action | None:
    done = actions(history)
    return done[-1] if done else None


def just_clicked(history: Sequence[Any], el: UIElement) -> bool:
    """True when the last action was a click inside ``el``'s bounds."""
    last = last_action(history)
    left, top, right, bottom = el.bounds
    return isinstance(last, Click) and left <= last.x < right and top <= last.y < bottom


def open_app(obs: Observation, name: str, via: str) -> Action:
    """The next action toward app ``name``'s start screen: OpenApp, or Home then its home-screen icon."""
    if via == "open_app":
        return OpenApp(app=name)
    if route(obs) != HOME_ROUTE:
        return Home()
    icon = find(obs, name, role="button")
    if icon is None:
        raise LookupError(f"the home screen shows no {name} icon")
    return tap(icon)


def at_app_start(obs: Observation, name: str) -> bool:
    return route(obs) == APPS[name]


def fill(obs: Observation, history: Sequence[Any], resource_id: str, text: str) -> Action | None:
    """Focus the field ``resource_id`` then type ``text``; None once the field shows ``text``."""
    field = by_id(obs, resource_id)
    if field is None:
        raise LookupError(f"no field {resource_id!r} on this screen")
    if field.text == text:
        return None
    if just_clicked(history, field):
        return Type(text=text)
    return tap(field)


def fill_form(obs: Observation, history: Sequence[Any], values: Mapping[str, str], submit: str = "Save") -> Action:
    """The next step of filling a form: each field (resource id -> text) in order (:func:`fill`), then tap the
    ``submit`` button."""
    for resource_id, text in values.items():
        step = fill(obs, history, resource_id, text)
        if step is not None:
            return step
    return tap_on(obs, submit, role="button")


def scroll_toward(obs: Observation, target: str, rows: Sequence[UIElement]) -> Scroll:
    """Scroll a name-sorted list toward ``target`` (down when it sorts after every visible row)."""
    visible = sorted(e.text for e in rows if fully_visible(obs, e))
    direction = "down" if not visible or target > visible[-1] else "up"
    return Scroll(direction=direction, x=SCROLL_POINT[0], y=SCROLL_POINT[1])


def list_rows(obs: Observation) -> list[UIElement]:
    """The list rows (buttons) in the content area."""
    return [e for e in obs.elements if e.role == "button" and e.bounds[1] >= CONTENT_TOP]


def done(history: Sequence[Any]) -> Terminate:
    return Terminate(status="success")


def digits(text: str | None) -> str:
    return re.sub(r"\D", "", text or "")


def norm(text: str | None) -> str:
    return " ".join((text or "").casefold().split()).strip(" .!?\"'")
