"""Resumable result store: one JSON line per sample, appended and flushed as each result comes.

``results.jsonl`` in the run folder; every line has a unique ``id``. Re-opening the store reads the ids
already present, so a re-run skips them; a torn last line (the process was killed mid-write) is dropped
and rewritten on the next append.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any, Iterator

from cua.errors import DatasetError

RESULTS_FILE = "results.jsonl"


class ResultStore:
    """Append-only JSONL of per-sample results; ``done`` holds the ids already stored. Close it (or use ``with``).

    ``add`` is thread-safe (live evaluation appends from one thread per pool worker).
    """

    def __init__(self, out_dir: str | os.PathLike[str]) -> None:
        self.path = Path(out_dir) / RESULTS_FILE
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.done: set[str] = set()
        self._lock = threading.Lock()
        self._repair()
        self._file = self.path.open("a", encoding="utf-8")

    def _repair(self) -> None:
        if not self.path.exists():
            return
        good: list[str] = []
        for n, line in enumerate(self.path.read_text(encoding="utf-8").splitlines()):
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if not isinstance(record, dict) or "id" not in record:
                raise DatasetError(f"{self.path}: line {n + 1} has no id; it is not a cua eval result file")
            if record["id"] not in self.done:
                self.done.add(record["id"])
                good.append(line)
        self.path.write_text("".join(g + "\n" for g in good), encoding="utf-8")

    def add(self, record: dict[str, Any]) -> None:
        """Append one result (must carry a new ``id``) and flush it to disk."""
        with self._lock:
            if record["id"] in self.done:
                return
            self._file.write(json.dumps(record, sort_keys=True) + "\n")
            self._file.flush()
            os.fsync(self._file.fileno())
            self.done.add(record["id"])

    def records(self) -> Iterator[dict[str, Any]]:
        """Every stored result, in file order."""
        with self._lock:
            self._file.flush()
        with self.path.open(encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    yield json.loads(line)

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> "ResultStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
