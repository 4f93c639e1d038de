"""Codec round trips through every frame, checked against qwen_vl_utils.smart_resize, plus parse fuzzing."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from qwen_vl_utils import smart_resize as qwen_smart_resize

from cua.actions import (
    Answer, Back, Click, Home, Key, LongPress, OpenApp, Scroll, Swipe, Terminate, ToolCall, Type, Wait,
    scroll_to_swipe,
)
from cua.codecs import check_family, default_codec_for, get_codec
from cua.coords import Geometry
from cua.errors import ActionOutOfBounds, ActionParseError, ActionUnsupported, ConfigError

#: The codecs cua.codecs ships (other packages may register more in CODECS and test their own).
SHIPPED = ("gui_r1", "mobile_r1", "qwen25_computer_use", "qwen25_mobile_use", "qwen2_mobile_use", "qwen3_mobile_use",
           "ui_r1")

# (width, height, min_pixels, max_pixels): a phone (upscaled by smart_resize), a desktop, a phone under a
# small max_pixels (downscaled 3x), and a tall odd size.
SCREENS = [
    (1080, 2400, 4 * 28 * 28, 16384 * 28 * 28),
    (1920, 1080, 4 * 28 * 28, 16384 * 28 * 28),
    (1080, 2400, 16 * 28 * 28, 256 * 28 * 28),
    (733, 1601, 256 * 28 * 28, 1280 * 28 * 28),
]

ACTIONS = [
    Click(x=540, y=1000), Click(x=0, y=0), Click(x=700, y=1050), LongPress(x=300, y=900),
    LongPress(x=30, y=90, seconds=2.5), Swipe(x=500, y=1000, x2=500, y2=200), Scroll(direction="down"),
    Scroll(direction="up"), Scroll(direction="left", x=200, y=300), Type(text="hello 'world' \"q\"\n\\x"),
    Key(key="enter"), Key(key="volume_up"), Key(key="ctrl+c"), Back(), Home(), OpenApp(app="Clock"),
    Wait(), Wait(seconds=2.5), Answer(text="42 apples"), Terminate(status="success"),
    Terminate(status="failure"), ToolCall(name="send_sms", arguments={"to": "+1 555", "body": "hi"}),
]


def geometry(codec, screen) -> Geometry:
    w, h, lo, hi = screen
    return Geometry.for_screen(w, h, factor=codec.factor, min_pixels=lo, max_pixels=hi)


def expected_after_round_trip(codec, action, geo):
    """What parse(format(action)) should give: the action itself, except mobile_use writes scrolls as swipes."""
    if getattr(codec, "function", "") == "mobile_use" and isinstance(action, Scroll):
        return scroll_to_swipe(action, geo.width, geo.height)
    return action


def assert_close(got, want, geo, frame) -> None:
    assert type(got) is type(want), (got, want)
    coords = {f for pair in want.points for f in pair}
    unit = {"device": 1.0, "model": max(geo.width / geo.model_width, geo.height / geo.model_height),
            "norm1000": max(geo.width, geo.height) / 1000}[frame]
    for f in coords:
        a, b = getattr(got, f), getattr(want, f)
        assert (a is None) == (b is None)
        if a is not None:
            assert abs(a - b) <= unit / 2 + 1, (f, a, b)
    strip = lambda act: {k: v for k, v in act.to_dict().items() if k not in coords}  # noqa: E731
    assert strip(got) == strip(want)


@pytest.mark.parametrize("screen", SCREENS, ids=lambda s: f"{s[0]}x{s[1]}-{s[3]}")
@pytest.mark.parametrize("name", SHIPPED)
def test_round_trip_every_action(name, screen):
    codec = get_codec(name)
    geo = geometry(codec, screen)
    supported = 0
    for action in ACTIONS:
        try:
            text = codec.format(action, geo)
        except ActionUnsupported:
            continue
        supported += 1
        got = codec.parse(text, geo)
        assert_close(got, expected_after_round_trip(codec, action, geo), geo, codec.frame)
    assert supported >= 9, f"{name} expresses only {supported} of the test actions"


@pytest.mark.parametrize("screen", SCREENS, ids=lambda s: f"{s[0]}x{s[1]}-{s[3]}")
@pytest.mark.parametrize("name", SHIPPED)
def test_click_numbers_match_qwen_vl_utils(name, screen):
    """The numbers a codec writes are device points scaled into the image qwen_vl_utils would produce."""
    codec = get_codec(name)
    w, h, lo, hi = screen
    rh, rw = qwen_smart_resize(h, w, factor=codec.factor, min_pixels=lo, max_pixels=hi)
    geo = geometry(codec, screen)
    assert (geo.model_width, geo.model_height) == (rw, rh)
    for x, y in [(0, 0), (w // 3, h // 7), (w - 1, h - 1), (w // 2, h // 2)]:
        text = codec.format(Click(x=x, y=y), geo)
        nums = [int(n) for n in re.findall(r"-?\d+", text.split("coordinate")[-1].split("point")[-1])[:2]]
        if codec.frame == "model":
            want = [min(round(x * rw / w), rw - 1), min(round(y * rh / h), rh - 1)]
        else:
            want = [min(round(x * 1000 / w), 999), min(round(y * 1000 / h), 999)]
        assert nums == want, (text, want)


@pytest.mark.parametrize("text,name,frame_point", [
    ('<tool_call>\n{"name": "mobile_use", "arguments": {"action": "click", "coordinate": [546, 1204]}}\n</tool_call>',
     "qwen25_mobile_use", (546, 1204)),
    ('I will tap.\n<tool_call>{"name": "mobile_use", "arguments": {"action": "click", "coordinate": [500, 500]}}'
     '</tool_call>', "qwen3_mobile_use", (500, 500)),
    ("<think>tap it</think><answer>[{'action': 'click', 'coordinate': [546, 1204]}]</answer>", "ui_r1", (546, 1204)),
    ("<think>x</think> <answer>[{'action': 'click', 'point': [546, 1204], 'input_text': 'no input text'}]</answer>",
     "gui_r1", (546, 1204)),
])
def test_parse_real_model_outputs(text, name, frame_point):
    codec = get_codec(name)
    geo = Geometry.for_screen(1080, 2400, factor=codec.factor)
    action = codec.parse(text, geo)
    assert isinstance(action, Click)
    if codec.frame == "model":
        assert (action.x, action.y) == (round(frame_point[0] * 1080 / geo.model_width),
                                        round(frame_point[1] * 2400 / geo.model_height))
    else:
        assert (action.x, action.y) == (540, 1200)


@pytest.mark.parametrize("name,text,error", [
    ("qwen25_mobile_use", '<tool_call>{"name": "mobile_use", "arguments": {"action": "click", '
     '"coordinate": [5000, 10]}}</tool_call>', ActionOutOfBounds),
    ("qwen25_mobile_use", '<tool_call>{"name": "mobile_use", "arguments": {"action": "click", '
     '"coordinate": [-3, 10]}}</tool_call>', ActionOutOfBounds),
    ("qwen3_mobile_use", '<tool_call>{"name": "mobile_use", "arguments": {"action": "click", '
     '"coordinate": [1000, 10]}}</tool_call>', ActionOutOfBounds),
    ("qwen25_mobile_use", '<tool_call>{"name": "mobile_use", "arguments": {"action": "fly"}}</tool_call>',
     ActionParseError),
    ("qwen25_mobile_use", '<tool_call>{"name": "mobile_use", "arguments": {"action": "click"}}</tool_call>',
     ActionParseError),
    ("qwen25_mobile_use", '<tool_call>{"name": "mobile_use", "arguments": {"action": "click", '
     '"coordinate": [1, 2], "evil": 1}}</tool_call>', ActionParseError),
    ("qwen25_mobile_use", '<tool_call>{"name": "mobile_use", "arguments": {"action": "click", '
     '"coordinate": [NaN, 2]}}</tool_call>', ActionParseError),
    ("qwen25_mobile_use", '<tool_call>{"name": "mobile_use", "arguments": {"action": "click", '
     '"coordinate": [1e30, 2]}}</tool_call>', ActionOutOfBounds),
    ("qwen25_mobile_use", "<tool_call>{}</tool_call><tool_call>{}</tool_call>", ActionParseError),
    ("qwen25_mobile_use", '<tool_call>{"name": "mobile_use", "arguments": {"action": "cl', ActionParseError),
    ("qwen25_computer_use", '<tool_call>{"name": "computer_use", "arguments": {"action": "double_click", '
     '"coordinate": [1, 2]}}</tool_call>', ActionParseError),
    ("qwen25_computer_use", '<tool_call>{"name": "computer_use", "arguments": {"action": "scroll", '
     '"pixels": 0}}</tool_call>', ActionParseError),
    ("ui_r1", "<answer>[{'action': __import__('os').system('x')}]</answer>", ActionParseError),
    ("ui_r1", "<answer>[{'action': 'click', 'coordinate': [1, 2]}, {'action': 'wait'}]</answer>",
     ActionParseError),
    ("gui_r1", "<answer>[{'action': 'click', 'point': [-100, -100], 'input_text': 'no input text'}]</answer>",
     ActionParseError),
    ("gui_r1", "<answer>[{'action': 'select', 'point': [-100, -100], 'input_text': 'a'}]</answer>",
     ActionParseError),
    ("gui_r1", "<answer>[{'action': 'wait', 'point': [-100, -100], 'input_text': 'nan'}]</answer>",
     ActionParseError),
])
def test_bad_text_raises_only_action_errors(name, text, error):
    codec = get_codec(name)
    with pytest.raises(error):
        codec.parse(text, Geometry.for_screen(1080, 2400, factor=codec.factor))


def test_computer_use_scroll_sign_is_content_direction():
    codec = get_codec("qwen25_computer_use")
    geo = Geometry.for_screen(1920, 1080)
    wheel = lambda px: codec.parse(  # noqa: E731
        f'<tool_call>{{"name": "computer_use", "arguments": {{"action": "scroll", "pixels": {px}}}}}</tool_call>', geo)
    assert wheel(-3) == Scroll(direction="down")
    assert wheel(4) == Scroll(direction="up")


def test_mobile_use_scroll_is_written_as_the_inverse_swipe():
    codec = get_codec("qwen25_mobile_use")
    geo = Geometry.for_screen(1080, 2400)
    args = json.loads(codec.format(Scroll(direction="down"), geo).split("\n")[1])["arguments"]
    assert args["action"] == "swipe" and args["coordinate"][1] > args["coordinate2"][1]


def test_system_prompt_is_generated_from_action_types_and_tools():
    """Every verb and the device's tools are in the prompt; the R1 codecs describe clicks with cua's own words
    (the Qwen codecs use Qwen's published text instead, tests/models/test_published_prompts.py)."""
    from cua.actions import ACTION_TYPES
    from cua.tools import ToolSpec

    spec = ToolSpec(name="send_sms", description="Send a text message.",
                    parameters={"type": "object", "properties": {"to": {"type": "string"}}})
    for name, codec in ((n, get_codec(n)) for n in SHIPPED):
        geo = Geometry.for_screen(1080, 2400, factor=codec.factor)
        prompt = codec.system_prompt(geo, [spec])
        for verb in codec.verbs:  # Mobile-R1's published prompt names the function only (its actions are SFT-taught)
            assert f"`{verb.name}`" in prompt or name == "mobile_r1"
        click_doc = ACTION_TYPES["click"].__doc__.strip().splitlines()[0]
        assert click_doc in codec.action_space()
        assert click_doc in prompt or name.startswith("qwen") or name == "mobile_r1"
        if name != "gui_r1":
            assert "send_sms" in prompt


def test_messages_carry_goal_history_and_images():
    from PIL import Image

    from cua.observation import Observation

    codec = get_codec("qwen25_mobile_use")
    obs = Observation.from_image(Image.new("RGB", (1080, 2400), "white"))
    geo = Geometry.for_screen(1080, 2400)
    old = Image.new("RGB", (1080, 2400), "black")
    msgs = codec.messages("turn on wifi", obs, geo, history=[Click(x=540, y=1200), None], history_images=[old])
    user = msgs[1]["content"]
    text = user[0]["text"]
    assert "turn on wifi" in text and '"coordinate": [546, 1204]' in text and "invalid" in text
    images = [c["image"] for c in user if c["type"] == "image"]
    assert images[0] is old and images[-1].size == (1080, 2400) and len(images) == 2


def test_registry_errors_list_valid_names():
    with pytest.raises(ConfigError, match="qwen25_mobile_use"):
        get_codec("nope")
    assert default_codec_for("qwen3_vl") == "qwen3_mobile_use"
    assert default_codec_for("qwen2_5_vl") == "qwen25_mobile_use"
    with pytest.raises(ConfigError, match="qwen3_vl"):
        check_family(get_codec("qwen25_mobile_use"), "qwen3_vl")
    with pytest.raises(ConfigError, match="factor"):
        check_family(get_codec("qwen25_mobile_use"), "qwen2_5_vl", 32)


# ---- fuzz -------------------------------------------------------------------------------------------------

INJECTIONS = ["__import__('os').system('x')", "eval('1')", "().__class__", "${jndi:x}", "'; DROP TABLE t;--",
              "{{7*7}}", "\x00", "\\u0000", "lambda: 0"]
_num = st.one_of(st.integers(-10**40, 10**40), st.floats(allow_nan=True, allow_infinity=True),
                 st.sampled_from([1e30, -1e30, -0.0, 1e-300]))
_scalar = st.one_of(_num, st.text(max_size=12), st.booleans(), st.none(), st.sampled_from(INJECTIONS))
_json = st.recursive(_scalar, lambda c: st.lists(c, max_size=4) | st.dictionaries(
    st.sampled_from(["action", "coordinate", "coordinate2", "point", "text", "input_text", "time", "status",
                     "button", "keys", "pixels", "direction", "name", "arguments", "evil"]), c, max_size=5),
    max_leaves=10)
_action_names = st.sampled_from(["click", "long_press", "swipe", "type", "key", "system_button", "open", "wait",
                                 "terminate", "answer", "scroll", "left_click", "input_text", "press_back",
                                 "complete", "tool_call", "fly"])


@st.composite
def candidate_text(draw):
    args = draw(st.dictionaries(st.sampled_from(["coordinate", "coordinate2", "point", "text", "input_text",
                                                  "time", "status", "button", "keys", "pixels", "direction",
                                                  "evil"]), _json, max_size=4))
    args["action"] = draw(_action_names)
    body = {"name": draw(st.sampled_from(["mobile_use", "computer_use", "x"])), "arguments": args}
    as_json = json.dumps(body)
    py = repr([args])
    wrapped = draw(st.sampled_from([
        f"<tool_call>\n{as_json}\n</tool_call>", f"<think>t</think><answer>{py}</answer>",
        f"<answer>{json.dumps([args])}</answer>", as_json, py,
    ]))
    cut = draw(st.integers(0, len(wrapped)))
    return wrapped[:cut] if draw(st.booleans()) else wrapped


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.one_of(candidate_text(), st.text(max_size=200), st.sampled_from(INJECTIONS)))
def test_fuzz_parse_raises_only_action_errors(text):
    """Every codec parses each of 1,500 generated strings or raises ActionParseError / ActionOutOfBounds."""
    for codec in map(get_codec, SHIPPED):
        geo = Geometry.for_screen(1080, 2400, factor=codec.factor)
        try:
            action = codec.parse(text, geo)
        except (ActionParseError, ActionOutOfBounds):
            continue
        for fx, fy in action.points:
            x = getattr(action, fx)
            if x is not None:
                assert 0 <= x < 1080 and 0 <= getattr(action, fy) < 2400


def test_try_parse_returns_the_error_instead_of_raising():
    codec = get_codec("ui_r1")
    geo = Geometry.for_screen(1080, 2400)
    action, err = codec.try_parse("<answer>[{'action': 'navigate_back'}]</answer>", geo)
    assert action == Back() and err is None
    action, err = codec.try_parse("no answer here", geo)
    assert action is None and isinstance(err, ActionParseError)
