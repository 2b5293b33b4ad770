"""The cells of one line of an RPLS-shaped file, checked and turned into a unit object
of `register_units` (docs/rpls.md, "Import").

Each check gives the message of docs/rpls.md (`unit U-0007: rooms "12" must be an
integer from 1 to 9 (field 24)`) and the line goes on being checked: a line reports every
error it has. Must not: read the ledger or a file (`rpls_file` reads; uniqueness across
lines and the ledger's rules are checked there and by the booking).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from ledger.booking.zoning import Zoning
from ledger.domain import rpls as codes
from ledger.domain.values import (
    COMMUNE_PATTERN,
    ID_MAX_LENGTH,
    ID_PATTERN,
    MAX_USUFRUCT_YEARS,
    SURFACE_MAX_LENGTH,
    Segment,
    Zone,
    add_years,
    parse_date,
)

#: The columns read (§3 of docs/rpls.md) and their arrêté field (0: a project column).
COLUMNS = {
    "rpls_id": 1, "si_id": 2, "right": 3, "commune": 4, "construction_type": 23,
    "rooms": 24, "surface_m2": 25, "year_built": 26, "first_let_year": 27,
    "entry_year": 28, "entry_mode": 29, "previous_owner": 30, "previous_owner_siret": 31,
    "financing": 32, "financing_label": 33, "apl_agreement": 34, "exit_reason": 37,
    "no_longer_exists": 38, "cus_segment": 54, "zone": 0, "segment": 0,
    "bare_owner": 0, "usufruct_end": 0,
}  # fmt: skip
#: Columns accepted and ignored: the extract's derived columns and the other fields of
#: the arrêté.
IGNORED = frozenset(
    "occupancy sale_type sale_price_eur net_proceeds_eur transfer_n1 postal_code "
    "commune_name street_number street_repeat street_type street_name flat letterbox stair "
    "corridor floor unit_detail entrance building block programme locality qpv apl_number "
    "apl_date created_from lease_start rent_area_basis rent_area_m2 rent_eur "
    "ancillary_rent_eur energy_charge_eur cus_ceiling dpe_date dpe_energy dpe_ghg "
    "sru_expiry_year sru_paragraph manager_id cus_segment_label apl_max_rent_eur "
    "cus_max_rent_eur marketed last_available reservation comment".split()
)
REQUIRED = ("si_id", "right", "commune")
#: The keys of a unit's `rpls` object, in order.
RPLS_KEYS = (
    "construction_type", "first_let_year", "entry_year", "entry_mode", "previous_owner",
    "previous_owner_siret", "financing_code", "financing_label", "apl_agreement", "cus_segment",
)  # fmt: skip

_RPLS_ID = re.compile(r"[A-Za-z0-9]{10}")
_SURFACE = re.compile(r"[0-9]+(\.[0-9]{1,2})?")
_YEAR = re.compile(r"[0-9]{4}")
_SIRET = re.compile(r"[0-9]{14}")
_ZONES = ", ".join(z.value for z in Zone)
_SEGMENTS = ", ".join(s.value for s in Segment)
_C_OR_I = "must be C (collective) or I (individual)"
_RIGHT_4 = "right 4 (usufruct)"


@dataclass(frozen=True, slots=True)
class Context:
    """What every line is checked against: the entity, the as-of date, the zoning."""

    entity: str
    as_of: date
    zoning: Zoning | None


class LineCheck:
    """One line's cells (by column name, empty cells absent), its errors and its unit."""

    def __init__(self, cells: dict[str, str], ctx: Context) -> None:
        self.cells = cells
        self.ctx = ctx
        self.errors: list[str] = []
        si_id = cells.get("si_id", "")
        self.prefix = f"unit {si_id}: " if si_id else ""

    def error(self, message: str) -> None:
        self.errors.append(self.prefix + message)

    def bad(self, column: str, rule: str) -> None:
        self.error(f'{column} "{self.cells[column]}" {rule} (field {COLUMNS[column]})')

    def pick(self, column: str, allowed: Any, rule: str) -> str | None:
        value = self.cells.get(column)
        if value is not None and value not in allowed:
            self.bad(column, rule)
            return None
        return value

    def year(self, column: str, last: int) -> int | None:
        value = self.cells.get(column)
        if value is None:
            return None
        if not _YEAR.fullmatch(value) or not 1800 <= int(value) <= last:
            self.bad(column, f"must be a year from 1800 to {last}")
            return None
        return int(value)

    def text(self, column: str, limit: int) -> str | None:
        value = self.cells.get(column)
        if value is not None and len(value) > limit:
            self.error(f"{column} is longer than {limit} characters (field {COLUMNS[column]})")
            return None
        return value


