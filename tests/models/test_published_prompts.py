"""Each Qwen codec renders its model's published agent prompt word for word (issue 10, item 11).

The expected texts are literals copied from the sources (see each constant); the test applies cua's documented
additions to them (appended actions, the device's tools) and compares the whole rendered text.
"""

from __future__ import annotations

import json

import pytest

from cua.actions import Click, OpenApp
from cua.codecs import get_codec
from cua.coords import Geometry

# github.com/QwenLM/Qwen2.5-VL cookbooks/mobile_agent.ipynb (commit f0af2996e843cf46aa5f778c38d6694500c2ca81),
# the printed prompt of the "English App & Query" example (1080x2400 screenshot, smart-resized 1092x2408): the
# system message between "<|im_start|>system\n" and "<|im_end|>", and the user text before the image.
QWEN25_MOBILE_SYSTEM_1092x2408 = 'You are a helpful assistant.\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>\n{"type": "function", "function": {"name_for_human": "mobile_use", "name": "mobile_use", "description": "Use a touchscreen to interact with a mobile device, and take screenshots.\\n* This is an interface to a mobile device with touchscreen. You can perform actions like clicking, typing, swiping, etc.\\n* Some applications may take time to start or process actions, so you may need to wait and take successive screenshots to see the results of your actions.\\n* The screen\'s resolution is 1092x2408.\\n* Make sure to click any buttons, links, icons, etc with the cursor tip in the center of the element. Don\'t click boxes on their edges unless asked.", "parameters": {"properties": {"action": {"description": "The action to perform. The available actions are:\\n* `key`: Perform a key event on the mobile device.\\n    - This supports adb\'s `keyevent` syntax.\\n    - Examples: \\"volume_up\\", \\"volume_down\\", \\"power\\", \\"camera\\", \\"clear\\".\\n* `click`: Click the point on the screen with coordinate (x, y).\\n* `long_press`: Press the point on the screen with coordinate (x, y) for specified seconds.\\n* `swipe`: Swipe from the starting point with coordinate (x, y) to the end point with coordinates2 (x2, y2).\\n* `type`: Input the specified text into the activated input box.\\n* `system_button`: Press the system button.\\n* `open`: Open an app on the device.\\n* `wait`: Wait specified seconds for the change to happen.\\n* `terminate`: Terminate the current task and report its completion status.", "enum": ["key", "click", "long_press", "swipe", "type", "system_button", "open", "wait", "terminate"], "type": "string"}, "coordinate": {"description": "(x, y): The x (pixels from the left edge) and y (pixels from the top edge) coordinates to move the mouse to. Required only by `action=click`, `action=long_press`, and `action=swipe`.", "type": "array"}, "coordinate2": {"description": "(x, y): The x (pixels from the left edge) and y (pixels from the top edge) coordinates to move the mouse to. Required only by `action=swipe`.", "type": "array"}, "text": {"description": "Required only by `action=key`, `action=type`, and `action=open`.", "type": "string"}, "time": {"description": "The seconds to wait. Required only by `action=long_press` and `action=wait`.", "type": "number"}, "button": {"description": "Back means returning to the previous interface, Home means returning to the desktop, Menu means opening the application background menu, and Enter means pressing the enter. Required only by `action=system_button`", "enum": ["Back", "Home", "Menu", "Enter"], "type": "string"}, "status": {"description": "The status of the task. Required only by `action=terminate`.", "type": "string", "enum": ["success", "failure"]}}, "required": ["action"], "type": "object"}, "args_format": "Format the arguments as a JSON object."}}\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call>'
QWEN25_MOBILE_USER = 'The user query:  Open the file manager app and view the au_uu_SzH3yR2.mp3 file in MUSIC Folder\nTask progress (You have done the following operation on the current device): Step 1: {"name": "mobile_use", "arguments": {"action": "open", "text": "File Manager"}}; '

