"""The unit objects of `register_units` and `acquisition`, checked in one pass.

An opening balance lists hundreds of thousands of unit objects, too many for the
generic field parser (`transactions._object`: a parser call per field, a dict per unit;
docs/performance.md). `unit_values` checks one unit object that is valid in every way
and gives the values of its `UnitSpec`; for anything else (a missing, unknown or bad
field) it gives None and the generic parser runs, so every error keeps its exact message.

Must not: hold a rule of its own. The patterns, value lists and bounds are the domain's
(`ledger.domain.values`), the same the generic parser uses;
`tests/unit/test_unit_lines.py` checks both give the same units and the same errors.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal
from typing import Any

from ledger.booking.unitextras import RplsValues
from ledger.domain.values import (
    COMMUNE_PATTERN,
    DECIMAL_PATTERN,
    ID_MAX_LENGTH,
    ID_PATTERN,
    ROOMS_RANGE,
    SURFACE_MAX_LENGTH,
    YEAR_BUILT_RANGE,
    Financing,
    Segment,
    Zone,
)


@dataclass(frozen=True, slots=True)
class UnitSpec:
    """A unit object of `register_units` and `acquisition`, checked."""

    unit_id: str
    commune: str
    zone: Zone | None  # None: the zoning vintage in force on the line's date gives it
    segment: Segment
    financing: Financing | None = None
    rooms: int | None = None
    surface_m2: Decimal | None = None
    year_built: int | None = None
    rpls_id: str | None = None
    # A `register_units` only (ledger/booking/unitextras.py): never by the fast path.
    bare_owner: str | None = None
    usufruct_end: date | None = None
    rpls: RplsValues | None = None


#: The fields the fast path checks: a unit object with any other key takes the generic one.
FIELDS = frozenset(f.name for f in fields(UnitSpec)) - {"bare_owner", "usufruct_end", "rpls"}
_ZONES = {m.value: m for m in Zone}
_SEGMENTS = {m.value: m for m in Segment}
_FINANCINGS = {m.value: m for m in Financing}
_ident = ID_PATTERN.fullmatch
_commune = COMMUNE_PATTERN.fullmatch
_decimal = DECIMAL_PATTERN.fullmatch
_ROOMS_MIN, _ROOMS_MAX = ROOMS_RANGE
_YEAR_MIN, _YEAR_MAX = YEAR_BUILT_RANGE

Values = tuple[str, str, Zone | None, Segment, Any, Any, Any, Any, Any]


def unit_values(item: Any) -> Values | None:
    """The `UnitSpec` fields of a valid unit object, in their order; None if anything is
    off."""
    if type(item) is not dict or not FIELDS.issuperset(item):
        return None
    get = item.get
    unit_id, commune, zone, segment = get("unit_id"), get("commune"), get("zone"), get("segment")
    if not (type(unit_id) is str and len(unit_id) <= ID_MAX_LENGTH and _ident(unit_id)):
        return None
    if not (type(commune) is str and _commune(commune)):
        return None
    if zone is not None and (type(zone) is not str or zone not in _ZONES):
        return None
    if type(segment) is not str or segment not in _SEGMENTS:
        return None
    financing, rooms, surface, year, rpls = (
        get("financing"),
        get("rooms"),
        get("surface_m2"),
        get("year_built"),
        get("rpls_id"),
    )
    if financing is not None:
        if type(financing) is not str or financing not in _FINANCINGS:
            return None
        financing = _FINANCINGS[financing]
    if rooms is not None and not (type(rooms) is int and _ROOMS_MIN <= rooms <= _ROOMS_MAX):
        return None
    if surface is not None:
        if not (type(surface) is str and len(surface) <= SURFACE_MAX_LENGTH and _decimal(surface)):
            return None
        surface = Decimal(surface)
        if surface <= 0:
            return None
    if year is not None and not (type(year) is int and _YEAR_MIN <= year <= _YEAR_MAX):
        return None
    if rpls is not None and not (type(rpls) is str and len(rpls) <= ID_MAX_LENGTH and _ident(rpls)):
        return None
    zoned = _ZONES[zone] if zone is not None else None
    return unit_id, commune, zoned, _SEGMENTS[segment], financing, rooms, surface, year, rpls
