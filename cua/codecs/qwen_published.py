"""The agent prompts Qwen published for its VL models, word for word, and the Nous function-call block.

Sources (text copied verbatim; only the screen size is filled in):

- Qwen2.5-VL: ``cookbooks/utils/agent_function_call.py`` (``MobileUse`` / ``ComputerUse``: description and
  parameter schema) rendered by Qwen-Agent's ``NousFnCallPrompt`` (``qwen_agent/llm/fncall_prompts/
  nous_fncall_prompt.py``: ``FN_CALL_TEMPLATE`` after the system message "You are a helpful assistant.") as
  ``cookbooks/mobile_agent.ipynb`` / ``computer_use.ipynb`` do (github.com/QwenLM/Qwen2.5-VL, commit f0af299).
  The Qwen-Agent of those cookbooks wrote each function as ``name_for_human, name, description, parameters,
  args_format`` (the printed prompt in ``mobile_agent.ipynb`` shows it); later Qwen-Agent dropped the two
  extra fields, so they are written here, not taken from the installed library.
- Qwen3-VL: the ``system_prompt`` literal of ``cookbooks/mobile_agent.ipynb`` (github.com/QwenLM/Qwen3-VL,
  commit 9658872): no system message before the tool block, the ``[0, 999]`` screen, an action list without
  ``key``/``open`` and with ``answer``, and a "# Response format" section after it.
- User turn: "The user query: ..." then "Task progress (You have done the following operation on the current
  device): Step 1: ...; Step 2: ...; " (Qwen2.5-VL ``mobile_agent.ipynb``: two spaces after the colon, each
  step the previous ``<tool_call>`` JSON; Qwen3-VL ``mobile_agent.ipynb``: one space, a ``.`` after the query
  and after the progress, a final newline, newlines and double quotes removed from each step).
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any, Sequence

NOUS_TEMPLATE = """# Tools

You may call one or more functions to assist with the user query.

You are provided with function signatures within <tools></tools> XML tags:
<tools>
{tool_descs}
</tools>

For each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:
<tool_call>
{{"name": <function-name>, "arguments": <args-json-object>}}
</tool_call>"""

QWEN25_SYSTEM = "You are a helpful assistant."

MOBILE_USE_DESCRIPTION = """Use a touchscreen to interact with a mobile device, and take screenshots.
* This is an interface to a mobile device with touchscreen. You can perform actions like clicking, typing, swiping, etc.
* Some applications may take time to start or process actions, so you may need to wait and take successive screenshots to see the results of your actions.
* The screen's resolution is {width}x{height}.
* Make sure to click any buttons, links, icons, etc with the cursor tip in the center of the element. Don't click boxes on their edges unless asked."""

MOBILE_USE_ACTIONS = {
    "key": """* `key`: Perform a key event on the mobile device.
    - This supports adb's `keyevent` syntax.
    - Examples: "volume_up", "volume_down", "power", "camera", "clear".""",
    "click": "* `click`: Click the point on the screen with coordinate (x, y).",
    "long_press": "* `long_press`: Press the point on the screen with coordinate (x, y) for specified seconds.",
    "swipe": "* `swipe`: Swipe from the starting point with coordinate (x, y) to the end point with coordinates2 (x2, y2).",
    "type": "* `type`: Input the specified text into the activated input box.",
    "answer": "* `answer`: Output the answer.",
    "system_button": "* `system_button`: Press the system button.",
    "open": "* `open`: Open an app on the device.",
    "wait": "* `wait`: Wait specified seconds for the change to happen.",
    "terminate": "* `terminate`: Terminate the current task and report its completion status.",
}

#: Qwen2.5-VL's ``mobile_use`` action list; Qwen3-VL's drops ``key`` and ``open`` and adds ``answer``.
QWEN25_MOBILE_ACTIONS = ("key", "click", "long_press", "swipe", "type", "system_button", "open", "wait", "terminate")
QWEN3_MOBILE_ACTIONS = ("click", "long_press", "swipe", "type", "answer", "system_button", "wait", "terminate")

# The published parameter schemas as the prompt prints them (the action's description and enum are filled in
# by ``parameters``).
MOBILE_USE_PARAMETERS: dict[str, Any] = json.loads(r'{"properties": {"action": {"description": "The action to perform. The available actions are:\n{actions}", "enum": [], "type": "string"}, "coordinate": {"description": "(x, y): The x (pixels from the left edge) and y (pixels from the top edge) coordinates to move the mouse to. Required only by `action=click`, `action=long_press`, and `action=swipe`.", "type": "array"}, "coordinate2": {"description": "(x, y): The x (pixels from the left edge) and y (pixels from the top edge) coordinates to move the mouse to. Required only by `action=swipe`.", "type": "array"}, "text": {"description": "Required only by `action=key`, `action=type`, and `action=open`.", "type": "string"}, "time": {"description": "The seconds to wait. Required only by `action=long_press` and `action=wait`.", "type": "number"}, "button": {"description": "Back means returning to the previous interface, Home means returning to the desktop, Menu means opening the application background menu, and Enter means pressing the enter. Required only by `action=system_button`", "enum": ["Back", "Home", "Menu", "Enter"], "type": "string"}, "status": {"description": "The status of the task. Required only by `action=terminate`.", "type": "string", "enum": ["success", "failure"]}}, "required": ["action"], "type": "object"}')  # noqa: E501
QWEN3_TEXT_DESCRIPTION = "Required only by `action=type` and `action=answer`."

