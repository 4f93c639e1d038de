"""Recipe data -> trl rows: load sources through :mod:`cua.datasets`, mix them, render prompts with the codec.

Input rows follow cua's sample schema (``cua.datasets``): ``image`` (PIL image), ``width``, ``height`` (device
px), ``goal``, ``history`` (earlier actions as plain dicts or JSON strings, optional), ``action`` (the target
as a JSON string or plain dict, device px), ``bbox`` (``[x1, y1, x2, y2]`` device px, optional).

Output rows (one per sample) are what trl's trainers read: ``prompt`` (conversational messages with an
``{"type": "image"}`` placeholder), ``images`` (``[PIL image]``), ``completion`` (the codec's rendering of the
target, for SFT), plus every input column except ``image`` and three that rewards need to read model text:
``model_width`` / ``model_height`` (the smart-resized size under the recipe's pixel limits) and ``codec``.

Failures before training: a source that yields no rows, a row without an image, or an unknown loader raise
:class:`~cua.errors.DatasetError` / :class:`~cua.errors.ConfigError` naming the fix.
"""

from __future__ import annotations

import atexit
import io
import json
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from cua.actions import Action, action_from_dict
from cua.codecs import Codec
from cua.coords import Geometry
from cua.errors import ActionError, ConfigError, CuaError, DatasetError
from cua.train.recipe import SourceSpec

PNG_COMPRESS_LEVEL = 1


@dataclass(frozen=True)
class Pixels:
    """The processor's resize rule for this run: smart_resize factor and pixel bounds."""

    factor: int
    min_pixels: int
    max_pixels: int

    def geometry(self, width: int, height: int) -> Geometry:
        return Geometry.for_screen(int(width), int(height), factor=self.factor, min_pixels=self.min_pixels,
                                   max_pixels=self.max_pixels)


class _Shot:
    """The one attribute of an Observation that ``Codec.messages`` reads."""

    def __init__(self, image: Any) -> None:
        self.image = image


def load_source(spec: SourceSpec) -> Any:
    """One source as a Hugging Face ``Dataset`` of cua samples (capped at ``spec.n`` rows)."""
    from cua import datasets as cds

    loaders = cds.LOADERS
    if spec.loader not in loaders:
        raise ConfigError(f"unknown dataset loader {spec.loader!r}; valid: {', '.join(sorted(loaders)) or '(none)'}")
    try:
        data = loaders[spec.loader](**dict(spec.args))
    except TypeError as exc:
        raise ConfigError(f"dataset loader {spec.loader!r}: bad args {dict(spec.args)}: {exc}") from None
    return _materialise(data, spec)


def _materialise(data: Any, spec: SourceSpec) -> Any:
    import datasets as hf

    if isinstance(data, hf.IterableDataset):
        data = _generate(_take, {"data": data, "n": spec.n}, data.features, None)
    elif isinstance(data, hf.Dataset) and spec.n is not None:
        data = data.select(range(min(spec.n, len(data))))
    elif data is not None and not isinstance(data, hf.Dataset):
        rows = list(data)[: spec.n] if spec.n else list(data)
        data = hf.Dataset.from_list(rows) if rows else None
    if data is None or len(data) == 0:
        raise DatasetError(f"dataset source {spec.loader!r} with args {dict(spec.args)} is empty; check its path / "
                           f"filters, or drop it from the recipe")
    return data


def _take(data: Any, n: int | None) -> Iterator[dict[str, Any]]:
    yield from data.take(n) if n else data


def mix(datasets: list[Any], weights: list[float], seed: int) -> Any:
    """Interleave sources by weight (sampled until every source has been seen once), deterministic in seed."""
    import datasets as hf

    if len(datasets) == 1:
        return datasets[0]
    total = float(sum(weights))
    if total <= 0 or any(w < 0 for w in weights):
        raise ConfigError(f"data source weights must be >= 0 and not all 0, got {weights}")
    return hf.interleave_datasets(datasets, probabilities=[w / total for w in weights], seed=seed,
                                  stopping_strategy="all_exhausted")


def _parse_action(value: Any, where: str) -> Action:
    try:
        return action_from_dict(json.loads(value) if isinstance(value, str) else value)
    except (ValueError, ActionError) as exc:
        raise DatasetError(f"{where}: action {value!r} is not a valid cua action: {exc}") from None


def _history(value: Any, where: str) -> list[Action | None]:
    if value is None:
        return []
    items = json.loads(value) if isinstance(value, str) else value
    return [None if h is None else _parse_action(h, where) for h in items]


def to_trl_row(row: Mapping[str, Any], index: int, codec: Codec, pixels: Pixels, *, with_completion: bool
               ) -> dict[str, Any]:
    """One cua sample as a trl row (see the module docstring)."""
    image = row.get("image")
    where = f"sample {index} (source {row.get('source', '?')!r})"
    if image is None:
        raise DatasetError(f"{where} has no image; check that the image files exist (image paths are resolved "
                           f"relative to the dataset file) or drop the sample with --skip-bad")
    image = image.convert("RGB") if getattr(image, "mode", "RGB") != "RGB" else image
    width, height = int(row.get("width") or image.width), int(row.get("height") or image.height)
    geometry = pixels.geometry(width, height)
    history = _history(row.get("history"), where)
    messages = codec.messages(str(row.get("goal", "")), _Shot(image), geometry, history=history)
    out = {k: v for k, v in row.items() if k not in ("image", "images", "prompt", "completion")}
    out.update(
        prompt=[_placeholder(m) for m in messages], images=[image], codec=codec.name,
        model_width=geometry.model_width, model_height=geometry.model_height, width=width, height=height,
    )
    if with_completion:
        action = _parse_action(row.get("action"), where)
        try:
            text = codec.format(action, geometry)
        except ActionError as exc:
            raise DatasetError(f"{where}: codec {codec.name} cannot render the target: {exc}") from None
        out["completion"] = [{"role": "assistant", "content": text}]
    return out


