"""The group perimeter by date, as the ledger stood at one journal position: each
entity's kind, which entities are members of the group on a day, and which member holds
a member's shares (its parent). The consolidated statements and the `entities` command
read it here.

The perimeter is read once (`perimeter`), at a position the caller pinned
(`projections/reports/periods.py`: `pin`), from `hl_memberships` (one row per period of
membership, `from_date` inclusive, `to_date` exclusive), then answered from memory: a
group has tens of entities, a statement asks about every movement.

Must not: read the clock, replay events, load aggregates, or write.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from projections.queries import HoldingRow, known, latest_date

if TYPE_CHECKING:  # `--help` needs no database driver
    from ledger.storage.database import Connection

Day = str | date | None


def _iso(day: Day) -> str | None:
    return day.isoformat() if isinstance(day, date) else day


def kinds(conn: Connection, position: int) -> dict[str, str]:
    """Every entity registered at `position` (absorbed ones too) -> its kind."""
    k_sql, k_params = known("e", position)
    rows = conn.query(f"SELECT e.entity, e.kind FROM hl_entities e WHERE {k_sql}", k_params)
    return {entity: kind for entity, kind in rows}


@dataclass(frozen=True, slots=True)
class Membership:
    """A period of membership: from `from_date` (inclusive) to `to_date` (exclusive;
    None while the entity is a member), its shares held by `parent`."""

    entity: str
    parent: str | None
    from_date: str
    to_date: str | None

    def covers(self, day: str | None) -> bool:
        """A member on `day` (None: after every transaction, whatever its date)."""
        if day is None:
            return self.to_date is None
        return self.from_date <= day and (self.to_date is None or day < self.to_date)


class Perimeter:
    """The periods of membership of every entity, sorted by their start."""

    def __init__(self, periods: list[Membership]) -> None:
        self.by_entity: dict[str, list[Membership]] = {}
        for period in sorted(periods, key=lambda p: (p.entity, p.from_date, p.to_date or "")):
            self.by_entity.setdefault(period.entity, []).append(period)
        self._starts = {e: [p.from_date for p in ps] for e, ps in self.by_entity.items()}

    def _period(self, entity: str, day: Day) -> Membership | None:
        periods = self.by_entity.get(entity)
        if not periods:
            return None
        iso = _iso(day)
        if iso is None:
            return next((p for p in periods if p.to_date is None), None)
        # Periods of one entity never overlap: the last one starting on or before the day.
        # (A period that starts and ends on the same day covers no day.)
        index = bisect_right(self._starts[entity], iso)
        for period in reversed(periods[:index]):
            if period.covers(iso):
                return period
        return None

    def is_member(self, entity: str, day: Day) -> bool:
        """Whether `entity` is a member of the group on `day` (None: after every
        transaction)."""
        return self._period(entity, day) is not None

    def parent(self, entity: str, day: Day) -> str | None:
        """The member holding the shares of `entity` on `day` (None: not a member, the
        group's head, or not stated)."""
        period = self._period(entity, day)
        return period.parent if period is not None else None

    def members(self, day: Day) -> set[str]:
        """The members of the group on `day` (None: after every transaction)."""
        return {entity for entity in self.by_entity if self.is_member(entity, day)}


def perimeter(conn: Connection, position: int, absorbed_stay: bool = False) -> Perimeter:
    """The perimeter as the ledger stood at journal `position`. With `absorbed_stay`, a
    membership that a merger ended is left open: the absorbed entity holds nothing
    afterwards, so it stays where it was (how a statement's group line reads it)."""
    k_sql, k_params = known("m", position)
    to_date = "CASE WHEN t.type = 'merger' THEN NULL ELSE m.to_date END"
    join = " LEFT JOIN hl_transactions t ON t.id = m.closed_by"
    if not absorbed_stay:
        to_date, join = "m.to_date", ""
    rows = conn.query(
        f"SELECT m.entity, m.parent, m.from_date, {to_date} FROM hl_memberships m{join} "
        f"WHERE {k_sql}",
        k_params,
    )
    return Perimeter([Membership(*row) for row in rows])


def group_holdings(
    conn: Connection, rows: list[HoldingRow], as_of: str | None, position: int
) -> list[HoldingRow]:
    """`rows` of the entities of the group on the date (the latest date of the
    transactions without one) summed into rows of entity `group`, one per `--by` key: the
    group's holdings, consolidated. A unit whose usufruct and bare ownership are both held
    in the group counts under both rights, as in the entities' rows."""
    day = as_of if as_of is not None else latest_date(conn, position)
    members = perimeter(conn, position).members(day) if day is not None else set()
    totals: dict[Any, list[int]] = {}
    for row in rows:
        if row.entity in members:
            total = totals.setdefault(row.key, [0, 0, 0])
            total[0] += row.full_ownership
            total[1] += row.usufruct
            total[2] += row.bare_ownership
    found = [HoldingRow("group", key, *counts) for key, counts in totals.items() if any(counts)]
    return sorted(found, key=lambda r: (r.key is not None, r.key))
