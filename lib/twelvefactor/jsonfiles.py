"""Large JSON arrays written element by element, as ``json.dumps(items, indent=1)`` writes them.

The report's findings files hold one object per finding: tens of megabytes for a large account.
Building the whole document as one string costs memory in proportion to the file, and the
standard library encodes with ``indent`` in pure Python generators (the C encoder only serves
compact output). Here each element is encoded on its own, with the C string escapers, and written
straight to the file: the bytes are those of ``json.dumps(list(items), indent=1, ...)`` and memory
stays that of one element.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from json.encoder import INFINITY, encode_basestring, encode_basestring_ascii
from pathlib import Path
from typing import Any


def _float(value: float) -> str:
    if value != value:
        return "NaN"
    if value == INFINITY:
        return "Infinity"
    if value == -INFINITY:
        return "-Infinity"
    return float.__repr__(value)


def _key(key: Any) -> str:
    """A dict key as json turns it into a string (str, bool, None, numbers; others refused)."""
    if isinstance(key, str):
        return key
    if key is True:
        return "true"
    if key is False:
        return "false"
    if key is None:
        return "null"
    if isinstance(key, int):
        return int.__repr__(key)
    if isinstance(key, float):
        return _float(key)
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")


class Encoder:
    """``json.dumps(value, indent=1, ensure_ascii=..., default=...)``, faster, into a list of parts.

    ``pad`` is the indentation of the value's own line: an element of a top-level array is encoded
    with ``pad=" "``.
    """

    def __init__(self, *, ensure_ascii: bool = True, default: Callable[[Any], Any] | None = None):
        self.string = encode_basestring_ascii if ensure_ascii else encode_basestring
        self.default = default

    def dumps(self, value: Any, pad: str = "") -> str:
        parts: list[str] = []
        self.encode(value, pad, parts)
        return "".join(parts)

    def encode(self, value: Any, pad: str, out: list[str]) -> None:
        kind = type(value)
        if kind is str:
            out.append(self.string(value))
        elif kind is dict:
            self._dict(value, pad, out)
        elif kind is list or kind is tuple:
            self._list(value, pad, out)
        elif value is None:
            out.append("null")
        elif value is True:
            out.append("true")
        elif value is False:
            out.append("false")
        elif isinstance(value, int):
            out.append(int.__repr__(value))
        elif isinstance(value, float):
            out.append(_float(value))
        elif isinstance(value, str):
            out.append(self.string(value))
        elif isinstance(value, dict):
            self._dict(value, pad, out)
        elif isinstance(value, list | tuple):
            self._list(value, pad, out)
        elif self.default is not None:
            self.encode(self.default(value), pad, out)
        else:
            raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")

    def _dict(self, value: dict, pad: str, out: list[str]) -> None:
        if not value:
            out.append("{}")
            return
        string, append = self.string, out.append
        inner = pad + " "
        separator = "{\n" + inner
        for key, item in value.items():
            name = string(key if type(key) is str else _key(key))
            if type(item) is str:  # most values: one piece, no call
                append(f"{separator}{name}: {string(item)}")
            else:
                append(f"{separator}{name}: ")
                self.encode(item, inner, out)
            separator = ",\n" + inner
        append("\n" + pad + "}")

    def _list(self, value: list | tuple, pad: str, out: list[str]) -> None:
        if not value:
            out.append("[]")
            return
        string, append = self.string, out.append
        inner = pad + " "
        separator = "[\n" + inner
        for item in value:
            if type(item) is str:
                append(separator + string(item))
            else:
                append(separator)
                self.encode(item, inner, out)
            separator = ",\n" + inner
        append("\n" + pad + "]")


def write_array(
    path: Path,
    items: Iterable[Any],
    *,
    ensure_ascii: bool = True,
    default: Callable[[Any], Any] | None = None,
) -> int:
    """Write ``items`` to ``path`` as a JSON array with ``indent=1``; how many were written.

    The file appears complete or not at all: it is written beside its name and moved into place
    at the end, so an exception half-way (an invalid finding) leaves no truncated file.
    """
    encoder = Encoder(ensure_ascii=ensure_ascii, default=default)
    partial = path.with_name(path.name + ".partial")
    count = 0
    try:
        with partial.open("w", encoding="utf-8", buffering=1 << 20) as fp:
            for item in items:
                parts = ["[\n " if count == 0 else ",\n "]
                encoder.encode(item, " ", parts)
                fp.write("".join(parts))
                count += 1
            fp.write("\n]" if count else "[]")
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return count
