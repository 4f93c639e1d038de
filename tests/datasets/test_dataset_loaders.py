"""Every loader reads a fixture in its documented format, round-trips through Hugging Face datasets, and
turns a corrupt record into DatasetError naming file and record (or counts it with skip_bad)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import datasets as hf
import pytest
from PIL import Image

from cua.actions import Back, Click, Home, Key, OpenApp, Scroll, Swipe, Terminate, Type
from cua.datasets import ITERATORS, LOADERS, LoadStats, Sample, episodes
from cua.datasets.androidcontrol import iter_androidcontrol
from cua.datasets.aitw import iter_aitw
from cua.datasets.screenspot import iter_screenspot
from cua.errors import ConfigError, DatasetError
import dataset_fixtures as fx


def test_hugging_face_datasets_is_not_shadowed():
    assert "site-packages" in hf.__file__ or "dist-packages" in hf.__file__


@pytest.fixture
def ac_file(tmp_path: Path) -> Path:
    return fx.gzip_records(tmp_path / "android_control-00000-of-00001", [fx.androidcontrol_episode(7),
                                                                       fx.androidcontrol_episode(8)])


def test_androidcontrol_high_and_low(ac_file):
    high = list(iter_androidcontrol(str(ac_file)))
    assert len(high) == 10
    first = high[:5]
    assert [type(s.action) for s in first] == [OpenApp, Click, Scroll, Type, Back]
    click = first[1]
    assert click.bbox == [30.0, 80.0, 70.0, 120.0]
    assert click.point == [50.0, 100.0]
    assert click.history == [OpenApp(app="Clock")]
    assert click.step_instruction == ""
    assert click.goal == "Set an alarm for 7 am" and click.episode_id == "7" and click.width == fx.W
    assert Image.open(__import__("io").BytesIO(click.image)).getpixel((0, 0)) == (20, 0, 0)
    low = list(iter_androidcontrol(str(ac_file), level="low"))
    assert [s.step_instruction for s in low[:2]] == ["step 0", "step 1"]
    eps = list(episodes(high))
    assert [e.episode_id for e in eps] == ["7", "8"] and len(eps[0].steps) == 5


def test_androidcontrol_roundtrips_through_hf(ac_file):
    ds = LOADERS["androidcontrol"](str(ac_file), level="low")
    assert isinstance(ds, hf.Dataset) and len(ds) == 10
    direct = list(iter_androidcontrol(str(ac_file), level="low"))
    for row, sample in zip(ds, direct):
        back = Sample.from_row(row)
        assert (back.action, back.history, back.bbox, back.step_instruction, back.id) == (
            sample.action, sample.history, sample.bbox, sample.step_instruction, sample.id)
        assert row["image"].size == (fx.W, fx.H)
    streamed = list(LOADERS["androidcontrol"](str(ac_file), streaming=True))
    assert len(streamed) == 10


def test_androidcontrol_corrupt_record_names_file_and_record(tmp_path):
    bad = fx.androidcontrol_episode(1)
    bad["actions"] = ([b'{"action_type": "teleport"}'], "byte")
    path = fx.gzip_records(tmp_path / "ac.tfrecord.gz", [fx.androidcontrol_episode(0), bad,
                                                        fx.androidcontrol_episode(2)])
    with pytest.raises(DatasetError, match=r"ac\.tfrecord\.gz: record 1"):
        list(iter_androidcontrol(str(path)))
    stats = LoadStats()
    samples = list(iter_androidcontrol(str(path), skip_bad=True, stats=stats))
    assert stats.skipped == 1 and len(samples) == 10 and "record 1" in stats.errors[0]
    with pytest.raises(DatasetError, match="record 1"):
        LOADERS["androidcontrol"](str(path))


def test_truncated_gzip_tfrecord(tmp_path, ac_file):
    data = gzip.decompress(ac_file.read_bytes())
    cut = tmp_path / "cut.tfrecord.gz"
    cut.write_bytes(gzip.compress(data[: len(data) - 50]))
    with pytest.raises(DatasetError, match="cut.tfrecord.gz: record 1"):
        list(iter_androidcontrol(str(cut)))
    stats = LoadStats()
    assert len(list(iter_androidcontrol(str(cut), skip_bad=True, stats=stats))) == 5
    assert stats.skipped == 1


def test_aitw_actions_and_history(tmp_path):
    steps = [fx.aitw_step("e1", 0, 4, (0.5, 0.5), (0.5, 0.5)), fx.aitw_step("e1", 1, 3, text=b"wifi"),
             fx.aitw_step("e1", 2, 4, (0.8, 0.5), (0.2, 0.5)), fx.aitw_step("e1", 3, 5), fx.aitw_step("e1", 4, 6),
             fx.aitw_step("e1", 5, 7), fx.aitw_step("e1", 6, 10), fx.aitw_step("e2", 0, 11)]
    path = fx.gzip_records(tmp_path / "general-0.tfrecord.gz", steps)
    samples = list(iter_aitw(str(path)))
    assert [s.action for s in samples] == [
        Click(x=54, y=120), Type(text="wifi"), Swipe(x=54, y=192, x2=54, y2=48), Back(), Home(), Key(key="enter"),
        Terminate(status="success"), Terminate(status="failure")]
    assert samples[0].bbox == pytest.approx([43.2, 96.0, 64.8, 144.0])
    assert len(samples[6].history) == 6 and samples[7].history == []
    assert samples[0].image.getpixel((0, 0)) == (0, 0, 255)
    assert len(LOADERS["aitw"](str(path))) == 8


def test_aitw_unknown_action_type(tmp_path):
    path = fx.gzip_records(tmp_path / "x.tfrecord.gz", [fx.aitw_step("e", 0, 99)])
    with pytest.raises(DatasetError, match="x.tfrecord.gz: record 0"):
        list(iter_aitw(str(path)))


def test_screenspot_v1_boxes_are_xywh(tmp_path):
    root = fx.screenspot_v1(tmp_path)
    samples = list(iter_screenspot(str(root)))
    assert samples[0].bbox == [10.0, 20.0, 40.0, 60.0]
    assert samples[0].action == Click(x=25, y=40)
    assert samples[1].bbox == [100.0, 10.0, 150.0, 30.0]
    assert samples[0].extra["platform"] == "mobile" and samples[0].extra["ui_type"] == "icon"
    ds = LOADERS["screenspot_v2"](str(root))
    assert Sample.from_row(ds[1]).bbox == [100.0, 10.0, 150.0, 30.0]


def test_screenspot_pro_boxes_are_xyxy(tmp_path):
    root = fx.screenspot_pro(tmp_path)
    (s,) = list(ITERATORS["screenspot_pro"](str(root)))
    assert s.bbox == [100.0, 50.0, 140.0, 70.0] and (s.width, s.height) == (400, 300)
    assert s.extra["group"] == "Office" and s.extra["platform"] == "windows" and s.episode_id == "word_1"


def test_screenspot_missing_image_is_bad_record(tmp_path):
    root = fx.screenspot_v1(tmp_path)
    (root / "screenspot_imgs" / "m1.png").unlink()
    with pytest.raises(DatasetError, match="screenspot_mobile.json: record 0"):
        list(iter_screenspot(str(root)))
    stats = LoadStats()
    assert list(iter_screenspot(str(root), skip_bad=True, stats=stats)) == [] and stats.skipped == 2


def test_ui_r1_json(tmp_path):
    Image.new("RGB", (100, 200)).save(tmp_path / "a.png")
    items = [{"img_filename": "a.png", "instruction": "tap ok", "bbox": [10, 20, 30, 40]},
             {"img_filename": "a.png", "instruction": "go back", "action": "navigate_back"},
             {"img_filename": "a.png", "instruction": "?", "action": "fly"}]
    (tmp_path / "ui_r1.json").write_text(json.dumps(items))
    stats = LoadStats()
    samples = list(ITERATORS["ui_r1"](str(tmp_path / "ui_r1.json"), skip_bad=True, stats=stats))
    assert [s.action for s in samples] == [Click(x=20, y=30), Back()] and stats.skipped == 1
    assert samples[1].extra["ui_r1_action"] == "navigate_back"
    with pytest.raises(DatasetError, match="record 2"):
        LOADERS["ui_r1"](str(tmp_path / "ui_r1.json"))


def test_gui_r1_jsonl(tmp_path):
    Image.new("RGB", (100, 200)).save(tmp_path / "g.png")
    rows = [{"image": "g.png", "instruction": "tap", "gt_action": "click", "gt_bbox": [10, 20, 30, 40],
             "gt_input_text": "no input text", "history": "None"},
            {"image": "g.png", "instruction": "type", "gt_action": "type", "gt_bbox": [-100, -100],
             "gt_input_text": "hello"},
            {"image": "g.png", "instruction": "scroll", "gt_action": "scroll", "gt_bbox": [-100, -100],
             "gt_input_text": "down"}]
    (tmp_path / "g.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    samples = list(ITERATORS["gui_r1"](str(tmp_path / "g.jsonl")))
    assert [s.action for s in samples] == [Click(x=20, y=30), Type(text="hello"), Scroll(direction="down")]
    assert samples[0].bbox == [10.0, 20.0, 30.0, 40.0] and samples[1].bbox == []
    assert len(LOADERS["gui_r1"](str(tmp_path / "g.jsonl"))) == 3


def test_trajectories(tmp_path):
    from cua.observation import Observation
    from cua.trajectory import Step, Trajectory

    for name, success in (("ok", 1.0), ("failed", 0.0)):
        traj = Trajectory(goal="open clock", out_dir=tmp_path / name, success=success)
        traj.begin()
        obs = Observation.from_png(fx.png())
        traj.add(Step(index=0, observation=obs, action=OpenApp(app="Clock"), text="t0"))
        traj.add(Step(index=1, observation=obs, action=None, error_kind="parse", error="bad", text="??"))
        traj.add(Step(index=2, observation=obs, action=Click(x=5, y=6), text="t2"))
        traj.finish("terminated")
    samples = list(ITERATORS["trajectories"](str(tmp_path)))
    assert [s.action for s in samples] == [OpenApp(app="Clock"), Click(x=5, y=6)]
    assert samples[1].history == [OpenApp(app="Clock")] and samples[1].width == fx.W
    assert len(list(ITERATORS["trajectories"](str(tmp_path), successful_only=False))) == 4
    assert len(LOADERS["trajectories"](str(tmp_path))) == 2


def test_missing_path_and_bad_options(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        list(iter_androidcontrol(str(tmp_path / "nope")))
    with pytest.raises(ConfigError, match="level"):
        list(iter_androidcontrol(str(tmp_path), level="mid"))


@pytest.mark.parametrize("raw,expected", [
    ({"action_type": "type", "x": 1, "y": 2, "text": "hi"}, Type(text="hi")),
    ({"action_type": "long_press", "x": 3, "y": 4}, __import__("cua.actions").actions.LongPress(x=3, y=4)),
    ({"action_type": "navigate_home"}, Home()),
    ({"action_type": "wait"}, __import__("cua.actions").actions.Wait()),
])
def test_androidcontrol_action_table(raw, expected):
    from cua.datasets.androidcontrol import convert_action

    assert convert_action(raw) == expected


@pytest.mark.parametrize("bad", [{"action_type": "scroll", "direction": "diagonal"}, {"action_type": "click"}])
def test_androidcontrol_bad_actions(bad):
    from cua.datasets.androidcontrol import convert_action

    with pytest.raises(DatasetError):
        convert_action(bad)


@pytest.mark.parametrize("unused", [0, 1, 2, 8, 9])
def test_aitw_unused_action_types_are_rejected(unused):
    from cua.datasets.aitw import convert_action

    with pytest.raises(ValueError, match="unknown AITW"):
        convert_action(unused, [0.5, 0.5], [0.5, 0.5], "", 100, 100)


def test_screenspot_v2_file_names_and_question_key(tmp_path):
    root = fx.screenspot_v1(tmp_path)
    items = json.loads((root / "screenspot_mobile.json").read_text())
    (root / "screenspot_mobile.json").unlink()
    items[0]["question"] = items[0].pop("instruction")
    (root / "screenspot_web_v2.json").write_text(json.dumps(items))
    samples = list(ITERATORS["screenspot_v2"](str(root)))
    assert [s.extra["platform"] for s in samples] == ["web", "web"] and samples[0].goal == "open menu"


def test_gui_r1_parquet_with_embedded_image_bytes(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [{"image": {"bytes": fx.png(), "path": None}, "instruction": "tap", "gt_action": "click",
             "gt_bbox": [10.0, 20.0, 30.0, 40.0], "gt_input_text": "no input text", "history": "", "task_type": "low",
             "id": "x1"}]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "train.parquet")
    (s,) = list(ITERATORS["gui_r1"](str(tmp_path / "train.parquet")))
    assert s.action == Click(x=20, y=30) and (s.width, s.height) == (fx.W, fx.H) and s.extra["task_type"] == "low"
    assert s.episode_id == "x1"


def test_aitw_png_encoded_screenshot(tmp_path):
    step = fx.aitw_step("e", 0, 5)
    step["image/encoded"] = (fx.png(colour=(1, 2, 3)), "byte")
    path = fx.gzip_records(tmp_path / "p.tfrecord.gz", [step])
    (s,) = list(iter_aitw(str(path)))
    assert s.image.getpixel((5, 5)) == (1, 2, 3) and s.action == Back()


def test_convert_records_is_the_one_bad_record_loop():
    from cua.datasets.base import convert_records

    def convert(index, record):
        if record is None:
            raise KeyError("image")
        return [f"{index}a", f"{index}b"] if record == "two" else f"{index}"

    records = list(enumerate(["one", None, "two"]))
    stats = LoadStats()
    out = list(convert_records(records, convert, where="f.json", what="bad row", skip_bad=True, stats=stats))
    assert out == ["0", "2a", "2b"] and stats.samples == 3 and stats.skipped == 1
    assert stats.errors == ["f.json: record 1: bad row (KeyError: 'image')"]
    with pytest.raises(DatasetError, match=r"f\.json: record 1: bad row \(KeyError"):
        list(convert_records(records, convert, where="f.json", what="bad row", skip_bad=False, stats=None))
