"""Every reward's docstring example runs (STYLE: each reward cites its source and has a doctest)."""

from __future__ import annotations

import doctest

import pytest

from cua import rewards
from cua.rewards import codec_format, gta1, gui_r1, mobile_r1, task, ui_r1

MODULES = [ui_r1, gui_r1, gta1, mobile_r1, task, codec_format]


@pytest.mark.parametrize("module", MODULES, ids=[m.__name__ for m in MODULES])
def test_doctests_pass(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize("name", rewards.names())
def test_every_reward_has_an_example(name):
    assert ">>>" in (rewards.get(name).__doc__ or "")
