"""The zone in force: which zoning vintage a query reads, and the SQL that reads it.

A unit's zone as of a date D is its commune's class in the vintage in force on D (the
latest recorded, not reversed, with its effective date on or before D), read from
`hl_zone_classes`; where no vintage is in force on D (before the earliest, or none
recorded) or the vintage does not list the commune, it is the zone recorded with the
unit, its *declared* zone. `--known-at P` reads the vintages as they stood at P: recorded
by P and not reversed by P (docs/decisions/0010-zoning-vintages.md).

Must not: write, or read anything but the projections (`hl_zonings`, `hl_zone_classes`,
`hl_transactions`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ledger.domain.values import TENSE_ZONES, Zone

if TYPE_CHECKING:
    from ledger.storage.database import Connection

#: What a zone taken from the unit's own line is said to come from.
DECLARED = "declared"
#: The tense zones as SQL (A bis, A, B1), in the order `Zone` declares them.
TENSE_SQL = ", ".join(f"'{zone.value}'" for zone in Zone if zone in TENSE_ZONES)


@dataclass(frozen=True, slots=True)
class Vintage:
    """A zoning vintage as recorded: its transaction's position and id, the day it took
    effect, its file's SHA-256, source and name, and how many communes it classes."""

    position: int
    id: str
    effective: str
    sha256: str
    source: str
    file: str | None
    communes: int

    def record(self) -> dict[str, Any]:
        return {
            "vintage": self.id,
            "effective": self.effective,
            "source": self.source,
            "file": self.file,
            "sha256": self.sha256,
            "communes": self.communes,
        }


def vintages(conn: Connection, known_at: int | None = None) -> list[Vintage]:
    """The vintages in force at journal position `known_at` (None: now), by effective date."""
    if known_at is None:
        where, params = "t.reversed_at IS NULL", []
    else:
        where = "z.position <= ? AND (t.reversed_at IS NULL OR t.reversed_at > ?)"
        params = [known_at, known_at]
    rows = conn.query(
        "SELECT z.position, z.id, z.effective, z.sha256, z.source, z.file, z.communes "
        "FROM hl_zonings z JOIN hl_transactions t ON t.position = z.position "
        f"WHERE {where} ORDER BY z.effective",
        params,
    )
    return [Vintage(int(p), i, e, h, s, f, int(n)) for p, i, e, h, s, f, n in rows]


def in_force(found: Sequence[Vintage], day: str) -> Vintage | None:
    """The vintage in force on `day`: the latest effective on or before it."""
    current = None
    for vintage in found:
        if vintage.effective <= day:
            current = vintage
    return current


@dataclass(frozen=True, slots=True)
class ZoneSql:
    """How a query reads the zone of its row `alias` (which has `commune` and `zone`):
    `zone` and `source` are SQL expressions, `join` the join they need (its parameters
    come before the query's own)."""

    zone: str
    source: str
    join: str
    params: list[Any]

    @property
    def tense(self) -> str:
        return f"CASE WHEN {self.zone} IN ({TENSE_SQL}) THEN 1 ELSE 0 END"


def zone_on(alias: str, vintage: Vintage | None, classes: str = "zc") -> ZoneSql:
    """The zone of row `alias` as of a day on which `vintage` is in force (None: the
    declared zone)."""
    if vintage is None:
        return ZoneSql(f"{alias}.zone", f"'{DECLARED}'", "", [])
    return ZoneSql(
        f"COALESCE({classes}.zone, {alias}.zone)",
        f"CASE WHEN {classes}.zone IS NULL THEN '{DECLARED}' ELSE '{_quoted(vintage.id)}' END",
        f" LEFT JOIN hl_zone_classes {classes} ON {classes}.position = ? "
        f"AND {classes}.commune = {alias}.commune",
        [vintage.position],
    )


def zone_at(alias: str, day: str, found: Sequence[Vintage], classes: str = "zc") -> ZoneSql:
    """The zone of row `alias` as of the day the SQL expression `day` gives, row by row:
    the vintage in force on each row's day (for the class at acquisition)."""
    if not found:
        return zone_on(alias, None, classes)
    cases = " ".join(f"WHEN {day} >= '{v.effective}' THEN {v.position}" for v in reversed(found))
    names = " ".join(
        f"WHEN {classes}.position = {v.position} THEN '{_quoted(v.id)}'" for v in found
    )
    return ZoneSql(
        f"COALESCE({classes}.zone, {alias}.zone)",
        f"CASE WHEN {classes}.zone IS NULL THEN '{DECLARED}' ELSE (CASE {names} END) END",
        f" LEFT JOIN hl_zone_classes {classes} ON {classes}.position = (CASE {cases} END) "
        f"AND {classes}.commune = {alias}.commune",
        [],
    )


def _quoted(text: str) -> str:
    """A transaction id inside a SQL string literal (ids have no quote, but be safe)."""
    return text.replace("'", "''")
