"""cua.rewards: rule and task rewards with trl's signature, one module per recipe family.

``get(name)`` / ``names()`` / ``maximum(name)`` / ``REWARDS``: ``ui_r1`` (+ ``_action_only``, ``_format``,
``_type``, ``_coord``), ``gui_r1`` (+ ``_format``, ``_accuracy``), ``gta1``, ``codec_hit``, ``codec_format``,
``mobile_r1_action`` (+ ``_format``), ``task``. Every reward is defined once, here, and registered on import.
"""

from cua.rewards import codec_format, gta1, gui_r1, mobile_r1, task, ui_r1  # noqa: F401
from cua.rewards.registry import REWARDS, get, maximum, names, register, text_of
from cua.rewards.task import TaskReward, score_episode

__all__ = ["REWARDS", "TaskReward", "get", "maximum", "names", "register", "score_episode", "text_of"]
