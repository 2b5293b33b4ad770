"""The input format: one JSON line -> one typed, field-checked transaction.

This is the "parse" step of the import pipeline (parse -> book -> record). It checks
syntax, fields, types and value lists, and nothing that needs the ledger's state
(that is `booking`). Every problem is an `InvalidField` whose message names the field.
The original object is kept (`raw`) so the journal can give back the transaction exactly
as recorded, and `content_hash` makes re-importing the same line idempotent.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from ledger.booking.unitextras import (
    UnitRight,
    bounded_text,
    check_unit_extension,
    parse_rpls,
    parse_siret,
)
from ledger.booking.unitextras import json_type as _json_type
from ledger.booking.unitlines import UnitSpec as UnitSpec  # re-exported: part of the format
from ledger.booking.unitlines import unit_values
from ledger.domain.values import (
    COMMUNE_PATTERN,
    DECIMAL_PATTERN,
    ID_MAX_LENGTH,
    ID_PATTERN,
    REGION_PATTERN,
    ROOMS_RANGE,
    SURFACE_MAX_LENGTH,
    YEAR_BUILT_RANGE,
    AcquisitionMode,
    BuyerCategory,
    Consideration,
    EntityKind,
    Financing,
    Sector,
    Segment,
    Zone,
    parse_date,
    parse_money,
)
from ledger.errors import InvalidField

#: The one key that `journal --format jsonl` adds and `import` ignores.
JOURNAL_KEY = "journal"
MAX_TEXT_LENGTH = 2000
MAX_COUNT = 10_000_000
MAX_UNITS_PER_TRANSACTION = 100_000
COMMON_REQUIRED = ("id", "type", "date")
COMMON_OPTIONAL = ("reference", "note")


@dataclass(frozen=True, slots=True)
class Transaction:
    """A parsed transaction: common fields, the type-specific `fields`, and the raw object."""

    id: str
    type: str
    date: date
    fields: Mapping[str, Any]
    raw: Mapping[str, Any]

    @property
    def canonical_json(self) -> str:
        """The content as a canonical JSON text (sorted keys): what idempotency compares."""
        return json.dumps(self.raw, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    @property
    def content_json(self) -> str:
        """The content as filed (key order kept), compact: what the journal entry stores."""
        return json.dumps(dict(self.raw), ensure_ascii=False, separators=(",", ":"))

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(self.canonical_json.encode("utf-8")).hexdigest()

    def __getitem__(self, name: str) -> Any:
        return self.fields[name]


# --- field parsers: each takes (field name, JSON value) and returns the typed value ----

Parser = Callable[[str, Any], Any]


_text = bounded_text(MAX_TEXT_LENGTH)


def _ident(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidField("type", f"field '{name}' must be a string, not {_json_type(value)}")
    if not 1 <= len(value) <= ID_MAX_LENGTH or not ID_PATTERN.fullmatch(value):
        shown = value if len(value) <= 40 else value[:40] + "..."
        raise InvalidField(
            "id_format",
            f"field '{name}' {shown!r} is not a valid id (1-{ID_MAX_LENGTH} characters: "
            "letters, digits and . _ : / -, starting with a letter or digit)",
        )
    return value


def _date(name: str, value: Any) -> date:
    if not isinstance(value, str):
        raise InvalidField("type", f"field '{name}' must be a date string, not {_json_type(value)}")
    try:
        return parse_date(value)
    except ValueError:
        raise InvalidField(
            "date_format", f"field '{name}' {value[:40]!r} is not a valid date YYYY-MM-DD"
        ) from None


def _amount(name: str, value: Any) -> Decimal:
    """An amount that may be negative (net proceeds: a loss)."""
    if not isinstance(value, str):
        raise InvalidField(
            "money_type",
            f"field '{name}' must be a decimal string such as \"1250000.00\", "
            f"not {_json_type(value)}",
        )
    try:
        amount = parse_money(value)
    except ValueError:
        raise InvalidField(
            "money_format",
            f"field '{name}' {value[:40]!r} is not an amount with at most 2 decimals "
            "(and at most 15 digits before the point)",
        ) from None
    return amount


def _money(name: str, value: Any) -> Decimal:
    amount = _amount(name, value)
    if amount < 0:
        raise InvalidField("negative", f"field '{name}' must be >= 0, not {value}")
    return amount


def _count(low: int, high: int) -> Parser:
    def parse(name: str, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidField(
                "type", f"field '{name}' must be an integer, not {_json_type(value)}"
            )
        if not low <= value <= high:
            raise InvalidField(
                "range", f"field '{name}' must be between {low} and {high}, not {value}"
            )
        return value

    return parse


def _boolean(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidField("type", f"field '{name}' must be true or false, not {_json_type(value)}")
    return value


def _choice(enum: type[Any]) -> Parser:
    allowed = ", ".join(m.value for m in enum)

    def parse(name: str, value: Any) -> Any:
        try:
            return enum(value)
        except (ValueError, TypeError):
            shown = repr(value)[:40]
            raise InvalidField(
                "value_list", f"field '{name}' is {shown}; expected one of: {allowed}"
            ) from None

    return parse


def _region(name: str, value: Any) -> str:
    if not isinstance(value, str) or not REGION_PATTERN.fullmatch(value):
        raise InvalidField("region_format", f"field '{name}' must be a 2-digit INSEE region code")
    return value


def _id_list(name: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise InvalidField("type", f"field '{name}' must be a list, not {_json_type(value)}")
    if not value:
        raise InvalidField("empty", f"field '{name}' must list at least one id")
    if len(value) > MAX_UNITS_PER_TRANSACTION:
        raise InvalidField(
            "too_long", f"field '{name}' lists more than {MAX_UNITS_PER_TRANSACTION} ids"
        )
    ids = tuple(_ident(f"{name}[{i}]", v) for i, v in enumerate(value))
    seen: set[str] = set()
    for item in ids:
        if item in seen:
            raise InvalidField("duplicate", f"field '{name}' lists {item} twice")
        seen.add(item)
    return ids


def _surface(name: str, value: Any) -> Decimal:
    if not isinstance(value, str):
        raise InvalidField(
            "type", f"field '{name}' must be a decimal string, not {_json_type(value)}"
        )
    if len(value) > SURFACE_MAX_LENGTH or not DECIMAL_PATTERN.fullmatch(value.removeprefix("-")):
        raise InvalidField(
            "decimal_format",
            f"field '{name}' {value[:40]!r} is not a decimal number such as \"64.50\"",
        )
    surface = Decimal(value)
    if surface <= 0:
        raise InvalidField("range", f"field '{name}' must be a decimal > 0, not {value}")
    return surface


def _commune(name: str, value: Any) -> str:
    if not isinstance(value, str) or not COMMUNE_PATTERN.fullmatch(value):
        raise InvalidField(
            "commune_format", f"field '{name}' must be an INSEE commune code (5 characters)"
        )
    return value


UNIT_REQUIRED: dict[str, Parser] = {
    "unit_id": _ident,
    "commune": _commune,
    "segment": _choice(Segment),
}
UNIT_OPTIONAL: dict[str, Parser] = {
    # Optional when a zoning vintage is in force on the line's date (the booking derives
    # it, or checks the one given: ledger/booking/zoning.py).
    "zone": _choice(Zone),
    "financing": _choice(Financing),
    "rooms": _count(*ROOMS_RANGE),
    "surface_m2": _surface,
    "year_built": _count(*YEAR_BUILT_RANGE),
    "rpls_id": _ident,
}


#: The fields a unit object may also have in a `register_units` (ledger/booking/unitextras.py).
REGISTERED_UNIT_OPTIONAL: dict[str, Parser] = {
    **UNIT_OPTIONAL,
    "right": _choice(UnitRight),
    "bare_owner": _ident,
    "usufruct_end": _date,
    "rpls": parse_rpls,
}


def _unit_list(name: str, value: Any) -> tuple[UnitSpec, ...]:
    return _units(name, value, UNIT_OPTIONAL)


def _registered_unit_list(name: str, value: Any) -> tuple[UnitSpec, ...]:
    return _units(name, value, REGISTERED_UNIT_OPTIONAL)


def _unit(name: str, item: Any, optional: Mapping[str, Parser]) -> UnitSpec:
    """One unit object: by the fast path when it takes it, else by the generic parser,
    which says what is off (the extension fields always take the generic path)."""
    checked = unit_values(item)
    if checked is not None:
        return UnitSpec(*checked)
    parsed = _object(name, item, UNIT_REQUIRED, optional)
    parsed.setdefault("zone", None)
    if optional is REGISTERED_UNIT_OPTIONAL:
        check_unit_extension(name, parsed)
        parsed.pop("right", None)  # said by bare_owner: a unit in usufruct has one
    return UnitSpec(**parsed)


def _units(name: str, value: Any, optional: Mapping[str, Parser]) -> tuple[UnitSpec, ...]:
    if not isinstance(value, list):
        raise InvalidField("type", f"field '{name}' must be a list, not {_json_type(value)}")
    if not value:
        raise InvalidField("empty", f"field '{name}' must list at least one unit")
    if len(value) > MAX_UNITS_PER_TRANSACTION:
        raise InvalidField(
            "too_long", f"field '{name}' lists more than {MAX_UNITS_PER_TRANSACTION} units"
        )
    units = []
    seen: set[str] = set()
    for i, item in enumerate(value):
        unit = _unit(f"{name}[{i}]", item, optional)
        if unit.unit_id in seen:
            raise InvalidField("duplicate", f"field '{name}' lists unit {unit.unit_id} twice")
        seen.add(unit.unit_id)
        units.append(unit)
    return tuple(units)


MAX_ZONED_COMMUNES = 100_000
_ZONE = _choice(Zone)
SHA256_LENGTH = 64


def _zones(name: str, value: Any) -> dict[str, str]:
    """A zoning vintage's classes: an object of INSEE commune code -> A/B/C zone."""
    if not isinstance(value, dict):
        raise InvalidField("type", f"field '{name}' must be an object, not {_json_type(value)}")
    if not value:
        raise InvalidField("empty", f"field '{name}' must give the zone of at least one commune")
    if len(value) > MAX_ZONED_COMMUNES:
        raise InvalidField("too_long", f"field '{name}' lists more than {MAX_ZONED_COMMUNES}")
    zones: dict[str, str] = {}
    for commune, zone in value.items():
        _commune(f"{name}.{commune[:12]}", commune)
        zones[commune] = _ZONE(f"{name}.{commune}", zone).value
    return zones