COMPUTER_USE_DESCRIPTION = """Use a mouse and keyboard to interact with a computer, and take screenshots.
* This is an interface to a desktop GUI. You do not have access to a terminal or applications menu. You must click on desktop icons to start applications.
* Some applications may take time to start or process actions, so you may need to wait and take successive screenshots to see the results of your actions. E.g. if you click on Firefox and a window doesn't open, try wait and taking another screenshot.
* The screen's resolution is {width}x{height}.
* Whenever you intend to move the cursor to click on an element like an icon, you should consult a screenshot to determine the coordinates of the element before moving the cursor.
* If you tried clicking on a program or link but it failed to load, even after waiting, try adjusting your cursor position so that the tip of the cursor visually falls on the element that you want to click.
* Make sure to click any buttons, links, icons, etc with the cursor tip in the center of the element. Don't click boxes on their edges unless asked."""  # noqa: E501

COMPUTER_USE_ACTIONS = {
    "key": "* `key`: Performs key down presses on the arguments passed in order, then performs key releases in reverse order.",  # noqa: E501
    "type": "* `type`: Type a string of text on the keyboard.",
    "mouse_move": "* `mouse_move`: Move the cursor to a specified (x, y) pixel coordinate on the screen.",
    "left_click": "* `left_click`: Click the left mouse button.",
    "left_click_drag": "* `left_click_drag`: Click and drag the cursor to a specified (x, y) pixel coordinate on the screen.",  # noqa: E501
    "right_click": "* `right_click`: Click the right mouse button.",
    "middle_click": "* `middle_click`: Click the middle mouse button.",
    "double_click": "* `double_click`: Double-click the left mouse button.",
    "scroll": "* `scroll`: Performs a scroll of the mouse scroll wheel.",
    "wait": "* `wait`: Wait specified seconds for the change to happen.",
    "terminate": "* `terminate`: Terminate the current task and report its completion status.",
    "answer": "* `answer`: Output the answer.",
}
QWEN25_COMPUTER_ACTIONS = ("key", "type", "mouse_move", "left_click", "left_click_drag", "right_click", "middle_click",
                           "double_click", "scroll", "wait", "terminate")

COMPUTER_USE_PARAMETERS: dict[str, Any] = json.loads(r'{"properties": {"action": {"description": "The action to perform. The available actions are:\n{actions}", "enum": [], "type": "string"}, "keys": {"description": "Required only by `action=key`.", "type": "array"}, "text": {"description": "Required only by `action=type`.", "type": "string"}, "coordinate": {"description": "(x, y): The x (pixels from the left edge) and y (pixels from the top edge) coordinates to move the mouse to. Required only by `action=mouse_move` and `action=left_click_drag`.", "type": "array"}, "pixels": {"description": "The amount of scrolling to perform. Positive values scroll up, negative values scroll down. Required only by `action=scroll`.", "type": "number"}, "time": {"description": "The seconds to wait. Required only by `action=wait`.", "type": "number"}, "status": {"description": "The status of the task. Required only by `action=terminate`.", "type": "string", "enum": ["success", "failure"]}}, "required": ["action"], "type": "object"}')  # noqa: E501

QWEN3_RESPONSE_FORMAT = """

# Response format

Response format for every step:
1) Thought: one concise sentence explaining the next move (no multi-step reasoning).
2) Action: a short imperative describing what to do in the UI.
3) A single <tool_call>...</tool_call> block containing only the JSON: {"name": <function-name>, "arguments": <args-json-object>}.

Rules:
- Output exactly in the order: Thought, Action, <tool_call>.
- Be brief: one sentence for Thought, one for Action.
- Do not output anything else outside those three parts.
- If finishing, use action=terminate in the tool call."""  # noqa: E501

PROGRESS = "Task progress (You have done the following operation on the current device): "
_CJK = re.compile(r"[\u4e00-\u9fff]")


def parameters(schema: dict[str, Any], lines: dict[str, str], actions: Sequence[str],
               text: str | None = None) -> dict[str, Any]:
    """A published parameter schema whose action description and enum list ``actions`` (in that order)."""
    out = copy.deepcopy(schema)
    action = out["properties"]["action"]
    action["description"] = action["description"].format(actions="\n".join(lines[a] for a in actions))
    action["enum"] = list(actions)
    if text is not None:
        out["properties"]["text"]["description"] = text
    return out


def function(name: str, description: str, params: dict[str, Any], *, qwen_agent_fields: bool) -> dict[str, Any]:
    """A function as the cookbook's Qwen-Agent wrote it (``name_for_human``/``args_format`` when asked)."""
    if not qwen_agent_fields:
        return {"name": name, "description": description, "parameters": params}
    fmt = "此工具的输入应为JSON对象。" if _CJK.search(json.dumps([name, description, params], ensure_ascii=False)) \
        else "Format the arguments as a JSON object."
    return {"name_for_human": name, "name": name, "description": description, "parameters": params,
            "args_format": fmt}


def tool_block(system: str, functions: Sequence[dict[str, Any]]) -> str:
    """``NousFnCallPrompt``'s system text: ``system``, a blank line, then the tools block (one JSON per line)."""
    descs = "\n".join(json.dumps({"type": "function", "function": f}, ensure_ascii=False) for f in functions)
    return system + "\n\n" + NOUS_TEMPLATE.format(tool_descs=descs)


def qwen25_query(goal: str, steps: Sequence[str]) -> str:
    """Qwen2.5-VL's user turn: the query, then every earlier step as ``Step i: <call>; ``."""
    return f"The user query:  {goal}\n{PROGRESS}" + "".join(f"Step {i + 1}: {s}; " for i, s in enumerate(steps))


def qwen3_query(goal: str, steps: Sequence[str]) -> str:
    """Qwen3-VL's user turn (its cookbook's f-string, steps stripped of newlines and double quotes)."""
    history = "".join(f"Step {i + 1}: " + s.replace("\n", "").replace('"', "") + "; " for i, s in enumerate(steps))
    return f"The user query: {goal}.\n{PROGRESS}{history}.\n"
