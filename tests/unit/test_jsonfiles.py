"""JSON arrays written element by element: the bytes of json.dumps(..., indent=1), in any case."""

from __future__ import annotations

import json
from datetime import date
from enum import IntEnum, StrEnum

import pytest

from twelvefactor.jsonfiles import Encoder, write_array


class Colour(StrEnum):
    RED = "red"


class Level(IntEnum):
    HIGH = 4


AWKWARD = [
    {},
    [],
    "",
    {"a": [], "b": {}, "c": [{}], "d": [[1, [2.5, None]], {"e": {"f": True, "g": False}}]},
    {"text": 'quote " backslash \\ tab \t newline \n nul \x00 é ☃ \U0001f600 \u2028'},
    {7: "int key", 2.5: "float key", True: "bool key", False: "bool", None: "none key"},
    {"nan": float("nan"), "inf": float("inf"), "-inf": float("-inf"), "big": 10**30},
    {"floats": [0.1, 1e16, -0.0, 1.5e-7, 3.0]},
    {"enum": Colour.RED, "level": Level.HIGH, "tuple": (1, "two")},
    "plain string",
    12,
    None,
]


@pytest.mark.parametrize("ensure_ascii", [True, False])
def test_each_value_encodes_as_json_dumps_does(ensure_ascii):
    encoder = Encoder(ensure_ascii=ensure_ascii)
    for value in AWKWARD:
        assert encoder.dumps(value) == json.dumps(value, indent=1, ensure_ascii=ensure_ascii)


def test_default_handles_what_json_does_not_know_and_is_required():
    value = {"when": date(2026, 11, 28), "nested": [date(2026, 1, 1)]}
    assert Encoder(default=str).dumps(value) == json.dumps(value, indent=1, default=str)
    with pytest.raises(TypeError, match="date"):
        Encoder().dumps(value)
    with pytest.raises(TypeError, match="keys"):
        Encoder().dumps({(1, 2): "tuple key"})


@pytest.mark.parametrize("count", [0, 1, 2, len(AWKWARD)])
@pytest.mark.parametrize("ensure_ascii", [True, False])
def test_a_written_array_is_the_bytes_of_one_dumps(tmp_path, count, ensure_ascii):
    items = AWKWARD[:count]
    path = tmp_path / "a.json"
    assert write_array(path, iter(items), ensure_ascii=ensure_ascii) == count
    expected = json.dumps(items, indent=1, ensure_ascii=ensure_ascii)
    assert path.read_bytes() == expected.encode()
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_a_failure_half_way_leaves_no_file(tmp_path):
    def items():
        yield {"fine": 1}
        raise ValueError("invalid item")

    with pytest.raises(ValueError, match="invalid item"):
        write_array(tmp_path / "a.json", items())
    assert list(tmp_path.iterdir()) == []