def _sha256(name: str, value: Any) -> str:
    if (
        not isinstance(value, str)
        or len(value) != SHA256_LENGTH
        or any(c not in "0123456789abcdef" for c in value)
    ):
        raise InvalidField(
            "sha256_format", f"field '{name}' must be a SHA-256 in 64 lowercase hex digits"
        )
    return value


BUYER_REQUIRED: dict[str, Parser] = {"category": _choice(BuyerCategory)}
BUYER_OPTIONAL: dict[str, Parser] = {"name": _text, "entity": _ident}


def _buyer(name: str, value: Any) -> dict[str, Any]:
    parsed = _object(name, value, BUYER_REQUIRED, BUYER_OPTIONAL)
    return {
        "category": parsed["category"],
        "name": parsed.get("name"),
        "entity": parsed.get("entity"),
    }


def _object(
    name: str, value: Any, required: Mapping[str, Parser], optional: Mapping[str, Parser]
) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidField("type", f"field '{name}' must be an object, not {_json_type(value)}")
    unknown = [k for k in value if k not in required and k not in optional]
    if unknown:
        raise InvalidField("unknown_field", f"unknown field '{name}.{unknown[0]}'")
    parsed: dict[str, Any] = {}
    for key, parser in required.items():
        if key not in value:
            raise InvalidField("missing_field", f"missing field '{name}.{key}'")
        parsed[key] = parser(f"{name}.{key}", value[key])
    for key, parser in optional.items():
        if key in value and value[key] is not None:
            parsed[key] = parser(f"{name}.{key}", value[key])
    return parsed


