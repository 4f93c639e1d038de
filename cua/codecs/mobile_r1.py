"""Mobile-R1's answer format: the ``mobile_r1`` codec (Gu et al. 2025, arXiv 2506.20332; data PG23/Mobile-R1).

Completion (the template of the dataset's ``response`` field, which the paper's format reward requires)::

    <think>
    ...
    </think><action>
    ...
    </action><tool_call>
    {"name": "mobile_use", "arguments": {"action": "click", "coordinate": [x, y]}}
    </tool_call>

The call is Qwen2.5-VL's ``mobile_use`` in absolute pixels of the smart-resized image (factor 28), mapped to
cua actions as :mod:`cua.codecs.qwen_mobile_use` does; parsing reads the one ``<tool_call>`` (the tags around
it are the reward's business, :mod:`cua.rewards.mobile_r1`). The system prompt is the dataset's ``system``
field word for word (huggingface.co/datasets/PG23/Mobile-R1, ``data.jsonl``): the one-line ``mobile_use``
function, the Chinese instructions for the three tags, and "用户任务: " followed by the task; cua appends the
device's tools as further functions in its ``<tools>`` block. The dataset does not publish its user turn, so
the user turn is the Qwen2.5-VL cookbook's (the query, then the task progress as numbered steps). A gold
completion (``format``) thinks "The next step is <action>." and states the step as the action with its
arguments, so it earns the Mobile-R1 reward's maximum (action 1 + format 1).
"""

from __future__ import annotations

import json
from typing import Any, Sequence

from cua.actions import Action
from cua.codecs import qwen_published as published
from cua.codecs.qwen_mobile_use import QwenMobileUse, render_tool_call
from cua.coords import Geometry

MOBILE_R1_FUNCTION = {"name_for_human": "mobile_use", "name": "mobile_use",
                      "description": "Use a touchscreen to interact with a mobile device."}
MOBILE_R1_SYSTEM = (
    "You are a mobile GUI agent. You are given a task and your action history, with screenshots. You need to "
    "perform the next action to complete the task.\n"
    "You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n{tools}\n</tools>\n"
    "For each function call, return a json object with function name and arguments within <tool_call></tool_call> "
    "XML tags:\n<tool_call>\n{{\"name\": <function-name>, \"arguments\": <args-json-object>}}\n</tool_call>\n"
    "分析任务和历史动作,给出下一步操作。\n"
    "在标签<think> </think>内输出思考过程。\n"
    "在标签<action> </action>内输出这一步将要执行的动作。\n"
    "在标签<tool_call> </tool_call>内输出最终答案。\n"
    "用户任务: "
)


class MobileR1(QwenMobileUse):
    """The Mobile-R1 codec (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__("mobile_r1", "model", 28, ("qwen2_vl", "qwen2_5_vl"))

    def system_prompt(self, geometry: Geometry, tools: Sequence[Any] = ()) -> str:
        """The dataset's system prompt up to "用户任务: " (``messages`` appends the task)."""
        functions = [MOBILE_R1_FUNCTION] + [
            published.function(t.name, t.description, dict(t.parameters), qwen_agent_fields=True) for t in tools]
        descs = "\n".join(json.dumps({"type": "function", "function": f}, ensure_ascii=False) for f in functions)
        return MOBILE_R1_SYSTEM.format(tools=descs)

    def messages(self, goal: str, observation: Any, geometry: Geometry, **kwargs: Any) -> list[dict[str, Any]]:
        out = super().messages(goal, observation, geometry, **kwargs)
        out[0]["content"][0]["text"] += goal
        return out

    def format(self, action: Action, geometry: Geometry) -> str:
        name, args = self.call(action, geometry)
        kind = args.get("action", name)
        step = " ".join([str(kind), *(json.dumps(v, ensure_ascii=False) for k, v in args.items() if k != "action")])
        return (f"<think>\nThe next step is {kind}.\n</think><action>\n{step}\n</action>"
                + render_tool_call(name, args))


MOBILE_R1 = MobileR1()
