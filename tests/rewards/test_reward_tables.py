"""Table tests per recipe (each case names its source) and a fuzz proving no reward raises."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, strategies as st

from cua import rewards
from cua.errors import ConfigError

CLICK = json.dumps({"action": "click", "x": 100, "y": 120})
GEOM = dict(width=[200], height=[200], model_width=[100], model_height=[100])


def _one(name, text, **cols):
    cols = {k: v if isinstance(v, list) else [v] for k, v in cols.items()}
    return rewards.get(name)([text], **cols)[0]


UI_R1 = "<think>t</think><answer>[{'action': '%s', 'coordinate': [%d, %d]}]</answer>"
UI_R1_CASES = [
    # (case, text, gt action, bbox, expected)  source: UI-R1 grpo_json_action_coord.py
    ("UI-R1 click scaled into bbox: 50*2=100 in [90,110]", UI_R1 % ("click", 50, 60), CLICK, [90, 110, 110, 130], 3.0),
    ("UI-R1 click outside after scaling", UI_R1 % ("click", 100, 120), CLICK, [90, 110, 110, 130], 2.0),
    ("UI-R1 bbox edge is inside (<=)", UI_R1 % ("click", 45, 55), CLICK, [90, 110, 110, 130], 3.0),
    ("UI-R1 wrong type: no type, no coord", UI_R1 % ("scroll", 50, 60), CLICK, [90, 110, 110, 130], 1.0),
    ("UI-R1 non-click matching type scores coord 1", UI_R1 % ("navigate_back", 0, 0),
     json.dumps({"action": "back"}), [], 3.0),
    ("UI-R1 type maps to input_text", UI_R1 % ("input_text", 0, 0), json.dumps({"action": "type", "text": "a"}), [], 3.0),
    ("UI-R1 no think: format 0", "<answer>[{'action': 'click', 'coordinate': [50, 60]}]</answer>", CLICK,
     [90, 110, 110, 130], 2.0),
    ("UI-R1 double quotes do not match its regex", '<think>t</think><answer>[{"action": "click", '
     '"coordinate": [50, 60]}]</answer>', CLICK, [90, 110, 110, 130], 1.0),
    ("UI-R1 no answer tag", "click(50, 60)", CLICK, [90, 110, 110, 130], 0.0),
]


@pytest.mark.parametrize("case,text,gt,bbox,expected", UI_R1_CASES, ids=[c[0] for c in UI_R1_CASES])
def test_ui_r1(case, text, gt, bbox, expected):
    assert _one("ui_r1", text, action=gt, bbox=[bbox], **GEOM) == expected


def test_ui_r1_action_only_format_is_the_released_default():
    text = "<answer>[{'action': 'click', 'coordinate': [50, 60]}]</answer>"
    assert _one("ui_r1_action_only", text, action=CLICK, bbox=[[90, 110, 110, 130]], **GEOM) == 3.0
    assert _one("ui_r1_action_only", UI_R1 % ("click", 50, 60), action=CLICK, bbox=[[90, 110, 110, 130]], **GEOM) == 2.0


G = "<think>t</think><answer>[{'action': '%s', 'point': [%d, %d], 'input_text': '%s'}]</answer>"
GUI_R1_CASES = [
    # source: GUI-R1 verl/utils/reward_score/r1gui.py (0.8 accuracy + 0.2 format)
    ("GUI-R1 click strictly inside box", G % ("click", 50, 60, "no input text"), CLICK, [[90, 110, 110, 130]], 1.0),
    ("GUI-R1 click on the box edge is outside (strict <)", G % ("click", 45, 60, "no input text"), CLICK,
     [[90, 110, 110, 130]], 0.2),
    ("GUI-R1 click near gt point (no box): < 140 px", G % ("click", 150, 60, "no input text"), CLICK, [[]], 1.0),
    ("GUI-R1 click >= 140 px from gt point", G % ("click", 190, 60, "no input text"), CLICK, [[]], 0.2),
    ("GUI-R1 type F1 >= 0.5", G % ("type", 0, 0, "set alarm now"), json.dumps({"action": "type", "text": "set alarm"}),
     [[]], 1.0),
    ("GUI-R1 type F1 < 0.5", G % ("type", 0, 0, "weather"), json.dumps({"action": "type", "text": "set alarm"}), [[]], 0.2),
    ("GUI-R1 scroll direction as text", G % ("scroll", 0, 0, "down"), json.dumps({"action": "scroll", "direction": "down"}),
     [[]], 1.0),
    ("GUI-R1 scroll bad direction fails format", G % ("scroll", 0, 0, "sideways"),
     json.dumps({"action": "scroll", "direction": "down"}), [[]], 0.0),
    ("GUI-R1 open_app by F1 (eval script / later r1gui.py)", G % ("open_app", 0, 0, "Clock"),
     json.dumps({"action": "open_app", "app": "Gmail"}), [[]], 0.2),
    ("GUI-R1 open_app same name", G % ("open_app", 0, 0, "clock"), json.dumps({"action": "open_app", "app": "Clock"}),
     [[]], 1.0),
    ("GUI-R1 other types score on type match", G % ("press_back", 0, 0, "no input text"), json.dumps({"action": "back"}),
     [[]], 1.0),
    ("GUI-R1 type mismatch", G % ("press_home", 0, 0, "no input text"), json.dumps({"action": "back"}), [[]], 0.2),
    ("GUI-R1 type without text fails format", G % ("type", 0, 0, ""), json.dumps({"action": "type", "text": "x"}),
     [[]], 0.0),
    ("GUI-R1 missing think", "<answer>[{'action': 'click', 'point': [50, 60], 'input_text': ''}]</answer>", CLICK,
     [[90, 110, 110, 130]], 0.8),
]


@pytest.mark.parametrize("case,text,gt,bbox,expected", GUI_R1_CASES, ids=[c[0] for c in GUI_R1_CASES])
def test_gui_r1(case, text, gt, bbox, expected):
    assert _one("gui_r1", text, action=gt, bbox=bbox, **GEOM) == pytest.approx(expected)


def test_gui_r1_reads_gui_r1_ground_truth_from_extra():
    extra = json.dumps({"gt_action": "select", "gt_input_text": "blue", "gt_bbox": [-100, -100]})
    assert _one("gui_r1", G % ("select", 0, 0, "blue"), action=json.dumps({"action": "type", "text": "blue"}),
                extra=extra) == pytest.approx(1.0)
    assert _one("gui_r1", G % ("select", 0, 0, "red"), action=json.dumps({"action": "type", "text": "blue"}),
                extra=extra) == pytest.approx(0.2)


GTA1_CASES = [
    # source: GTA1 src/grpo_grounding.py (hit only, exactly one point)
    ("GTA1 one point in box (model px, box scaled by 1/2)", "(50, 60)", 1.0),
    ("GTA1 two points fail even if one hits", "(50, 60) (51, 61)", 0.0),
    ("GTA1 miss", "(10, 10)", 0.0),
    ("GTA1 no point", "the button", 0.0),
    ("GTA1 int() of a decimal fails, as in click_reward", "(50.5, 60.2)", 0.0),
    ("GTA1 box corners truncated after scaling: 91/2 -> 45 inside", "(45, 55)", 1.0),
]


@pytest.mark.parametrize("case,text,expected", GTA1_CASES, ids=[c[0] for c in GTA1_CASES])
def test_gta1(case, text, expected):
    assert _one("gta1", text, bbox=[[91, 110, 110, 130]], **GEOM) == expected


def test_codec_hit_applies_the_gta1_hit_rule_to_codec_answers():
    call = '<tool_call>{"name": "mobile_use", "arguments": {"action": "click", "coordinate": [%d, %d]}}</tool_call>'
    cols = dict(bbox=[[90, 110, 110, 130]], codec=["qwen25_mobile_use"], **GEOM)
    assert rewards.get("codec_hit")([call % (50, 60)], **cols) == [1.0]
    assert rewards.get("codec_hit")([call % (10, 60)], **cols) == [0.0]
    assert rewards.get("codec_hit")(["(50, 60)"], **cols) == [0.0]


def _mr1(args: dict, fmt: bool = True) -> str:
    call = "<tool_call>" + json.dumps({"name": "mobile_use", "arguments": args}) + "</tool_call>"
    return f"<think>t</think><action>step</action>{call}" if fmt else call


MOBILE_R1_CASES = [
    # source: Mobile-R1 paper (arXiv 2506.20332) stage 2: action + format
    ("Mobile-R1 click in bbox", _mr1({"action": "click", "coordinate": [50, 60]}), CLICK, [[90, 110, 110, 130]], 2.0),
    ("Mobile-R1 click miss", _mr1({"action": "click", "coordinate": [5, 6]}), CLICK, [[90, 110, 110, 130]], 1.0),
    ("Mobile-R1 no format, action right", _mr1({"action": "click", "coordinate": [50, 60]}, fmt=False), CLICK,
     [[90, 110, 110, 130]], 1.0),
    ("Mobile-R1 type exact", _mr1({"action": "type", "text": "hi"}), json.dumps({"action": "type", "text": "hi"}), [[]], 2.0),
    ("Mobile-R1 type not exact", _mr1({"action": "type", "text": "hi!"}), json.dumps({"action": "type", "text": "hi"}),
     [[]], 1.0),
    ("Mobile-R1 system button exact", _mr1({"action": "system_button", "button": "Back"}), json.dumps({"action": "back"}),
     [[]], 2.0),
    ("Mobile-R1 wrong button", _mr1({"action": "system_button", "button": "Home"}), json.dumps({"action": "back"}),
     [[]], 1.0),
    ("Mobile-R1 swipe reveals gt scroll direction", _mr1({"action": "swipe", "coordinate": [50, 80],
                                                          "coordinate2": [50, 20]}),
     json.dumps({"action": "scroll", "direction": "down"}), [[]], 2.0),
]


@pytest.mark.parametrize("case,text,gt,bbox,expected", MOBILE_R1_CASES, ids=[c[0] for c in MOBILE_R1_CASES])
def test_mobile_r1(case, text, gt, bbox, expected):
    assert _one("mobile_r1_action", text, action=gt, bbox=bbox, **GEOM) == expected


def test_codec_format_reward_uses_the_row_codec():
    ok = "<tool_call>\n" + json.dumps({"name": "mobile_use", "arguments": {"action": "click", "coordinate": [5, 5]}}) + "\n</tool_call>"
    cols = dict(codec=["qwen25_mobile_use"], **GEOM)
    assert _one("codec_format", ok, **cols) == 1.0
    assert _one("codec_format", "click here", **cols) == 0.0
    assert _one("codec_format", ok, **{**cols, "codec": ["ui_r1"]}) == 0.0
    assert _one("codec_format", ok, **GEOM) == 0.0  # no codec column: nothing can read it


def test_off_screen_answer_has_one_result_per_reward():
    """Issue 10 item 6: an off-screen point is well-formed (codec_format 1) and a miss (codec_hit 0)."""
    off = "<tool_call>\n" + json.dumps({"name": "mobile_use", "arguments": {"action": "click", "coordinate": [500, 500]}}) + "\n</tool_call>"
    cols = dict(codec=["qwen25_mobile_use"], bbox=[[0, 0, 5000, 5000]], **GEOM)
    assert _one("codec_format", off, **cols) == 1.0
    assert _one("codec_hit", off, **cols) == 0.0


def test_task_reward_shaping():
    from cua.rewards import TaskReward

    fn = TaskReward(step_penalty=0.1, invalid_penalty=0.5, format_failure=-1.0).reward_fn("shaped")
    out = fn(["a", "b", "c"], success=[1.0, 0.0, 1.0], num_steps=[3, 2, 1], invalid_steps=[0, 1, 0],
             format_failed=[False, False, True])
    assert out == pytest.approx([0.7, -0.7, -1.0])
    assert rewards.get("task")(["x"], success=[None]) == [0.0]


def test_chat_message_completions_and_unknown_name():
    msg = [{"role": "assistant", "content": UI_R1 % ("click", 50, 60)}]
    assert rewards.get("ui_r1")([msg], action=[CLICK], bbox=[[90, 110, 110, 130]], **GEOM) == [3.0]
    parts = [{"role": "assistant", "content": [{"type": "text", "text": "(50, 60)"}]}]
    assert rewards.get("gta1")([parts], bbox=[[90, 110, 110, 130]], **GEOM) == [1.0]
    with pytest.raises(ConfigError, match="valid"):
        rewards.get("nope")


junk = st.one_of(st.text(max_size=200), st.sampled_from([t for _, t, *_ in UI_R1_CASES + GUI_R1_CASES]).flatmap(
    lambda t: st.integers(0, len(t)).map(lambda k: t[:k])))
completion = st.one_of(junk, junk.map(lambda t: [{"role": "assistant", "content": t}]), st.none(), st.integers(),
                       st.just([]), st.just([{"content": None}]))
column = st.one_of(st.none(), st.text(max_size=20), st.just(CLICK), st.lists(st.floats(), max_size=5),
                   st.integers(-5, 5), st.just({"gt_action": "click"}))


@given(texts=st.lists(completion, min_size=1, max_size=3), col=column, name=st.sampled_from(sorted(rewards.REWARDS)))
def test_no_reward_raises(texts, col, name):
    cols = {k: [col] * len(texts) for k in ("action", "bbox", "width", "height", "model_width", "model_height",
                                           "extra", "success", "num_steps", "codec")}
    out = rewards.get(name)(texts, **cols)
    assert len(out) == len(texts) and all(v is None or isinstance(v, float) for v in out)
