"""The fields a unit object may have in `register_units` only: its right, and its RPLS values.

An opening balance may register a unit held in usufruct (`right` `usufruct`, with the
`bare_owner` and the `usufruct_end` of the dismemberment) and the values of the RPLS
register that the ledger does not derive (the `rpls` object: construction type, first
letting, entry, exact financing code, APL agreement, CUS segment). This module checks
the fields that need nothing but the unit object; what needs the transaction's date or
the ledger (the bare owner is a registered, active entity other than `entity`, the
usufruct's term, years not after the date, `entry_year` not before `year_built`) is the
handler's (`ledger.booking.handlers`).

Must not: check a rule that needs the ledger or the date, or decide how the unit is held
(that is the `Unit.Entered` event's). docs/transactions.md lists the fields and codes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from ledger.domain.rpls import (
    CONSTRUCTION_TYPES,
    CUS_SEGMENT_LENGTH,
    ENTRY_MODES,
    FINANCING_CODES,
    FINANCING_LABEL_LENGTH,
    OTHER_FINANCING_CODES,
    PREVIOUS_OWNER_LENGTH,
)
from ledger.domain.values import YEAR_BUILT_RANGE
from ledger.errors import InvalidField


class UnitRight(StrEnum):
    """The right in which `entity` registers a unit (RPLS field 3: 1 and 4)."""

    FULL_OWNERSHIP = "full_ownership"
    USUFRUCT = "usufruct"


SIRET_PATTERN = re.compile(r"[0-9]{14}")


@dataclass(frozen=True, slots=True)
class RplsValues:
    """The `rpls` object of a unit, checked (None: not given)."""

    construction_type: str | None = None
    first_let_year: int | None = None
    entry_year: int | None = None
    entry_mode: str | None = None
    previous_owner: str | None = None
    previous_owner_siret: str | None = None
    financing_code: str | None = None
    financing_label: str | None = None
    apl_agreement: bool | None = None
    cus_segment: str | None = None

    def to_json(self) -> str:
        """The values given, as the compact JSON object the `Unit.Entered` event records
        (keys in this class's order, absent values left out)."""
        given = {k: v for k, v in asdict(self).items() if v is not None}
        return json.dumps(given, ensure_ascii=False, separators=(",", ":"))

    @staticmethod
    def from_json(text: str) -> RplsValues:
        return RplsValues(**json.loads(text))


def json_type(value: Any) -> str:
    """A JSON value's type, as error messages name it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number with a fraction (floats are not allowed)"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


_json_type = json_type


def _code(codes: tuple[str, ...]) -> Callable[[str, Any], str]:
    allowed = ", ".join(codes)

    def parse(name: str, value: Any) -> str:
        if not isinstance(value, str) or value not in codes:
            raise InvalidField(
                "value_list", f"field '{name}' is {repr(value)[:40]}; expected one of: {allowed}"
            )
        return value

    return parse


def bounded_text(limit: int) -> Callable[[str, Any], str]:
    """The parser of a text field of at most `limit` characters: a non-blank string with no
    NUL character (the input format's one rule for texts, whatever the limit)."""

    def parse(name: str, value: Any) -> str:
        if not isinstance(value, str):
            raise InvalidField("type", f"field '{name}' must be a string, not {_json_type(value)}")
        if not value.strip():
            raise InvalidField("empty", f"field '{name}' must not be empty")
        if "\x00" in value:
            raise InvalidField("type", f"field '{name}' contains a NUL character (\\u0000)")
        if len(value) > limit:
            raise InvalidField(
                "too_long", f"field '{name}' is {len(value)} characters long (at most {limit})"
            )
        return value

    return parse


def _year(name: str, value: Any) -> int:
    low, high = YEAR_BUILT_RANGE
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidField("type", f"field '{name}' must be an integer, not {_json_type(value)}")
    if not low <= value <= high:
        raise InvalidField("range", f"field '{name}' must be between {low} and {high}, not {value}")
    return value


def parse_siret(name: str, value: Any) -> str:
    """A SIRET: 14 digits (`rpls.previous_owner_siret`, an acquisition's `seller_siret`)."""
    if not isinstance(value, str) or not SIRET_PATTERN.fullmatch(value):
        raise InvalidField("siret_format", f"field '{name}' must be 14 digits (a SIRET)")
    return value


def _financing_code(name: str, value: Any) -> str:
    if not isinstance(value, str) or value not in FINANCING_CODES:
        raise InvalidField(
            "value_list",
            f"field '{name}' is {repr(value)[:40]}; expected a financing code of the arrêté: "
            + ", ".join(FINANCING_CODES),
        )
    return value


def _boolean(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidField("type", f"field '{name}' must be true or false, not {_json_type(value)}")
    return value


RPLS_FIELDS: Mapping[str, Callable[[str, Any], Any]] = {
    "construction_type": _code(CONSTRUCTION_TYPES),
    "first_let_year": _year,
    "entry_year": _year,
    "entry_mode": _code(ENTRY_MODES),
    "previous_owner": bounded_text(PREVIOUS_OWNER_LENGTH),
    "previous_owner_siret": parse_siret,
    "financing_code": _financing_code,
    "financing_label": bounded_text(FINANCING_LABEL_LENGTH),
    "apl_agreement": _boolean,
    "cus_segment": bounded_text(CUS_SEGMENT_LENGTH),
}


def parse_rpls(name: str, value: Any) -> RplsValues:
    """The `rpls` object of a unit (a key given as null is absent)."""
    if not isinstance(value, dict):
        raise InvalidField("type", f"field '{name}' must be an object, not {_json_type(value)}")
    unknown = [k for k in value if k not in RPLS_FIELDS]
    if unknown:
        raise InvalidField("unknown_field", f"unknown field '{name}.{unknown[0]}'")
    parsed = {
        key: parse(f"{name}.{key}", value[key])
        for key, parse in RPLS_FIELDS.items()
        if value.get(key) is not None
    }
    values = RplsValues(**parsed)
    if values.financing_label is not None and values.financing_code not in OTHER_FINANCING_CODES:
        raise InvalidField(
            "financing_label",
            f"field '{name}.financing_label' is only for financing_code "
            f"{' or '.join(OTHER_FINANCING_CODES)}, not {values.financing_code or 'none'}",
        )
    return values


def check_unit_extension(name: str, unit: Mapping[str, Any]) -> None:
    """The rules between the fields of one parsed unit object of a `register_units`:
    `bare_owner` and `usufruct_end` with `usufruct` only, `financing` the mapping of
    `rpls.financing_code`."""
    usufruct = unit.get("right") == UnitRight.USUFRUCT
    for key in ("bare_owner", "usufruct_end"):
        if usufruct and unit.get(key) is None:
            raise InvalidField("missing_field", f"missing field '{name}.{key}' (right is usufruct)")
        if not usufruct and unit.get(key) is not None:
            raise InvalidField(
                "forbidden_field",
                f"field '{name}.{key}' is only for a unit registered in usufruct (right: usufruct)",
            )
    rpls: RplsValues | None = unit.get("rpls")
    if rpls is not None and rpls.financing_code is not None:
        expected = FINANCING_CODES[rpls.financing_code]
        if unit.get("financing") != expected:
            raise InvalidField(
                "financing_mismatch",
                f"field '{name}.financing' must be {expected.value} with "
                f"rpls.financing_code {rpls.financing_code}, not {unit.get('financing') or 'none'}",
            )
