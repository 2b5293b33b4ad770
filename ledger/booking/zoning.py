"""The A/B/C zoning: a zoning file read, its vintage recorded, and the zones of unit lines
checked against the vintage in force on their date.

A zoning file gives the A/B/C zone of each commune: one vintage, in force from its
effective date until the next one. `reference zoning` records it as a `zoning_vintage`
transaction (`vintage_transaction`: every commune's class, the file's SHA-256), the
register of vintages (`ledger.domain.ZoningRegister`) finds the one in force on a date,
and `zoned_units` checks (or, where a line gives none, supplies) each unit's zone. A file
can also give an RPLS-shaped import the zones its lines lack (docs/rpls.md, "Import").

The file is one vintage of the zoning (`ledger/reference/` ships two): `;`-separated
UTF-8 (a byte-order mark is ignored), a header row, the commune code in the first column
and the zone in the one column named `zone` or starting with `Zone`. The arrondissements
of Paris, Lyon and Marseille are looked up as their commune (the unit keeps its own code).

Must not: guess. A bad row is an error (`ZONING:LINE: message`), never skipped, and a
commune the file does not list has no zone.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING, Any

from eventsourcing.domain import Aggregate

from ledger.booking.unitlines import UnitSpec
from ledger.domain import RecordedTransaction, ZoningRegister, transaction_key, zoning_key
from ledger.domain.values import COMMUNE_PATTERN, Zone
from ledger.errors import RuleViolation
from ledger.reference import SHIPPED

if TYPE_CHECKING:
    from ledger.booking.book import Book, Booked
    from ledger.booking.transactions import Transaction

_ZONES = frozenset(z.value for z in Zone)

#: (first, last) arrondissement code and the commune they belong to.
ARRONDISSEMENTS = (
    (75101, 75120, "75056"),  # Paris
    (69381, 69389, "69123"),  # Lyon
    (13201, 13216, "13055"),  # Marseille
)


def city_of(commune: str) -> str:
    """The commune code a zoning file lists for `commune`: the city of an arrondissement,
    else the code itself."""
    if commune.isdigit():
        number = int(commune)
        for first, last, city in ARRONDISSEMENTS:
            if first <= number <= last:
                return city
    return commune


class ZoningError(Exception):
    """The zoning file cannot be used; `messages` are `ZONING:LINE: message` lines."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("\n".join(messages))
        self.messages = messages


@dataclass(frozen=True, slots=True)
class Zoning:
    """One vintage of the A/B/C zoning: commune code -> zone."""

    name: str
    zones: dict[str, str]

    def zone_of(self, commune: str) -> str | None:
        return self.zones.get(city_of(commune))


def read_zoning(name: str, lines: Iterable[str]) -> Zoning:
    """The zoning of a file's text lines (`name` is how errors name the file); raises
    `ZoningError` with every error found."""
    errors: list[str] = []
    zones: dict[str, str] = {}
    column = -1
    for number, row in enumerate(csv.reader(lines, delimiter=";"), start=1):
        cells = [cell.strip(" \t\r\n\ufeff") for cell in row]
        if number == 1:
            matches = [i for i, c in enumerate(cells) if c == "zone" or c.startswith("Zone")]
            if len(matches) != 1:
                found = "no" if not matches else "more than one"
                raise ZoningError([f"{name}:1: {found} column named zone or starting with Zone"])
            column = matches[0]
            continue
        if not any(cells):
            continue
        if len(cells) <= column:
            errors.append(
                f"{name}:{number}: {len(cells)} cells, the zone is in column {column + 1}"
            )
            continue
        commune, zone = cells[0], cells[column]
        if not COMMUNE_PATTERN.fullmatch(commune):
            errors.append(f'{name}:{number}: "{commune}" is not an INSEE commune code')
        elif zone not in _ZONES:
            errors.append(
                f'{name}:{number}: commune {commune}: zone "{zone}" is not one of '
                + ", ".join(sorted(_ZONES))
            )
        elif commune in zones:
            errors.append(f"{name}:{number}: commune {commune} is listed twice")
        else:
            zones[commune] = zone
    if column < 0:
        errors.append(f"{name}:1: empty file: no header row")
    if errors:
        raise ZoningError(errors)
    return Zoning(name, zones)


def load_zoning(name: str, path: str) -> Zoning:
    """The zoning of the file at `path`; raises `ZoningError` (or OSError)."""
    with open(path, encoding="utf-8-sig", newline="") as f:
        try:
            return read_zoning(name, f)
        except UnicodeDecodeError as e:
            raise ZoningError([f"{name}: invalid UTF-8 at byte {e.start}"]) from None
        except csv.Error as e:
            raise ZoningError([f"{name}: {e}"]) from None


# --- vintages in the journal (issue 14, docs/decisions/0010-zoning-vintages.md) ----------

#: The zoning scheme whose vintages the ledger records.
SCHEME = "abc"