# github.com/QwenLM/Qwen3-VL cookbooks/mobile_agent.ipynb (commit 96588727e44c78b25ba03ea03b8e12f7e64fd0da),
# the system_prompt literal of "[Example] English App & Query with API", copied as written there.
QWEN3_MOBILE_SYSTEM = "\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>\n{\"type\": \"function\", \"function\": {\"name\": \"mobile_use\", \"description\": \"Use a touchscreen to interact with a mobile device, and take screenshots.\\n* This is an interface to a mobile device with touchscreen. You can perform actions like clicking, typing, swiping, etc.\\n* Some applications may take time to start or process actions, so you may need to wait and take successive screenshots to see the results of your actions.\\n* The screen's resolution is 999x999.\\n* Make sure to click any buttons, links, icons, etc with the cursor tip in the center of the element. Don't click boxes on their edges unless asked.\", \"parameters\": {\"properties\": {\"action\": {\"description\": \"The action to perform. The available actions are:\\n* `click`: Click the point on the screen with coordinate (x, y).\\n* `long_press`: Press the point on the screen with coordinate (x, y) for specified seconds.\\n* `swipe`: Swipe from the starting point with coordinate (x, y) to the end point with coordinates2 (x2, y2).\\n* `type`: Input the specified text into the activated input box.\\n* `answer`: Output the answer.\\n* `system_button`: Press the system button.\\n* `wait`: Wait specified seconds for the change to happen.\\n* `terminate`: Terminate the current task and report its completion status.\", \"enum\": [\"click\", \"long_press\", \"swipe\", \"type\", \"answer\", \"system_button\", \"wait\", \"terminate\"], \"type\": \"string\"}, \"coordinate\": {\"description\": \"(x, y): The x (pixels from the left edge) and y (pixels from the top edge) coordinates to move the mouse to. Required only by `action=click`, `action=long_press`, and `action=swipe`.\", \"type\": \"array\"}, \"coordinate2\": {\"description\": \"(x, y): The x (pixels from the left edge) and y (pixels from the top edge) coordinates to move the mouse to. Required only by `action=swipe`.\", \"type\": \"array\"}, \"text\": {\"description\": \"Required only by `action=type` and `action=answer`.\", \"type\": \"string\"}, \"time\": {\"description\": \"The seconds to wait. Required only by `action=long_press` and `action=wait`.\", \"type\": \"number\"}, \"button\": {\"description\": \"Back means returning to the previous interface, Home means returning to the desktop, Menu means opening the application background menu, and Enter means pressing the enter. Required only by `action=system_button`\", \"enum\": [\"Back\", \"Home\", \"Menu\", \"Enter\"], \"type\": \"string\"}, \"status\": {\"description\": \"The status of the task. Required only by `action=terminate`.\", \"type\": \"string\", \"enum\": [\"success\", \"failure\"]}}, \"required\": [\"action\"], \"type\": \"object\"}}}\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call>\n\n# Response format\n\nResponse format for every step:\n1) Thought: one concise sentence explaining the next move (no multi-step reasoning).\n2) Action: a short imperative describing what to do in the UI.\n3) A single <tool_call>...</tool_call> block containing only the JSON: {\"name\": <function-name>, \"arguments\": <args-json-object>}.\n\nRules:\n- Output exactly in the order: Thought, Action, <tool_call>.\n- Be brief: one sentence for Thought, one for Action.\n- Do not output anything else outside those three parts.\n- If finishing, use action=terminate in the tool call."