@dataclass(frozen=True, slots=True)
class Schema:
    required: Mapping[str, Parser]
    optional: Mapping[str, Parser]


SCHEMAS: dict[str, Schema] = {
    "register_entity": Schema(
        {"entity": _ident, "name": _text, "kind": _choice(EntityKind)},
        {"region": _region, "group": _boolean, "parent": _ident},
    ),
    "register_units": Schema({"entity": _ident, "units": _registered_unit_list}, {}),
    "acquisition": Schema(
        {
            "entity": _ident,
            "units": _unit_list,
            "mode": _choice(AcquisitionMode),
            "price_eur": _money,
        },
        {"seller": _text, "seller_siret": parse_siret},
    ),
    "sale": Schema(
        {"entity": _ident, "units": _id_list, "buyer": _buyer, "price_eur": _money},
        {"net_proceeds_eur": _amount},
    ),
    "bare_ownership_transfer": Schema(
        {
            "entity": _ident,
            "bare_owner": _ident,
            "units": _id_list,
            "usufruct_end": _date,
            "consideration": _choice(Consideration),
        },
        {"price_eur": _money},
    ),
    "usufruct_extinguished": Schema({"units": _id_list}, {}),
    # The usufruct's term moved by agreement before it passed (Civil Code art. 619 cap).
    "usufruct_extension": Schema({"units": _id_list, "usufruct_end": _date}, {}),
    "merger": Schema({"absorbed": _id_list, "into": _ident}, {}),
    "register_business": Schema(
        {
            "entity": _ident,
            "business": _ident,
            "name": _text,
            "sector": _choice(Sector),
            "headcount": _count(0, MAX_COUNT),
        },
        {},
    ),
    "divestment": Schema(
        {
            "entity": _ident,
            "business": _ident,
            "buyer": _text,
            "price_eur": _money,
            "employees_transferred": _count(0, MAX_COUNT),
            "no_redundancy": _boolean,
        },
        {},
    ),
    "reversal": Schema({"reverses": _ident, "reason": _text}, {}),
    # The group perimeter (docs/transactions.md): an entity joins or leaves the group, a
    # member's shares move to another member.
    "group_entry": Schema({"entity": _ident}, {"parent": _ident}),
    "group_exit": Schema({"entity": _ident}, {}),
    "share_transfer": Schema({"entity": _ident, "parent": _ident}, {}),
    # A vintage of the A/B/C zoning, in force from `date` (ledger/booking/zoning.py).
    "zoning_vintage": Schema(
        {"source": _text, "sha256": _sha256, "zones": _zones}, {"file": _text}
    ),
}
TRANSACTION_TYPES = tuple(SCHEMAS)


