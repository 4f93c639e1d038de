"""Training rows are written to Arrow on disk one at a time (issue 10 item 10), and are the same rows, in the
same order, with the same pixels, as rendering every sample in memory (the path they replace)."""

from __future__ import annotations

import hashlib

import pytest

from cua.codecs import get_codec
from cua.errors import DatasetError
from cua.train.data import Pixels, build_dataset, stage_dataset, to_trl_row
from cua.train.recipe import SourceSpec

PIXELS = Pixels(factor=32, min_pixels=65536, max_pixels=65536)
SOURCES = [SourceSpec(loader="synthetic", args={"task": "attribute", "size": "small", "n": 12, "seed": 0,
                                                "buttons": 2}),
           SourceSpec(loader="synthetic", args={"task": "attribute", "size": "small", "n": 12, "seed": 4})]


def _digest(image) -> str:
    return hashlib.sha256(image.convert("RGB").tobytes()).hexdigest()


def _key(row: dict, image) -> tuple:
    return (row["episode_id"], row["goal"], row["prompt"], row.get("completion"), row["codec"],
            row["model_width"], row["model_height"], [float(v) for v in row["bbox"]], _digest(image))


@pytest.mark.parametrize("with_completion", [True, False])
def test_disk_rows_equal_in_memory_rows(with_completion):
    from cua.train.data import load_source, mix

    codec = get_codec("grid8")
    mixed = mix([load_source(s) for s in SOURCES], [1.0, 1.0], seed=0)
    expected = [to_trl_row(r, i, codec, PIXELS, with_completion=with_completion) for i, r in enumerate(mixed)]
    built = stage_dataset(SOURCES, codec, PIXELS, with_completion=with_completion, seed=0)
    assert len(built) == len(expected) == 32  # "all_exhausted" interleaving repeats the shorter draws
    assert built.cache_files  # memory-mapped Arrow files, not an in-memory table
    got = [_key(r, r["images"][0]) for r in built]
    assert got == [_key(r, r["images"][0]) for r in expected]
    assert len({g[0] for g in got}) == 24  # every sample of both sources


def test_plain_rows_and_errors(tmp_path):
    from PIL import Image

    codec = get_codec("grid8")
    image = Image.new("RGB", (256, 256), (200, 10, 10))
    row = {"image": image, "width": 256, "height": 256, "goal": "click", "history": None,
           "action": '{"action": "click", "x": 5, "y": 9}', "bbox": [0, 0, 20, 20], "source": "t"}
    built = build_dataset([row, dict(row, goal="again")], codec, PIXELS, with_completion=True, folder=tmp_path)
    assert [r["goal"] for r in built] == ["click", "again"] and _digest(built[1]["images"][0]) == _digest(image)
    assert any(tmp_path.iterdir())
    with pytest.raises(DatasetError, match="empty"):
        build_dataset([], codec, PIXELS, with_completion=True)
    with pytest.raises(DatasetError, match="sample 1 .*has no image"):
        build_dataset([row, dict(row, image=None)], codec, PIXELS, with_completion=True)