def skip_reason(check: LineCheck) -> bool:
    """Check `exit_reason` and `no_longer_exists`; True when the line is not registered."""
    exit_reason = check.pick(
        "exit_reason",
        (*codes.EXIT_REASONS_LEFT, codes.STILL_IN_STOCK),
        "must be 1 to 5 (left the stock) or 9 (still in the stock)",
    )
    gone = check.pick("no_longer_exists", codes.NO_LONGER_EXISTS, "must be 1 or 2")
    return exit_reason in codes.EXIT_REASONS_LEFT or gone is not None


def unit_object(check: LineCheck) -> dict[str, Any] | None:
    """The unit object of a registered line, or None when the line has errors."""
    unit: dict[str, Any] = {"unit_id": _si_id(check), "commune": _commune(check)}
    financing_code = check.pick("financing", codes.FINANCING_CODES, "is not a code of the arrêté")
    zone = _zone(check, unit["commune"])
    if zone is not None:  # else the ledger's zoning vintage of the date gives it
        unit["zone"] = zone
    unit["segment"] = _segment(check, financing_code)
    if financing_code is not None:
        unit["financing"] = codes.FINANCING_CODES[financing_code].value
    unit["rooms"] = _rooms(check)
    unit["surface_m2"] = _surface(check)
    unit["year_built"] = check.year("year_built", check.ctx.as_of.year + 5)
    rpls_id = check.cells.get("rpls_id")
    if rpls_id is not None and not _RPLS_ID.fullmatch(rpls_id):
        check.bad("rpls_id", "must be 10 letters or digits")
    unit["rpls_id"] = rpls_id
    unit.update(_right(check))
    unit["rpls"] = _rpls(check, financing_code, unit["year_built"]) or None
    if check.errors:
        return None
    return {key: value for key, value in unit.items() if value is not None}


def _si_id(check: LineCheck) -> str | None:
    si_id = check.cells.get("si_id")
    if si_id is None:
        check.error("si_id is required (field 2)")
    elif len(si_id) > ID_MAX_LENGTH or not ID_PATTERN.fullmatch(si_id):
        check.bad(
            "si_id",
            f"must be an id of letters, digits and ._:/- of at most {ID_MAX_LENGTH} characters",
        )
    return si_id


def _commune(check: LineCheck) -> str | None:
    commune = check.cells.get("commune")
    if commune is None:
        check.error("commune is required (field 4)")
    elif not COMMUNE_PATTERN.fullmatch(commune):
        check.bad("commune", "is not an INSEE commune code")
        return None
    return commune


def _zone(check: LineCheck, commune: str | None) -> str | None:
    zone = check.cells.get("zone")
    if zone is not None:
        if zone not in {z.value for z in Zone}:
            check.error(f'zone "{zone}" must be one of {_ZONES}')
            return None
        return zone
    zoning = check.ctx.zoning
    if commune is None or zoning is None:
        # No zone given: the ledger's zoning vintage in force on the date gives it, and
        # the booking says so if none is (zone_required, commune_not_in_zoning).
        return None
    found = zoning.zone_of(commune)
    if found is None:
        check.error(f"no zone for commune {commune} in {zoning.name}")
    return found


def _segment(check: LineCheck, financing_code: str | None) -> str | None:
    segment = check.cells.get("segment")
    if segment is None:
        if financing_code == codes.INTERMEDIATE_FINANCING_CODE:
            return Segment.INTERMEDIATE.value
        return Segment.SOCIAL.value
    if segment not in {s.value for s in Segment}:
        check.error(f'segment "{segment}" must be one of {_SEGMENTS}')
        return None
    return segment


def _rooms(check: LineCheck) -> int | None:
    rooms = check.cells.get("rooms")
    if rooms is None:
        return None
    if len(rooms) != 1 or rooms not in "123456789":
        check.bad("rooms", "must be an integer from 1 to 9")
        return None
    return int(rooms)


