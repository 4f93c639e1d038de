"""ScreenSpot grounding benchmarks: v1 (SeeClick, Cheng et al. 2024), v2 (OS-Atlas) and Pro (Li et al. 2025).

- v1 / v2: JSON lists (``screenspot_{mobile,desktop,web}.json``, v2 ``screenspot_{...}_v2.json``) of
  ``img_filename``, ``bbox`` as ``[x, y, w, h]`` in image px, ``instruction`` (``question`` in some v2
  copies), ``data_type`` (text|icon), ``data_source``. The platform is
  the file name's suffix. UI-R1 issue #10: reading v1 boxes as xyxy costs ~6 points; they are xywh here.
- Pro: ``annotations/*.json`` lists of ``img_filename``, ``bbox`` as ``[x1, y1, x2, y2]`` absolute px,
  ``instruction``, ``id``, ``application``, ``platform``, ``img_size`` ``[w, h]``, ``ui_type`` (text|icon),
  ``group``.

Every entry becomes a single-step sample whose action is a click at the box centre, with the box as
``bbox`` (always xyxy device px) and ``platform`` / ``ui_type`` / ``group`` / ``application`` in ``extra``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

from cua.actions import Click
from cua.datasets.base import LoadStats, bad_record, convert_records, existing, files, register_loader, to_hf
from cua.datasets.schema import Sample
from cua.errors import ConfigError

VERSIONS = ("v1", "v2", "pro")
PLATFORMS = ("mobile", "desktop", "web")
SOURCES = {"v1": "screenspot", "v2": "screenspot_v2", "pro": "screenspot_pro"}


def _image_dir(path: Path, images: str | None) -> Path:
    if images is not None:
        return existing(images, "ScreenSpot image folder")
    base = path if path.is_dir() else path.parent
    for cand in (base / "images", base / "screenspot_imgs", base / "screenspotv2_image", base.parent / "images",
                 base.parent / "screenspot_imgs", base):
        if cand.is_dir():
            return cand
    return base


def _platform(stem: str) -> str:
    """``mobile`` / ``desktop`` / ``web`` from ``screenspot_mobile.json`` or ``screenspot_mobile_v2.json``."""
    parts = stem.lower().split("_")
    return next((p for p in parts if p in PLATFORMS), parts[-1])


def _entry(item: dict[str, Any], version: str, platform: str, image_dir: Path, n: int) -> Sample:
    from PIL import Image

    image_path = image_dir / item["img_filename"]
    if not image_path.is_file():
        raise ValueError(f"image {str(image_path)!r} not found (pass images=FOLDER)")
    if version == "pro" and item.get("img_size"):
        width, height = (int(v) for v in item["img_size"])
    else:
        with Image.open(image_path) as im:
            width, height = im.size
    b = [float(v) for v in item["bbox"]]
    if len(b) != 4:
        raise ValueError(f"bbox must have 4 numbers, got {b}")
    box = b if version == "pro" else [b[0], b[1], b[0] + b[2], b[1] + b[3]]
    if not (box[0] <= box[2] and box[1] <= box[3]):
        raise ValueError(f"bbox {item['bbox']} is not a box")
    cx, cy = min(width - 1, int((box[0] + box[2]) / 2)), min(height - 1, int((box[1] + box[3]) / 2))
    ui_type = item.get("ui_type") or item.get("data_type") or ""
    extra = {"platform": item.get("platform") or platform, "ui_type": ui_type, "version": version,
             "group": item.get("group", ""), "application": item.get("application", ""),
             "data_source": item.get("data_source", "")}
    goal = item["instruction"] if "instruction" in item else item["question"]
    return Sample(image=str(image_path), width=width, height=height, goal=str(goal),
                  action=Click(x=cx, y=cy), bbox=box, point=[float(cx), float(cy)], source=SOURCES[version],
                  episode_id=str(item.get("id", f"{platform}-{n}")), step_index=0, extra=extra)


def iter_screenspot(path: str, *, version: str = "v1", images: str | None = None, skip_bad: bool = False,
                    stats: LoadStats | None = None) -> Iterator[Sample]:
    """Samples from a ScreenSpot JSON file or folder (see the module docstring)."""
    if version not in VERSIONS:
        raise ConfigError(f"unknown ScreenSpot version {version!r}; valid: {', '.join(VERSIONS)}")
    root = existing(path, "ScreenSpot annotations")
    image_dir = _image_dir(root, images)
    for file in files(root, ("*.json", "annotations/*.json"), "ScreenSpot JSON"):
        try:
            items = json.loads(file.read_text())
        except (OSError, ValueError) as exc:
            bad_record(f"{file}: not a JSON list ({exc})", skip_bad=skip_bad, stats=stats)
            continue
        platform = _platform(file.stem) if version != "pro" else ""
        yield from convert_records(enumerate(items if isinstance(items, list) else []),
                                   lambda n, item: _entry(item, version, platform, image_dir, n),
                                   where=str(file), what="bad ScreenSpot entry", skip_bad=skip_bad, stats=stats)


def _load(version: str):
    def load(path: str, *, images: str | None = None, skip_bad: bool = False, streaming: bool = False) -> Any:
        paths = files(path, ("*.json", "annotations/*.json"), "ScreenSpot JSON")
        return to_hf(iter_screenspot, dict(path=str(path), version=version, images=images, skip_bad=skip_bad),
                     streaming=streaming, stamp_paths=paths)

    load.__doc__ = f"ScreenSpot {version} as a Hugging Face dataset of cua samples."
    return load


def _iter(version: str):
    def it(path: str, **kwargs: Any) -> Iterator[Sample]:
        return iter_screenspot(path, version=version, **kwargs)

    return it


load_screenspot = register_loader("screenspot", _iter("v1"))(_load("v1"))
load_screenspot_v2 = register_loader("screenspot_v2", _iter("v2"))(_load("v2"))
load_screenspot_pro = register_loader("screenspot_pro", _iter("pro"))(_load("pro"))
