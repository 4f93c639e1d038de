"""A two-screen button game registered as device ``buttons`` and task ``buttons_two``, for online-RL tests.

The loop and the trainer are under test where it is used (not a backend): the device speaks the Device
protocol in memory. Screen 1 shows a red square; clicking inside it shows screen 2 with a green square at a
seeded position (visible only after step 1); clicking that one solves the task. Importable from a subprocess
(``PYTHONPATH=tests``) so a killed-and-resumed training run can use it.
"""

from __future__ import annotations

import io
import random
from typing import Any

from PIL import Image, ImageDraw

from cua.actions import Action, Click
from cua.device import ActionResult
from cua.devices.registry import register
from cua.observation import Observation
from cua.task import Task, register_task

SIZE = 256
SQUARE = 64


class ButtonsDevice:
    spec = "buttons"

    def __init__(self) -> None:
        self.reset(seed=0)

    def reset(self, *, seed: int | None = None) -> None:
        rng = random.Random(seed or 0)
        self.targets = [(rng.randrange(0, SIZE - SQUARE), rng.randrange(0, SIZE - SQUARE)) for _ in range(2)]
        self.screen = 0

    def observe(self, *, timeout: float | None = None) -> Observation:
        img = Image.new("RGB", (SIZE, SIZE), (230, 230, 230))
        if self.screen < 2:
            x, y = self.targets[self.screen]
            ImageDraw.Draw(img).rectangle((x, y, x + SQUARE - 1, y + SQUARE - 1),
                                          fill=(220, 30, 30) if self.screen == 0 else (30, 180, 30))
        buf = io.BytesIO()
        img.save(buf, format="PNG")
        return Observation.from_png(buf.getvalue())

    def execute(self, action: Action, *, timeout: float | None = None) -> ActionResult:
        if isinstance(action, Click) and self.screen < 2:
            x, y = self.targets[self.screen]
            if x <= action.x < x + SQUARE and y <= action.y < y + SQUARE:
                self.screen += 1
        return ActionResult(output=None)

    def close(self) -> None:
        pass


@register("buttons", forms=("buttons",))
def _make(arg: str, **options: Any) -> ButtonsDevice:
    return ButtonsDevice()


@register_task
class ButtonsTwo(Task):
    id = "buttons_two"
    template = "Click red, then green"
    complexity = 0.4

    def is_successful(self, device: Any, answer: str | None = None) -> float:
        return 1.0 if device.screen == 2 else 0.0


@register_task
class ButtonsTwoHard(ButtonsTwo):
    id = "buttons_two_hard"
    complexity = 0.8
