"""Shared fixtures for the unit tests: the feed's example records (copied into tests/fixtures/records) and
the sample district (data/district). Nothing here reads outside the repository at run time."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from odr_adapter.models.directory import District
from odr_adapter.models.record import Complaint, parse_record
from odr_cli.district_files import read_district
from tests.fakes import World, no_pauses

REPO = Path(__file__).resolve().parents[2]
RECORDS = REPO / "tests" / "fixtures" / "records"
DISTRICT_DATA = REPO / "data" / "district"

EXAMPLES = sorted(p.name for p in RECORDS.glob("*.json"))
VALID_EXAMPLES = [name for name in EXAMPLES if name != "bad-record.json"]

_EXAMPLE_CACHE: dict[str, dict[str, Any]] = {}


def load_example(name: str) -> dict[str, Any]:
    """A fresh deep copy of one example record (the JSON of tests/fixtures/records/<name>)."""
    if not name.endswith(".json"):
        name += ".json"
    if name not in _EXAMPLE_CACHE:
        _EXAMPLE_CACHE[name] = json.loads((RECORDS / name).read_text(encoding="utf-8"))
    return copy.deepcopy(_EXAMPLE_CACHE[name])


DELETE = "__delete__"  # as a value in `changes`: remove that field


def with_changes(raw: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Set (or, with the value ``DELETE``, remove) fields by dotted path, e.g. ``transaction.amount``."""
    for dotted, value in changes.items():
        *parents, leaf = dotted.split(".")
        target = raw
        for part in parents:
            target = target.setdefault(part, {})
        if isinstance(value, str) and value == DELETE:
            target.pop(leaf, None)
        else:
            target[leaf] = value
    return raw


@pytest.fixture(scope="session")
def example() -> Callable[[str], dict[str, Any]]:
    """``example("odr-by-uscc")`` -> a fresh raw dict of that example record."""
    return load_example


@pytest.fixture(scope="session")
def complaint() -> Callable[..., Complaint]:
    """``complaint("odr-by-uscc", **{"respondent.division_code": "310117"})`` -> a parsed Complaint."""

    def build(name: str = "odr-by-uscc", changes: dict[str, Any] | None = None, **kw: Any) -> Complaint:
        raw = with_changes(load_example(name), {**(changes or {}), **kw})
        return parse_record(raw)

    return build


@pytest.fixture(scope="session")
def district() -> District:
    return read_district(DISTRICT_DATA)


# --- the stateful paths on the in-memory ports (tests/unit/test_*_paths.py) ---------------------------------------

START = datetime.fromisoformat("2026-11-30T08:00:00+08:00")


@pytest.fixture
def pauses() -> Iterator[list[float]]:
    """Backoffs return at once (and say what they were asked for); the path modules use it for every test."""
    with no_pauses() as asked:
        yield asked


@pytest.fixture
def world(district: District) -> World:
    return World(district, START)


def record(name: str = "odr-by-uscc", **changes: Any) -> dict[str, Any]:
    """An example record with some fields changed."""
    raw = load_example(name)
    raw.update(changes)
    return raw
