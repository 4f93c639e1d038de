"""A strict parser for JSON and the Python-literal subset GUI models emit (never ``eval``/``literal_eval``).

Accepts objects/dicts, arrays/lists, strings in double or single quotes (JSON escapes plus ``\\'``), finite
numbers, ``true/false/null`` and ``True/False/None``. Rejects everything else (names, calls, attribute access,
NaN, Infinity, trailing garbage) with :class:`~cua.errors.ActionParseError`. Nesting is limited to
``MAX_DEPTH`` and input to ``MAX_CHARS``, so hostile text cannot exhaust the stack or memory.
"""

from __future__ import annotations

import math
import re
from typing import Any

from cua.errors import ActionParseError

MAX_DEPTH = 16
MAX_CHARS = 20_000
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")
_WORDS = {"true": True, "false": False, "null": None, "True": True, "False": False, "None": None}
_WORD = re.compile(r"[A-Za-z_]+")
_ESCAPES = {'"': '"', "'": "'", "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0

    def fail(self, what: str) -> ActionParseError:
        snippet = self.text[self.i:self.i + 20]
        return ActionParseError(f"{what} at character {self.i} (near {snippet!r})")

    def ws(self) -> None:
        while self.i < len(self.text) and self.text[self.i] in " \t\r\n":
            self.i += 1

    def value(self, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise self.fail(f"nesting deeper than {MAX_DEPTH}")
        self.ws()
        if self.i >= len(self.text):
            raise self.fail("unexpected end of text")
        ch = self.text[self.i]
        if ch == "{":
            return self.container(depth, "}", mapping=True)
        if ch == "[":
            return self.container(depth, "]", mapping=False)
        if ch in "\"'":
            return self.string(ch)
        m = _NUMBER.match(self.text, self.i)
        if m:
            self.i = m.end()
            num = float(m.group()) if any(c in m.group() for c in ".eE") else int(m.group())
            if isinstance(num, float) and not math.isfinite(num):
                raise self.fail("number out of range")
            return num
        w = _WORD.match(self.text, self.i)
        if w and w.group() in _WORDS:
            self.i = w.end()
            return _WORDS[w.group()]
        raise self.fail("expected a value")

    def container(self, depth: int, close: str, *, mapping: bool) -> Any:
        self.i += 1
        out: Any = {} if mapping else []
        self.ws()
        if self.text.startswith(close, self.i):
            self.i += 1
            return out
        while True:
            if mapping:
                self.ws()
                if self.i >= len(self.text) or self.text[self.i] not in "\"'":
                    raise self.fail("expected a string key")
                key = self.string(self.text[self.i])
                self.ws()
                if not self.text.startswith(":", self.i):
                    raise self.fail("expected ':'")
                self.i += 1
                out[key] = self.value(depth + 1)
            else:
                out.append(self.value(depth + 1))
            self.ws()
            if self.text.startswith(",", self.i):
                self.i += 1
                continue
            if self.text.startswith(close, self.i):
                self.i += 1
                return out
            raise self.fail(f"expected ',' or {close!r}")

    def string(self, quote: str) -> str:
        self.i += 1
        parts: list[str] = []
        while self.i < len(self.text):
            ch = self.text[self.i]
            if ch == quote:
                self.i += 1
                return "".join(parts)
            if ch == "\\":
                parts.append(self.escape())
                continue
            parts.append(ch)
            self.i += 1
        raise self.fail("unterminated string")

    def escape(self) -> str:
        nxt = self.text[self.i + 1:self.i + 2]
        if nxt in _ESCAPES:
            self.i += 2
            return _ESCAPES[nxt]
        if nxt == "u":
            digits = self.text[self.i + 2:self.i + 6]
            if len(digits) == 4 and all(c in "0123456789abcdefABCDEF" for c in digits):
                self.i += 6
                return chr(int(digits, 16))
        raise self.fail("bad escape")


def parse_literal(text: str) -> Any:
    """Parse exactly one JSON / Python-literal value from ``text`` (surrounding whitespace allowed)."""
    if not isinstance(text, str):
        raise ActionParseError(f"expected text, got {type(text).__name__}")
    if len(text) > MAX_CHARS:
        raise ActionParseError(f"answer longer than {MAX_CHARS} characters")
    parser = _Parser(text)
    value = parser.value(0)
    parser.ws()
    if parser.i != len(text):
        raise parser.fail("unexpected text after the value")
    return value


def tagged_literal(text: str, tag: str) -> Any:
    """The literal inside the one ``<tag>...</tag>`` block of ``text`` (ActionParseError if none or several)."""
    if not isinstance(text, str):
        raise ActionParseError(f"expected text, got {type(text).__name__}")
    blocks = re.findall(rf"<{tag}>(.*?)</{tag}>", text, re.DOTALL)
    if len(blocks) != 1:
        raise ActionParseError(f"expected exactly one <{tag}>...</{tag}>, found {len(blocks)}")
    return parse_literal(blocks[0].strip())
