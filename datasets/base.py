"""Loader plumbing shared by every source: the LOADERS registry, bad-record policy, Hugging Face wrapping.

Each source module defines ``iter_<source>(path, ..., skip_bad=False, stats=None) -> Iterator[Sample]`` (a
generator: streams, never holds a whole file's images) and registers ``load_<source>(..., streaming=False)`` that
wraps it as a ``datasets.Dataset`` (or ``IterableDataset`` when ``streaming``) with :func:`schema.features`.

Bad records: by default the first corrupt record raises :class:`~cua.errors.DatasetError` naming the file and
the record; with ``skip_bad=True`` it is counted in ``stats.skipped`` (and its reasons in ``stats.errors``) and
skipped. :func:`convert_records` is that loop, shared by every record-per-row loader: each source supplies only
how one record becomes samples.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from cua.errors import ActionError, ConfigError, DatasetError

log = logging.getLogger(__name__)

LoaderFn = Callable[..., Any]
LOADERS: dict[str, LoaderFn] = {}
ITERATORS: dict[str, Callable[..., Iterator[Any]]] = {}
MAX_ERRORS_KEPT = 20
RECORD_ERRORS: tuple[type[Exception], ...] = (KeyError, IndexError, TypeError, ValueError, OSError, ActionError,
                                             DatasetError)


def register_loader(name: str, iterator: Callable[..., Iterator[Any]]) -> Callable[[LoaderFn], LoaderFn]:
    """Register ``load_fn`` under ``name`` (and the sample iterator it wraps, for evaluation)."""

    def deco(fn: LoaderFn) -> LoaderFn:
        LOADERS[name] = fn
        ITERATORS[name] = iterator
        return fn

    return deco


@dataclass
class LoadStats:
    """Counts of one pass over a source: samples yielded, records skipped (``skip_bad``) and why."""

    samples: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)

    def skip(self, message: str) -> None:
        self.skipped += 1
        if len(self.errors) < MAX_ERRORS_KEPT:
            self.errors.append(message)
        log.warning("skipped bad record: %s", message)


def bad_record(message: str, *, skip_bad: bool, stats: LoadStats | None) -> None:
    """Raise DatasetError(message), or count it when ``skip_bad``."""
    if not skip_bad:
        raise DatasetError(message + " (pass skip_bad=True / --skip-bad to skip bad records)")
    (stats if stats is not None else LoadStats()).skip(message)


def convert_records(records: Iterable[tuple[int, Any]], convert: Callable[[int, Any], Any], *, where: str, what: str,
                    skip_bad: bool, stats: LoadStats | None) -> Iterator[Any]:
    """Samples from ``(index, record)`` pairs: ``convert(index, record)`` gives one sample or a list of them.

    A record whose conversion raises one of :data:`RECORD_ERRORS` is a bad record, reported as
    ``"{where}: record {index}: {what} (ErrorType: message)"`` (see :func:`bad_record`); every sample made is
    counted in ``stats.samples``.
    """
    for index, record in records:
        try:
            made = convert(index, record)
        except RECORD_ERRORS as exc:
            bad_record(f"{where}: record {index}: {what} ({type(exc).__name__}: {exc})", skip_bad=skip_bad,
                       stats=stats)
            continue
        batch = made if isinstance(made, list) else [made]
        if stats is not None:
            stats.samples += len(batch)
        yield from batch


def existing(path: str | os.PathLike[str], what: str) -> Path:
    p = Path(path)
    if not p.exists():
        raise DatasetError(f"{what} {str(p)!r} does not exist; check the path")
    return p


def files(path: str | os.PathLike[str], patterns: tuple[str, ...], what: str) -> list[Path]:
    """``path`` itself when a file, else the files under it matching ``patterns`` (sorted); never empty."""
    p = existing(path, what)
    if p.is_file():
        return [p]
    found = sorted({f for pat in patterns for f in p.glob(pat) if f.is_file()})
    if not found:
        raise DatasetError(f"no {what} files matching {patterns} under {str(p)!r}")
    return found


def _stamp(paths: list[Path]) -> list[tuple[str, int, int]]:
    return [(str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in paths]


def _rows(iterator: Callable[..., Iterator[Any]], kwargs: dict[str, Any], stamp: Any = None) -> Iterator[dict]:
    for sample in iterator(**kwargs):
        yield sample.to_row()


def to_hf(iterator: Callable[..., Iterator[Any]], kwargs: dict[str, Any], *, streaming: bool,
          stamp_paths: list[Path] = ()) -> Any:
    """Wrap ``iterator(**kwargs)`` as a Hugging Face dataset of schema rows.

    ``gen_kwargs`` hold no top-level list: Hugging Face would shard the generator over it and repeat rows.
    The cache key includes the input files' mtime and size (``stamp_paths``), so an edited file is re-read.
    """
    import datasets as hf

    from cua.datasets.schema import features

    gen_kwargs = {"iterator": iterator, "kwargs": kwargs, "stamp": json.dumps(_stamp(list(stamp_paths)))}
    if streaming:
        return hf.IterableDataset.from_generator(_rows, features=features(), gen_kwargs=gen_kwargs)
    try:
        return hf.Dataset.from_generator(_rows, features=features(), gen_kwargs=gen_kwargs)
    except hf.exceptions.DatasetGenerationError as exc:
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, DatasetError):
            raise DatasetError(str(cause)) from None
        raise DatasetError(f"building the dataset failed: {cause or exc}") from None


def get_loader(name: str) -> LoaderFn:
    """A registered loader by name; ConfigError listing the valid names."""
    if name not in LOADERS:
        raise ConfigError(f"unknown dataset loader {name!r}; valid: {', '.join(sorted(LOADERS))}")
    return LOADERS[name]