# github.com/QwenLM/Qwen2.5-VL cookbooks/utils/agent_function_call.py ComputerUse (commit f0af299; description
# and parameters verbatim, display 1932x1092 = smart_resize of 1920x1080) in Qwen-Agent's Nous tool block
# (qwen_agent/llm/fncall_prompts/nous_fncall_prompt.py FN_CALL_TEMPLATE) after "You are a helpful assistant.",
# with the function fields of the cookbook's Qwen-Agent (name_for_human, args_format), as computer_use.ipynb
# builds it (its printed prompt is not stored; the mobile notebook's printed prompt shows the same wrapping).
QWEN25_COMPUTER_SYSTEM_1932x1092 = 'You are a helpful assistant.\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>\n{"type": "function", "function": {"name_for_human": "computer_use", "name": "computer_use", "description": "Use a mouse and keyboard to interact with a computer, and take screenshots.\\n* This is an interface to a desktop GUI. You do not have access to a terminal or applications menu. You must click on desktop icons to start applications.\\n* Some applications may take time to start or process actions, so you may need to wait and take successive screenshots to see the results of your actions. E.g. if you click on Firefox and a window doesn\'t open, try wait and taking another screenshot.\\n* The screen\'s resolution is 1932x1092.\\n* Whenever you intend to move the cursor to click on an element like an icon, you should consult a screenshot to determine the coordinates of the element before moving the cursor.\\n* If you tried clicking on a program or link but it failed to load, even after waiting, try adjusting your cursor position so that the tip of the cursor visually falls on the element that you want to click.\\n* Make sure to click any buttons, links, icons, etc with the cursor tip in the center of the element. Don\'t click boxes on their edges unless asked.", "parameters": {"properties": {"action": {"description": "The action to perform. The available actions are:\\n* `key`: Performs key down presses on the arguments passed in order, then performs key releases in reverse order.\\n* `type`: Type a string of text on the keyboard.\\n* `mouse_move`: Move the cursor to a specified (x, y) pixel coordinate on the screen.\\n* `left_click`: Click the left mouse button.\\n* `left_click_drag`: Click and drag the cursor to a specified (x, y) pixel coordinate on the screen.\\n* `right_click`: Click the right mouse button.\\n* `middle_click`: Click the middle mouse button.\\n* `double_click`: Double-click the left mouse button.\\n* `scroll`: Performs a scroll of the mouse scroll wheel.\\n* `wait`: Wait specified seconds for the change to happen.\\n* `terminate`: Terminate the current task and report its completion status.", "enum": ["key", "type", "mouse_move", "left_click", "left_click_drag", "right_click", "middle_click", "double_click", "scroll", "wait", "terminate"], "type": "string"}, "keys": {"description": "Required only by `action=key`.", "type": "array"}, "text": {"description": "Required only by `action=type`.", "type": "string"}, "coordinate": {"description": "(x, y): The x (pixels from the left edge) and y (pixels from the top edge) coordinates to move the mouse to. Required only by `action=mouse_move` and `action=left_click_drag`.", "type": "array"}, "pixels": {"description": "The amount of scrolling to perform. Positive values scroll up, negative values scroll down. Required only by `action=scroll`.", "type": "number"}, "time": {"description": "The seconds to wait. Required only by `action=wait`.", "type": "number"}, "status": {"description": "The status of the task. Required only by `action=terminate`.", "type": "string", "enum": ["success", "failure"]}}, "required": ["action"], "type": "object"}, "args_format": "Format the arguments as a JSON object."}}\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call>'


def _append(text: str, old: str, new: str) -> str:
    """``text`` with ``new`` appended right after the one occurrence of ``old``."""
    assert text.count(old) == 1, old
    return text.replace(old, old + new)


TERMINATE = "* `terminate`: Terminate the current task and report its completion status."
ANSWER = "\\n* `answer`: Output the answer."
KEY_OPEN = ("\\n* `key`: Perform a key event on the mobile device.\\n    - This supports adb's `keyevent` syntax.\\n"
            "    - Examples: \\\"volume_up\\\", \\\"volume_down\\\", \\\"power\\\", \\\"camera\\\", \\\"clear\\\".\\n"
            "* `open`: Open an app on the device.")


def with_answer(text: str) -> str:
    """cua's addition to the Qwen2.5-VL tools: the ``answer`` action after ``terminate`` (description, enum)."""
    return _append(_append(text, TERMINATE, ANSWER), '"wait", "terminate"', ', "answer"')


