"""Fixtures for online-RL tests: one tiny Qwen3-VL (built once per session) and small screenshots."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="session")
def tiny_q3(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from cua.models.tiny import save_tiny

    return save_tiny("qwen3_vl", tmp_path_factory.mktemp("online") / "qwen3_vl")


@pytest.fixture(scope="session")
def tiny_model(tiny_q3: Path) -> tuple[Any, Any]:
    from cua.models.loading import load_model_and_processor

    return load_model_and_processor(str(tiny_q3))


def screen(i: int, size: tuple[int, int] = (360, 800)) -> Any:
    """A small phone-like screenshot whose blue block moves with ``i``."""
    from PIL import Image, ImageDraw

    from cua.observation import Observation

    img = Image.new("RGB", size, (245, 245, 245))
    ImageDraw.Draw(img).rectangle((20 + 40 * i, 100, 180 + 40 * i, 260), fill=(25, 118, 210))
    return Observation.from_image(img)