def file_sha256(path: str) -> str:
    """The SHA-256 of a file's bytes, as a vintage records it."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def vintage_id(effective: date, sha256: str) -> str:
    """The transaction id of a vintage: its effective date and its file's hash, so the
    same file recorded again for the same date is the same transaction (recorded once)."""
    return f"zoning-{SCHEME}-{effective.isoformat()}-{sha256[:12]}"


def vintage_transaction(
    zoning: Zoning,
    effective: date,
    sha256: str,
    source: str,
    file: str | None = None,
    transaction_id: str | None = None,
) -> dict[str, Any]:
    """The `zoning_vintage` transaction of a zoning file (the input format, a JSON object):
    the class of every commune the file lists, in the file's order."""
    tx: dict[str, Any] = {
        "id": transaction_id or vintage_id(effective, sha256),
        "type": "zoning_vintage",
        "date": effective.isoformat(),
        "source": source,
    }
    if file is not None:
        tx["file"] = file
    tx["sha256"] = sha256
    tx["zones"] = zoning.zones
    return tx


def book_zoning_vintage(book: Book, tx: Transaction, booked: Booked) -> list[Aggregate]:
    """Record a vintage in the register (opened by the first one)."""
    register: ZoningRegister | None = book._get(zoning_key(SCHEME))
    zones: dict[str, str] = tx["zones"]
    if register is None:
        register = ZoningRegister._create(
            ZoningRegister.Opened, id=zoning_key(SCHEME), scheme=SCHEME
        )
        book.aggregates[register.id] = register
    register.record(tx.id, tx.date, tx["sha256"], len(zones))
    book.zone_maps[tx.id] = zones
    return [register]


def reverse_vintage(book: Book, target: str, reversal: str, on: date) -> ZoningRegister:
    """Take a vintage out of the register: the zoning in force is the one before it."""
    register: ZoningRegister = book._get(zoning_key(SCHEME))
    register.reverse(target, reversal, on)
    book.zone_maps.pop(target, None)
    return register


def _vintage_zones(book: Book, transaction: str) -> dict[str, str]:
    """The classes of a vintage: from this import, else from its journal entry."""
    zones = book.zone_maps.get(transaction)
    if zones is None:
        recorded: RecordedTransaction = book._get(transaction_key(transaction))
        zones = json.loads(recorded.content)["zones"]
        book.zone_maps[transaction] = zones
    return zones


def zoned_units(book: Book, units: Sequence[UnitSpec], tx: Transaction) -> Sequence[UnitSpec]:
    """The units of a line with their zone: checked against the vintage in force on the
    line's date, or taken from it where the line gives none. Before the earliest vintage
    (or with none recorded) a declared zone stands, and one is required."""
    register: ZoningRegister | None = book._get(zoning_key(SCHEME))
    vintage = register.in_force(tx.date) if register is not None else None
    if vintage is None:
        for spec in units:
            if spec.zone is None:
                earliest = register.earliest() if register is not None else None
                since = (
                    f"the earliest is in force from {earliest}"
                    if earliest is not None
                    else "none is recorded: housing-ledger reference zoning"
                )
                raise RuleViolation(
                    "zone_required",
                    f"unit {spec.unit_id}: no zone given, and no zoning vintage is in force on "
                    f"{tx.date} ({since})",
                )
        return units
    name, effective = vintage
    zones = _vintage_zones(book, name)
    derived: list[UnitSpec] | None = None
    for i, spec in enumerate(units):
        found = zones.get(city_of(spec.commune))
        if found is None:
            raise RuleViolation(
                "commune_not_in_zoning",
                f"unit {spec.unit_id}: commune {spec.commune} is not in zoning vintage {name} "
                f"(in force from {effective}), the vintage in force on {tx.date}",
            )
        if spec.zone is None:
            if derived is None:
                derived = list(units)
            derived[i] = replace(spec, zone=Zone(found))
        elif spec.zone.value != found:
            raise RuleViolation(
                "zone_mismatch",
                f"unit {spec.unit_id}: commune {spec.commune} is in zone {found} on {tx.date} "
                f"by zoning vintage {name} (in force from {effective}), not {spec.zone.value}",
            )
    return units if derived is None else derived


def file_vintage(
    path: str,
    effective: date,
    source: str,
    transaction_id: str | None = None,
) -> dict[str, Any]:
    """The `zoning_vintage` transaction of the zoning file at `path` (raises ZoningError
    or OSError)."""
    name = os.path.basename(path)
    zoning = load_zoning(name, path)
    return vintage_transaction(zoning, effective, file_sha256(path), source, name, transaction_id)


def shipped_vintages() -> list[dict[str, Any]]:
    """The transactions of the vintages shipped in ledger/reference (`SHIPPED`)."""
    return [file_vintage(str(v.path), v.effective, v.source) for v in SHIPPED]
