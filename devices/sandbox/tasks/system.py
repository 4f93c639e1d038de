"""System-level sandbox tasks: open an app, Settings toggles and brightness, Gallery favourites."""

from __future__ import annotations

import random
from typing import Any, Sequence

from cua.actions import Action, OpenApp, Swipe
from cua.devices.sandbox.data import PHOTO_COLOURS, PHOTO_TITLES
from cua.devices.sandbox.device import APPS
from cua.devices.sandbox.tasks.base import (
    SandboxTask, actions, app, at_app_start, done, find, open_app, require, route, sandbox_task, tap,
)
from cua.observation import Observation

TOGGLES = {"wifi": "Wi-Fi", "bluetooth": "Bluetooth", "airplane": "Airplane mode", "dark_mode": "Dark mode"}
BRIGHTNESS_TOLERANCE = 2
SWIPE_Y = 900
SWIPE_FROM_TO = (860, 220)


def route_from_state(device: Any) -> str:
    """The screen the app shows now, as the world recorded it."""
    return str(device.world.state["route"])


@sandbox_task("apps_open", "Open the {app} app.", complexity=0.3, primitives=("open_app",),
              draws={"app": tuple(APPS)})
class AppsOpen(SandboxTask):
    """One OpenApp; done once the app is on screen."""

    def is_successful(self, device: Any, answer: str | None = None) -> float:
        return float(route_from_state(device).startswith(APPS[self.params["app"]]))

    def expert(self, observation: Observation, history: Sequence[Any]) -> Action:
        if app(observation) == self.params["app"]:
            return done(history)
        return OpenApp(app=self.params["app"])


@sandbox_task("settings_toggle", "Turn {state} {label} in Settings.", complexity=0.6, primitives=("home", "click"),
              launch="home")
class SettingsToggle(SandboxTask):
    """Starts inside Notes; the expert goes Home and taps the Settings icon."""

    @classmethod
    def generate_params(cls, rng: random.Random) -> dict[str, Any]:
        key = rng.choice(list(TOGGLES))
        return {"key": key, "label": TOGGLES[key], "state": rng.choice(["on", "off"])}

    def setup(self, world: Any) -> None:
        world.set_settings({self.params["key"]: self.params["state"] == "off"})

    def start_route(self, world: Any) -> str:
        return "/notes"

    def is_successful(self, device: Any, answer: str | None = None) -> float:
        return float(device.world.state["settings"][self.params["key"]] == (self.params["state"] == "on"))

    def expert(self, observation: Observation, history: Sequence[Any]) -> Action:
        if not at_app_start(observation, "Settings"):
            return open_app(observation, "Settings", self.launch)
        switch = require(find(observation, self.params["label"], role="switch"), f"{self.params['label']} switch")
        return done(history) if switch.checked == (self.params["state"] == "on") else tap(switch)


@sandbox_task("settings_brightness", "Set the screen brightness to {value}%.", complexity=0.5,
              primitives=("open_app", "swipe"), draws={"value": lambda rng: rng.randrange(0, 21) * 5})
class SettingsBrightness(SandboxTask):
    """The slider is dragged (a swipe) from the current level to the target, within the tolerance."""

    def setup(self, world: Any) -> None:
        world.set_settings({"brightness": 20 if self.params["value"] >= 50 else 80})

    def is_successful(self, device: Any, answer: str | None = None) -> float:
        level = device.world.state["settings"]["brightness"]
        return float(abs(level - self.params["value"]) <= BRIGHTNESS_TOLERANCE)

    def expert(self, observation: Observation, history: Sequence[Any]) -> Action:
        if not at_app_start(observation, "Settings"):
            return open_app(observation, "Settings", self.launch)
        slider = find(observation, "Brightness", role="slider")
        label = find(observation, "Brightness ", prefix=True)
        if slider is None or label is None:
            raise LookupError("no brightness slider in Settings")
        current = int(label.text.split()[-1].rstrip("%"))
        if abs(current - self.params["value"]) <= BRIGHTNESS_TOLERANCE:
            return done(history)
        left, top, right, bottom = slider.bounds
        at = lambda v: min(right - 1, left + round(v * (right - left) / 100))  # noqa: E731
        y = (top + bottom) // 2
        return Swipe(x=at(current), y=y, x2=at(self.params["value"]), y2=y)


@sandbox_task("gallery_favourite", 'Mark the photo "{title}" as a favourite in Gallery.', complexity=0.9,
              primitives=("open_app", "swipe", "click"),
              draws={"title": PHOTO_TITLES, "position": lambda rng: rng.randrange(2, 6)})
class GalleryFavourite(SandboxTask):
    """The photo sits a few swipes into the viewer; swiping is the only way there."""

    def setup(self, world: Any) -> None:
        colour = PHOTO_COLOURS[PHOTO_TITLES.index(self.params["title"])]
        world.place_photo(self.params["title"], colour, self.params["position"])

    def is_successful(self, device: Any, answer: str | None = None) -> float:
        photos = device.world.state["photos"]
        wanted = [p["favourite"] for p in photos if p["title"] == self.params["title"]]
        others = [p["favourite"] for p in photos if p["title"] != self.params["title"]]
        return float(wanted == [True] and not any(others))

    def expert(self, observation: Observation, history: Sequence[Any]) -> Action:
        if not route(observation).startswith("/gallery"):
            return open_app(observation, "Gallery", self.launch)
        if find(observation, self.params["title"]) is not None:
            fav = require(find(observation, "Favourite", role="button"), "Favourite button")
            return done(history) if fav.checked else tap(fav)
        counter = find(observation, "Photo ", prefix=True)
        index, total = (int(counter.text.split()[1]), int(counter.text.split()[-1])) if counter else (1, 1)
        swipes = [a for a in actions(history) if isinstance(a, Swipe)]
        backwards = index == total or (index > 1 and bool(swipes) and swipes[-1].x2 > swipes[-1].x)
        start, end = SWIPE_FROM_TO[::-1] if backwards else SWIPE_FROM_TO
        return Swipe(x=start, y=SWIPE_Y, x2=end, y2=SWIPE_Y)
