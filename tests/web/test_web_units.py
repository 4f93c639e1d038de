"""Pure helpers of the web backend: text runs, key mapping, viewport parsing (no browser)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cua.devices.keys import text_runs
from cua.devices.web import KEY_NAMES, playwright_key
from cua.errors import ActionError


@given(st.text(max_size=60))
def test_text_runs_split_text_into_pure_ascii_and_non_ascii_pieces(text: str) -> None:
    runs = text_runs(text)
    assert "".join(run for _, run in runs) == text
    for is_ascii, run in runs:
        assert run and all((ord(c) < 128) == is_ascii for c in run)
    assert all(a[0] != b[0] for a, b in zip(runs, runs[1:])), "neighbouring runs differ in kind"


@given(st.lists(st.sampled_from(sorted(KEY_NAMES)), min_size=1, max_size=3))
def test_chords_of_known_keys_map_part_by_part(parts: list[str]) -> None:
    assert playwright_key("+".join(parts)).split("+") == [KEY_NAMES[p] for p in parts]


@pytest.mark.parametrize("bad", ["hyper", "ctrl+hyper", "f13", "ctrl+", "\x00"])
def test_unknown_keys_raise_action_error(bad: str) -> None:
    with pytest.raises(ActionError, match="known keys"):
        playwright_key(bad)
