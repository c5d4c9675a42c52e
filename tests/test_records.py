"""Records (wadoctor/util/records.py) behave as the dataclasses they stand in for."""

from __future__ import annotations

import pickle
from typing import ClassVar

import pytest

from wadoctor.util.records import Record, field


class Point(Record):
    x: int
    y: int = 0
    tags: list[str] = field(default_factory=list)
    note: str = field(default="", repr=False, compare=False)
    kind: ClassVar[str] = "point"


class Code(Record, frozen=True):
    name: str
    level: int = 1


class Checked(Record):
    value: int

    def __post_init__(self) -> None:
        if self.value < 0:
            raise ValueError("negative")


def test_fields_defaults_and_fresh_factories():
    a, b = Point(1), Point(2, y=3)
    assert (a.x, a.y, a.tags, b.y) == (1, 0, [], 3)
    a.tags.append("t")
    assert b.tags == [] and Point.record_fields == ("x", "y", "tags", "note")


def test_equality_repr_and_hashing_follow_dataclasses():
    assert Point(1, note="a") == Point(1, note="b") and Point(1) != Point(2)
    assert repr(Point(1, 2, ["t"])) == "Point(x=1, y=2, tags=['t'])"
    assert hash(Code("a")) == hash(Code("a")) and len({Code("a"), Code("a"), Code("b")}) == 2
    with pytest.raises(TypeError):
        hash(Point(1))  # mutable records are never keys


def test_frozen_records_refuse_changes_and_mutable_ones_take_them():
    code = Code("a")
    with pytest.raises(AttributeError):
        code.level = 2  # type: ignore[misc]
    point = Point(1)
    point.y = 5
    assert point.y == 5


def test_wrong_arguments_are_refused_as_a_dataclass_refuses_them():
    for make in (lambda: Point(), lambda: Point(1, 2, [], "", 9), lambda: Point(1, z=2), lambda: Point(1, x=1)):
        with pytest.raises(TypeError):
            make()
    with pytest.raises(TypeError):
        class Bad(Record):  # a field without a default after one with a default
            a: int = 0
            b: int


def test_post_init_runs_and_records_survive_pickling():
    with pytest.raises(ValueError):
        Checked(-1)
    assert pickle.loads(pickle.dumps(Code("a", 2))) == Code("a", 2)
    assert pickle.loads(pickle.dumps(Point(1, tags=["t"]))) == Point(1, tags=["t"])
