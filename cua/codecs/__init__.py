"""Model I/O codecs and their one registry (``CODECS``: name -> Codec instance).

See :mod:`cua.codecs.base` for the contract. Defaults per model family: Qwen2.5-VL -> ``qwen25_mobile_use``,
Qwen3-VL -> ``qwen3_mobile_use``, Qwen2-VL -> ``qwen2_mobile_use``. Recipe codecs: ``ui_r1``, ``gui_r1``,
``mobile_r1`` (the answer formats of those papers).
"""

from __future__ import annotations

from cua.codecs.base import Codec, Verb
from cua.codecs.gui_r1 import GUI_R1
from cua.codecs.mobile_r1 import MOBILE_R1
from cua.codecs.qwen_computer_use import QWEN25_COMPUTER_USE
from cua.codecs.qwen_mobile_use import QWEN2_MOBILE_USE, QWEN3_MOBILE_USE, QWEN25_MOBILE_USE
from cua.codecs.ui_r1 import UI_R1
from cua.errors import ConfigError

CODECS: dict[str, Codec] = {
    c.name: c for c in (
        QWEN25_MOBILE_USE, QWEN25_COMPUTER_USE, QWEN3_MOBILE_USE, QWEN2_MOBILE_USE, UI_R1, GUI_R1, MOBILE_R1,
    )
}
DEFAULT_CODECS: dict[str, str] = {
    "qwen2_vl": "qwen2_mobile_use", "qwen2_5_vl": "qwen25_mobile_use", "qwen3_vl": "qwen3_mobile_use",
}


def register_codec(codec: Codec) -> Codec:
    """Add ``codec`` to the registry under ``codec.name``."""
    CODECS[codec.name] = codec
    return codec


def get_codec(name: str) -> Codec:
    """The codec called ``name``; ConfigError listing the valid names otherwise."""
    codec = CODECS.get(name)
    if codec is None:
        raise ConfigError(f"unknown codec {name!r}; valid: {', '.join(sorted(CODECS))}")
    return codec


def default_codec_for(family: str) -> str:
    """The default codec name for a transformers ``model_type`` (ConfigError for unknown families)."""
    if family not in DEFAULT_CODECS:
        raise ConfigError(f"no default codec for model type {family!r} (known: {', '.join(DEFAULT_CODECS)}); "
                          f"pass --codec, one of {', '.join(sorted(CODECS))}")
    return DEFAULT_CODECS[family]


def check_family(codec: Codec, family: str, factor: int | None = None) -> None:
    """ConfigError if ``codec`` does not fit a ``family`` model (or its processor's resize ``factor``)."""
    if family in DEFAULT_CODECS and family not in codec.families:
        raise ConfigError(f"codec {codec.name} is for {', '.join(codec.families)} models, not {family}; "
                          f"use {DEFAULT_CODECS[family]} or another codec for {family}")
    if factor is not None and factor != codec.factor:
        raise ConfigError(f"codec {codec.name} expects resize factor {codec.factor}, the processor uses {factor}")


__all__ = ["CODECS", "Codec", "Verb", "check_family", "default_codec_for", "get_codec", "register_codec"]
