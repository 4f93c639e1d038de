"""Suite-wide pytest set-up: hypothesis profile, and the skip rules of two markers.

``gpu`` tests run only when CUDA is available; ``realdevice`` tests only when ``CUA_ANDROID_SERIAL`` names a
real phone or emulator. Everything else always runs (CI installs every dependency).
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "cua", deadline=None, suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "cua"))


def _cuda_available() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    gpu_items = [item for item in items if item.get_closest_marker("gpu")]
    if gpu_items and not _cuda_available():
        skip = pytest.mark.skip(reason="needs a CUDA GPU")
        for item in gpu_items:
            item.add_marker(skip)
    if not os.environ.get("CUA_ANDROID_SERIAL"):
        skip = pytest.mark.skip(reason="needs a real Android device: set CUA_ANDROID_SERIAL")
        for item in items:
            if item.get_closest_marker("realdevice"):
                item.add_marker(skip)