def _surface(check: LineCheck) -> str | None:
    surface = check.cells.get("surface_m2")
    if surface is None:
        return None
    if (
        len(surface) > SURFACE_MAX_LENGTH
        or not _SURFACE.fullmatch(surface)
        or not any(c in "123456789" for c in surface)
    ):
        check.bad("surface_m2", "must be a decimal > 0 with a dot and at most 2 decimals")
        return None
    return surface


def _right(check: LineCheck) -> dict[str, Any]:
    """`right`, `bare_owner`, `usufruct_end` of the unit object (§5.7)."""
    right = check.cells.get("right")
    bare_owner, end = check.cells.get("bare_owner"), check.cells.get("usufruct_end")
    if right is None:
        check.error("right is required (field 3)")
        return {}
    if right in codes.LEASES:
        check.error(
            f"right {right} ({codes.LEASES[right]}) cannot be imported: the ledger holds "
            "units in full ownership (1) or usufruct (4) only"
        )
        return {}
    if right not in codes.RIGHTS.values():
        check.bad("right", "must be 1 (full ownership) or 4 (usufruct)")
        return {}
    if right == codes.RIGHTS["full_ownership"]:
        if bare_owner is not None or end is not None:
            check.error(f"bare_owner and usufruct_end are only for {_RIGHT_4}")
        return {}
    if bare_owner is None or end is None:
        check.error(f"{_RIGHT_4} needs bare_owner and usufruct_end")
        return {}
    return {"right": "usufruct", "bare_owner": _bare_owner(check, bare_owner),
            "usufruct_end": _usufruct_end(check, end)}  # fmt: skip


def _bare_owner(check: LineCheck, bare_owner: str) -> str | None:
    if len(bare_owner) > ID_MAX_LENGTH or not ID_PATTERN.fullmatch(bare_owner):
        check.error(f'bare_owner "{bare_owner}" is not an entity id')
        return None
    if bare_owner == check.ctx.entity:
        check.error(f"bare_owner {bare_owner} is the entity itself")
        return None
    return bare_owner


def _usufruct_end(check: LineCheck, end: str) -> str | None:
    try:
        day = parse_date(end)
    except ValueError:
        check.error(f'usufruct_end "{end}" is not a date in the form YYYY-MM-DD')
        return None
    as_of = check.ctx.as_of
    if not as_of < day <= add_years(as_of, MAX_USUFRUCT_YEARS):
        check.error(
            f"usufruct_end {end} must be after {as_of} and at most {MAX_USUFRUCT_YEARS} "
            "years later (Civil Code art. 619)"
        )
        return None
    return end


def _rpls(check: LineCheck, financing_code: str | None, year_built: int | None) -> dict[str, Any]:
    """The unit's `rpls` object: the filed values that are present (§5.7)."""
    last = check.ctx.as_of.year
    entry_year = check.year("entry_year", last)
    if entry_year is not None and year_built is not None and entry_year < year_built:
        check.error(f"entry_year {entry_year} is before year_built {year_built} (field 28)")
    label = check.text("financing_label", codes.FINANCING_LABEL_LENGTH)
    if label is not None and financing_code not in codes.OTHER_FINANCING_CODES:
        check.error("financing_label is only for financing 49 or 99 (field 33)")
    siret = check.cells.get("previous_owner_siret")
    if siret is not None and not _SIRET.fullmatch(siret):
        check.error("previous_owner_siret must be 14 digits (field 31)")
    apl: Callable[[str], bool] = codes.APL_AGREEMENT.__getitem__
    apl_code = check.pick("apl_agreement", codes.APL_AGREEMENT, "must be 1 (yes) or 2 (no)")
    values = {
        "construction_type": check.pick("construction_type", codes.CONSTRUCTION_TYPES, _C_OR_I),
        "first_let_year": check.year("first_let_year", last),
        "entry_year": entry_year,
        "entry_mode": check.pick("entry_mode", codes.ENTRY_MODES, "must be 1, 2, 3 or 4"),
        "previous_owner": check.text("previous_owner", codes.PREVIOUS_OWNER_LENGTH),
        "previous_owner_siret": siret,
        "financing_code": financing_code,
        "financing_label": label,
        "apl_agreement": None if apl_code is None else apl(apl_code),
        "cus_segment": check.text("cus_segment", codes.CUS_SEGMENT_LENGTH),
    }  # fmt: skip
    return {key: values[key] for key in RPLS_KEYS if values[key] is not None}
