"""The one-pass check of unit objects gives the generic parser's units, and leaves every
object it does not accept to the generic parser (so errors keep their messages)."""

from __future__ import annotations

import dataclasses
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.booking.transactions import (
    UNIT_OPTIONAL,
    UNIT_REQUIRED,
    UnitSpec,
    _object,
    parse_transaction,
)
from ledger.booking.unitlines import unit_values
from ledger.errors import InvalidField

ANY_JSON = (
    st.none()
    | st.booleans()
    | st.integers(-5, 3000)
    | st.text(max_size=6)
    | st.just(1.5)
    | st.lists(st.integers(), max_size=2)
    | st.dictionaries(st.text(max_size=2), st.integers(), max_size=1)
)
GOOD = {
    "unit_id": st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,85}", fullmatch=True),
    "commune": st.from_regex(r"[0-9]{5}|2[AB][0-9]{3}|[0-9]{4}|75056\n", fullmatch=True),
    "zone": st.sampled_from(["Abis", "A", "B1", "B2", "C", "a", "D", ""]),
    "segment": st.sampled_from(["social", "intermediate", "other", "Social"]),
    "financing": st.sampled_from(["PLAI", "PLUS", "PLS", "PLI", "other", "pls", None]),
    "rooms": st.integers(-1, 22) | st.booleans() | st.none(),
    "surface_m2": st.from_regex(r"-?[0-9]{1,21}(\.[0-9]{0,3})?|0|0\.00| 1|1e2", fullmatch=True)
    | st.none()
    | st.integers(1, 9),
    "year_built": st.integers(1790, 10001) | st.none() | st.just(True),
    "rpls_id": st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,85}|-R| ", fullmatch=True) | st.none(),
}


VALID = {
    "unit_id": st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,20}", fullmatch=True),
    "commune": st.from_regex(r"[0-9]{5}|2[AB][0-9]{3}", fullmatch=True),
    "zone": st.sampled_from(["Abis", "A", "B1", "B2", "C"]),
    "segment": st.sampled_from(["social", "intermediate", "other"]),
    "financing": st.sampled_from(["PLAI", "PLUS", "PLS", "PLI", "other", None]),
    "rooms": st.integers(1, 20) | st.none(),
    "surface_m2": st.from_regex(r"[0-9]{1,6}(\.[0-9]{1,3})?", fullmatch=True) | st.none(),
    "year_built": st.integers(1800, 9999) | st.none(),
    "rpls_id": st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,20}", fullmatch=True) | st.none(),
}
REQUIRED = ("unit_id", "commune", "zone", "segment")


@st.composite
def unit_objects(draw: Any) -> Any:
    item: dict[str, Any] = {}
    for key, values in GOOD.items():
        if draw(st.integers(0, 59 if key in REQUIRED else 3)) == 0:
            continue  # missing
        if draw(st.integers(0, 3)):
            item[key] = draw(VALID[key])
        else:
            item[key] = draw(ANY_JSON) if draw(st.integers(0, 9)) == 0 else draw(values)
    if draw(st.integers(0, 29)) == 0:
        item["extra"] = 1
    return item if draw(st.integers(0, 49)) else draw(ANY_JSON)


def exact(unit: UnitSpec) -> list[tuple[type, str]]:
    return [(type(v), repr(v)) for v in dataclasses.astuple(unit)]


def generic(item: Any) -> Any:
    try:
        parsed = _object("units[0]", item, UNIT_REQUIRED, UNIT_OPTIONAL)
        return exact(UnitSpec(**{"zone": None, **parsed}))
    except InvalidField as e:
        return (e.code, e.message)


@settings(max_examples=3000, deadline=None)
@given(unit_objects())
def test_a_unit_object_is_accepted_only_as_the_generic_parser_accepts_it(item: Any) -> None:
    checked = unit_values(item)
    expected = generic(item)
    if checked is None:
        assert isinstance(expected, tuple), f"valid unit left to the generic parser: {item}"
    else:
        assert exact(UnitSpec(*checked)) == expected


LINES = [
    {"unit_id": "U1", "commune": "75056", "zone": "A", "segment": "social"},
    {
        "unit_id": "U1",
        "commune": "2A004",
        "zone": "Abis",
        "segment": "other",
        "financing": "PLS",
        "rooms": 20,
        "surface_m2": "0.01",
        "year_built": 1800,
        "rpls_id": "R:1/2-3_4.5",
    },
    {"unit_id": "U1", "commune": "75056", "zone": "A", "segment": "social", "rooms": 0},
    {"unit_id": "U1", "commune": "75056", "zone": "A", "segment": "social", "surface_m2": "-1"},
    {"unit_id": "U1", "commune": "75056", "zone": "A", "segment": "social", "surface_m2": "0.0"},
    {"unit_id": "U1", "commune": "75056", "zone": "E", "segment": "social"},
    {"unit_id": "U1", "commune": "75056", "zone": "A"},
    {"unit_id": "U1", "commune": "75056", "zone": "A", "segment": "social", "floor": 2},
    {"unit_id": "-U1", "commune": "75056", "zone": "A", "segment": "social"},
    {"unit_id": "U1", "commune": "75056", "zone": "A", "segment": "social", "rooms": True},
    "U1",
]


def test_acquisition_lines_give_the_same_units_and_errors_as_the_generic_parser() -> None:
    for unit in LINES:
        line = {
            "id": "ACQ-1",
            "type": "acquisition",
            "date": "2019-01-01",
            "entity": "E",
            "mode": "vefa",
            "price_eur": "1.00",
            "units": [unit, {**LINES[0], "unit_id": "U2"}],
        }
        try:
            got: Any = [exact(u) for u in parse_transaction(line)["units"]]
        except InvalidField as e:
            got = (e.code, e.message)
        expected = generic(unit)
        if isinstance(expected, tuple):
            assert got == (expected[0], "acquisition ACQ-1: " + expected[1]), unit
        else:
            assert got[0] == expected, unit