def _check_acquisition(fields: Mapping[str, Any]) -> None:
    """A SIRET is the seller's: `seller_siret` only with `seller` (RPLS fields 30, 31)."""
    if fields["seller_siret"] is not None and fields["seller"] is None:
        raise InvalidField(
            "missing_field", "missing field 'seller' (seller_siret is the seller's SIRET)"
        )


def _check_sale(fields: Mapping[str, Any]) -> None:
    """Net proceeds are the price less the net book value (RPLS field 61): a loss may make
    them negative, nothing makes them more than the price."""
    net, price = fields["net_proceeds_eur"], fields["price_eur"]
    if net is not None and net > price:
        raise InvalidField(
            "net_proceeds_above_price",
            f"field 'net_proceeds_eur' {net} is more than price_eur {price} (net proceeds "
            "are the price less the net book value)",
        )


def _check_registration(fields: Mapping[str, Any]) -> None:
    """A parent holds a member's shares: an entity with a `parent` is in the group."""
    if fields["parent"] is not None and fields["group"] is False:
        raise InvalidField(
            "parent_outside_group",
            f"field 'parent' {fields['parent']} is given with group false (an entity whose "
            "shares a member holds is in the group)",
        )


#: The rules between the fields of one transaction, by type (nothing from the ledger).
CROSS_CHECKS: dict[str, Callable[[Mapping[str, Any]], None]] = {
    "register_entity": _check_registration,
    "acquisition": _check_acquisition,
    "sale": _check_sale,
}


def parse_transaction(obj: Any) -> Transaction:
    """Check one decoded JSON value against the format; raise InvalidField on the first problem."""
    if not isinstance(obj, dict):
        raise InvalidField(
            "not_object", f"a transaction must be a JSON object, not {_json_type(obj)}"
        )
    raw = {k: v for k, v in obj.items() if k != JOURNAL_KEY}
    for key in COMMON_REQUIRED:
        if key not in raw:
            raise InvalidField("missing_field", f"missing field '{key}'")
    tx_id = _ident("id", raw["id"])
    tx_type = raw["type"]
    if not isinstance(tx_type, str) or tx_type not in SCHEMAS:
        raise InvalidField(
            "unknown_type",
            f"transaction {tx_id}: unknown type {str(tx_type)[:40]!r}; expected one of: "
            + ", ".join(TRANSACTION_TYPES),
        )
    schema = SCHEMAS[tx_type]
    try:
        tx_date = _date("date", raw["date"])
        for key in COMMON_OPTIONAL:
            if key in raw:
                _text(key, raw[key])
        unknown = [
            k
            for k in raw
            if k not in COMMON_REQUIRED
            and k not in COMMON_OPTIONAL
            and k not in schema.required
            and k not in schema.optional
        ]
        if unknown:
            raise InvalidField("unknown_field", f"unknown field '{unknown[0]}' for a {tx_type}")
        fields: dict[str, Any] = {}
        for key, parser in schema.required.items():
            if key not in raw:
                raise InvalidField("missing_field", f"missing field '{key}' for a {tx_type}")
            fields[key] = parser(key, raw[key])
        for key, parser in schema.optional.items():
            fields[key] = parser(key, raw[key]) if raw.get(key) is not None else None
        check = CROSS_CHECKS.get(tx_type)
        if check is not None:
            check(fields)
    except InvalidField as e:
        raise InvalidField(e.code, f"{tx_type} {tx_id}: {e.message}") from None
    return Transaction(id=tx_id, type=tx_type, date=tx_date, fields=fields, raw=raw)