def _placeholder(message: Mapping[str, Any]) -> dict[str, Any]:
    content = message["content"]
    if isinstance(content, str):
        return {"role": message["role"], "content": [{"type": "text", "text": content}]}
    blocks = [{"type": "image", "text": None} if b.get("type") == "image" else {"type": "text", "text": b["text"]}
              for b in content]
    return {"role": message["role"], "content": blocks}


def _png(image: Any) -> dict[str, Any]:
    buf = io.BytesIO()
    image.save(buf, format="PNG", compress_level=PNG_COMPRESS_LEVEL)
    return {"bytes": buf.getvalue(), "path": None}


def _next_row(iterator: Iterator[Mapping[str, Any]], index: int) -> Mapping[str, Any] | None:
    try:
        return next(iterator)
    except StopIteration:
        return None
    except (OSError, ValueError) as exc:
        raise DatasetError(f"sample {index}: its image could not be read ({exc}); check that the image "
                           f"files exist next to the dataset, or drop the sample") from None


def _trl_rows(first: Mapping[str, Any], rest: Iterator[Mapping[str, Any]], codec: Codec, pixels: Pixels,
              with_completion: bool) -> Iterator[dict[str, Any]]:
    """Rendered rows one at a time, images PNG-encoded (the generator behind :func:`build_dataset`)."""
    row, index = first, 0
    while row is not None:
        out = to_trl_row(row, index, codec, pixels, with_completion=with_completion)
        out["images"] = [_png(im) for im in out["images"]]
        yield out
        index += 1
        row = _next_row(rest, index)


def _features(first: dict[str, Any], source: Any) -> Any:
    """The output schema: the source's own features for the columns it passes through, the rendered columns
    (prompt, completion, codec, model size) as the first row shows them, images as ``List(Image())``."""
    import datasets as hf

    features = hf.Dataset.from_list([{k: v for k, v in first.items() if k != "images"}]).features.copy()
    for key, value in (source or {}).items():
        if key in features:
            features[key] = value
    features["images"] = hf.List(hf.Image())
    return features


def _scratch(folder: str | Path | None) -> str:
    """A fresh folder for one built dataset's Arrow files, removed when the process exits."""
    path = tempfile.mkdtemp(prefix="cua-rows-", dir=None if folder is None else str(folder))
    atexit.register(shutil.rmtree, path, True)
    return path


def _generate(generator: Any, gen_kwargs: dict[str, Any], features: Any, folder: str | Path | None) -> Any:
    """``Dataset.from_generator`` into a fresh folder (never a stale cache), its errors as DatasetError."""
    import datasets as hf

    try:
        return hf.Dataset.from_generator(generator, features=features, gen_kwargs=gen_kwargs,
                                         cache_dir=_scratch(folder), fingerprint=uuid.uuid4().hex)
    except hf.exceptions.DatasetGenerationError as exc:
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, CuaError):
            raise type(cause)(str(cause)) from None
        raise DatasetError(f"building the training data failed: {cause or exc}") from None


def build_dataset(rows: Iterable[Mapping[str, Any]], codec: Codec, pixels: Pixels, *, with_completion: bool,
                  folder: str | Path | None = None) -> Any:
    """A Hugging Face Dataset of trl rows from cua samples; DatasetError if it comes out empty.

    Rows are rendered and written one at a time to Arrow files in a fresh temporary folder (under ``folder``
    when given; removed at exit) that the dataset memory-maps, so memory stays flat in the number of rows: holding
    every rendered screen in a list cost ~150 KB per 224 px row (7.4 GB peak for ``cua train smoke``, issue 10).
    Images are encoded once here (fast PNG) under an explicit ``Image`` feature: letting ``datasets`` infer and
    encode PIL images row by row is ~7x slower. Row order is the input's.
    """
    iterator = iter(rows)
    first = _next_row(iterator, 0)
    if first is None:
        raise DatasetError("the training data is empty; check the recipe's data sources (loader, args, n)")
    features = _features(to_trl_row(first, 0, codec, pixels, with_completion=with_completion),
                         getattr(rows, "features", None))
    kwargs = dict(first=first, rest=iterator, codec=codec, pixels=pixels, with_completion=with_completion)
    return _generate(_trl_rows, kwargs, features, folder)


def stage_dataset(sources: list[SourceSpec], codec: Codec, pixels: Pixels, *, with_completion: bool, seed: int
                  ) -> Any:
    """Load, mix and render a stage's sources."""
    if not sources:
        raise ConfigError("the stage has no data; add `data:` to the recipe (or to the stage)")
    loaded = [load_source(s) for s in sources]
    mixed = mix(loaded, [s.weight for s in sources], seed)
    return build_dataset(mixed, codec, pixels, with_completion=with_completion)