def test_qwen25_mobile_use_is_the_published_prompt():
    codec = get_codec("qwen25_mobile_use")
    geo = Geometry(width=1080, height=2400, model_width=1092, model_height=2408)
    assert geo == Geometry.for_screen(1080, 2400, factor=28)
    assert codec.system_prompt(geo) == with_answer(QWEN25_MOBILE_SYSTEM_1092x2408)
    goal = "Open the file manager app and view the au_uu_SzH3yR2.mp3 file in MUSIC Folder"
    assert codec.user_text(goal, [codec.describe(OpenApp(app="File Manager"), geo)], 0) == QWEN25_MOBILE_USER


def test_qwen2_mobile_use_is_the_qwen25_prompt_in_the_relative_frame():
    geo = Geometry.for_screen(1080, 2400, factor=28)
    want = with_answer(QWEN25_MOBILE_SYSTEM_1092x2408).replace("1092x2408", "999x999")
    assert get_codec("qwen2_mobile_use").system_prompt(geo) == want


def test_qwen3_mobile_use_is_the_published_prompt():
    codec = get_codec("qwen3_mobile_use")
    geo = Geometry.for_screen(1440, 3120, factor=32)
    want = _append(_append(QWEN3_MOBILE_SYSTEM, TERMINATE, KEY_OPEN), '"wait", "terminate"', ', "key", "open"')
    assert codec.system_prompt(geo) == want
    # the cookbook's user turn: f"The user query: {instruction}.\nTask progress (...): {stage2_history}.\n" with
    # stage2_history += 'Step ' + str(idx + 1) + ': ' + his.replace('\n', '').replace('"', '') + '; '
    goal = "Search for Musk in X and go to his homepage to open the first post."
    history = [codec.describe(Click(x=720, y=1560), geo)]
    assert codec.user_text(goal, history, 0) == (
        "The user query: Search for Musk in X and go to his homepage to open the first post..\n"
        "Task progress (You have done the following operation on the current device): "
        "Step 1: {name: mobile_use, arguments: {action: click, coordinate: [500, 500]}}; .\n")


def test_qwen25_computer_use_is_the_published_prompt():
    codec = get_codec("qwen25_computer_use")
    geo = Geometry.for_screen(1920, 1080, factor=28)
    assert (geo.model_width, geo.model_height) == (1932, 1092)
    want = _append(with_answer(QWEN25_COMPUTER_SYSTEM_1932x1092).replace(
        '"wait", "terminate", "answer"', '"wait", "terminate"'), '"scroll", "wait", "terminate"', ', "answer"')
    assert codec.system_prompt(geo) == want


@pytest.mark.parametrize("name", ["qwen25_mobile_use", "qwen3_mobile_use", "qwen25_computer_use"])
def test_device_tools_follow_the_function_in_the_same_style(name):
    from cua.tools import ToolSpec

    codec = get_codec(name)
    geo = Geometry.for_screen(1080, 2400, factor=codec.factor)
    spec = ToolSpec(name="send_sms", description="Send a text message.",
                    parameters={"type": "object", "properties": {"to": {"type": "string"}}})
    lines = codec.system_prompt(geo, [spec]).split("<tools>\n")[1].split("\n</tools>")[0].split("\n")
    first, tool = (json.loads(line)["function"] for line in lines)
    assert list(tool) == list(first) and tool["name"] == "send_sms" and tool["parameters"] == spec.parameters
    assert codec.system_prompt(geo, [spec]).replace(lines[1] + "\n", "") == codec.system_prompt(geo)


def test_answers_in_the_published_format_parse():
    """Qwen3-VL answers with Thought/Action lines before the call; Qwen2.5-VL with the bare call."""
    geo = Geometry.for_screen(1440, 3120, factor=32)
    text = ('Thought: To search for Musk in X, I need to click on the search bar at the top of the screen.\n'
            'Action: "I tapped on the search bar to begin searching for Musk."\n<tool_call>\n'
            '{"name": "mobile_use", "arguments": {"action": "click", "coordinate": [447, 81]}}\n</tool_call>')
    assert get_codec("qwen3_mobile_use").parse(text, geo) == Click(x=644, y=253)
