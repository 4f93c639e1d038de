"""One reward name, one definition, registered on import (issue 10, item 6)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from cua import rewards
from cua.errors import ConfigError

SCRIPT = """
import cua.rewards as r
before = r.names()
import cua.train
from cua.train.recipe import load_recipe, shipped_recipes
from cua.train.rewards import resolve_reward
used = set()
for path in shipped_recipes():
    recipe = load_recipe(path)
    for spec in [*recipe.rewards, *(s for st in recipe.stages for s in (st.rewards or []))]:
        resolve_reward(spec.name)
        used.add(spec.name)
assert r.names() == before, (sorted(set(r.names()) ^ set(before)))
assert {"codec_hit", "codec_format"} <= used <= set(before), used
print("ok")
"""


def test_names_do_not_change_when_recipes_resolve():
    """A fresh interpreter: ``names()`` right after ``import cua.rewards`` is what every shipped recipe resolves."""
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]


def test_every_reward_is_defined_in_cua_rewards():
    for name in rewards.names():
        assert rewards.get(name).__module__.startswith("cua.rewards."), name


def test_a_second_definition_of_a_name_is_refused():
    with pytest.raises(ConfigError, match="codec_format"):
        rewards.register("codec_format")(lambda completions, **_: [0.0] * len(completions))
    assert rewards.get("codec_format").__module__ == "cua.rewards.codec_format"
