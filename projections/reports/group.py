"""The group's consolidated line of a statement: what the group as a whole holds, buys
and sells, by the perimeter of each date (`projections/perimeter.py`).

A consolidated figure counts only entities of the group on the date it is about, and
leaves out what passes between two of them: a sale by one group entity to another, a
merger inside the group, the end of a usufruct held by one for the bare owner another.
An entity that joins the group brings its stock of the eve of its entry (`joined`), one
that leaves takes its stock of the eve of its exit (`left`); the transactions dated on
the day of the change count with the perimeter as of that day. An entity absorbed by a
merger stays where it was (`Group`).

Must not: read the clock, or count an entity outside the group on the date.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from ledger.storage.database import Connection
from projections.perimeter import Perimeter, perimeter
from projections.reports import periods

#: Movement kinds by which a stock holder loses a unit, and gains one.
LOSSES = ("sold", "transferred", "usufruct_ended")
GAINS = ("registered", "acquired", "received", "reunited")
#: Losses and gains that come in pairs, one entity losing what another gains in the same
#: transaction: between two group entities they cancel out in the group's line.
PAIRED = ("transferred", "usufruct_ended", "received", "reunited")


def eve(day: str) -> str:
    """The day before an ISO date."""
    return (date.fromisoformat(day) - timedelta(days=1)).isoformat()


@dataclass(frozen=True, slots=True)
class Change:
    """An entity's entry into (`joined`) or exit from (`left`) the group on `day`."""

    day: str
    entity: str
    joined: bool


class Group:
    """The perimeter by date as a statement's group line reads it, at one position.

    An absorbed entity is left in the perimeter it was in when a merger absorbed it: it
    holds nothing afterwards, and so its rights pass to the absorbing entity inside the
    group (or from outside it) on the merger's date, the day the perimeter changes on for
    everything else too. Only `group_entry` and `group_exit` move an entity in or out."""

    def __init__(self, conn: Connection, position: int) -> None:
        self.conn, self.position = conn, position
        self.perimeter: Perimeter = perimeter(conn, position, absorbed_stay=True)

    def member(self, entity: str, day: str) -> bool:
        """Of the group for the transactions dated `day` (as of that day)."""
        return self.perimeter.is_member(entity, day)

    def members(self, day: str) -> set[str]:
        return set(self.perimeter.members(day))

    def changes(self, first_day: str, last_day: str) -> list[Change]:
        """Entries into and exits from the group dated between two days (inclusive), by a
        `group_entry` or a `group_exit` (a registration brings no stock, an absorbed
        entity's rights stay in the group)."""
        k_sql, k_params = periods.known("m", self.position)
        found = [
            Change(day, entity, joined == 1)
            for entity, day, joined in self.conn.query(
                "SELECT m.entity, m.from_date, 1 FROM hl_memberships m "
                "JOIN hl_transactions t ON t.id = m.opened_by "
                "WHERE t.type = 'group_entry' AND m.from_date >= ? AND m.from_date <= ? "
                f"AND {k_sql} "
                "UNION ALL SELECT m.entity, m.to_date, 0 FROM hl_memberships m "
                "JOIN hl_transactions t ON t.id = m.closed_by "
                f"WHERE t.type = 'group_exit' AND m.to_date >= ? AND m.to_date <= ? AND {k_sql}",
                [first_day, last_day, *k_params, first_day, last_day, *k_params],
            )
        ]
        return sorted(found, key=lambda c: (c.day, c.entity))

    def stock_moved(self, changes: list[Change]) -> tuple[int, int]:
        """(units joined, units left): each changing entity's stock on the eve of the day."""
        joined = left = 0
        for change in changes:
            units = periods.stock(self.conn, eve(change.day), self.position).get(change.entity, 0)
            if change.joined:
                joined += units
            else:
                left += units
        return joined, left

    def stock(self, day: str, entities: set[str] | None = None) -> int:
        """The group's stock as of `day`: its members' (among `entities` when given)."""
        held = periods.stock(self.conn, day, self.position)
        members = self.members(day)
        return sum(
            n for e, n in held.items() if e in members and (entities is None or e in entities)
        )


def consolidated_flows(
    conn: Connection, group: Group, year: periods.Year, position: int
) -> Counter[str]:
    """The group's flows of the year by movement kind: a group entity's movement counts
    unless its counterpart in the same transaction and unit is a group entity too."""
    v_sql, v_params = periods.valid_movement("m", position)
    window = [year.first_day, year.last_day]
    result: Counter[str] = Counter()
    single = ", ".join(f"'{k}'" for k in ("registered", "acquired", "sold", "dismembered"))
    for entity, day, kind, count in conn.query(
        "SELECT m.entity, m.date, m.kind, COUNT(*) FROM hl_movements m "
        f"WHERE m.date >= ? AND m.date <= ? AND m.kind IN ({single}) AND {v_sql} "
        "GROUP BY m.entity, m.date, m.kind",
        [*window, *v_params],
    ):
        if group.member(entity, day):
            result[kind] += int(count)
    paired = ", ".join(f"'{k}'" for k in PAIRED)
    by_transaction: dict[tuple[str, str], list[tuple[str, str, int]]] = {}
    for txn, day, entity, kind, count in conn.query(  # a merger of 300,000 units: 2 rows
        "SELECT m.txn, m.date, m.entity, m.kind, COUNT(*) FROM hl_movements m "
        f"WHERE m.date >= ? AND m.date <= ? AND m.kind IN ({paired}) AND {v_sql} "
        "GROUP BY m.txn, m.date, m.entity, m.kind",
        [*window, *v_params],
    ):
        by_transaction.setdefault((txn, day), []).append((entity, kind, int(count)))
    for (txn, day), moves in by_transaction.items():
        if not _count_towards_one(result, group, day, moves):
            _count_units(conn, result, group, txn, day, position)
    return result


def _count_towards_one(
    result: Counter[str], group: Group, day: str, moves: list[tuple[str, str, int]]
) -> bool:
    """Count a transaction's moves when every unit lost went to one entity (a sale, a
    merger of several entities into one, an extinction for one bare owner) or left the
    ledger: each loser's units pass between it and that entity. False when the moves are
    not of that shape (several gainers): they are counted unit by unit."""
    losses = [(e, k, n) for e, k, n in moves if k in LOSSES]
    gains = [(e, k, n) for e, k, n in moves if k in GAINS]
    lost, gained = sum(n for _, _, n in losses), sum(n for _, _, n in gains)
    if len(gains) > 1 or (gains and gained != lost):
        return False
    gainer_inside = bool(gains) and group.member(gains[0][0], day)
    from_outside = lost if not losses else 0
    for entity, kind, n in losses:
        if not group.member(entity, day):
            from_outside += n
        elif not gainer_inside:
            result[kind] += n  # out of the group (to an outsider, or out of the ledger)
    if gainer_inside:
        result[gains[0][1]] += from_outside if losses else gained
    return True


def _count(result: Counter[str], group: Group, day: str, moves: list[tuple[str, str, int]]) -> None:
    """Count the moves of units that all pass between the same two entities (or enter or
    leave the ledger): nothing when both are of the group."""
    inside = [(kind, n) for entity, kind, n in moves if group.member(entity, day)]
    if any(k in LOSSES for k, _ in inside) and any(k in GAINS for k, _ in inside):
        return
    for kind, n in inside:
        result[kind] += n


def _count_units(
    conn: Connection, result: Counter[str], group: Group, txn: str, day: str, position: int
) -> None:
    """Count a transaction's moves unit by unit (several entities on one side)."""
    v_sql, v_params = periods.valid_movement("m", position)
    paired = ", ".join(f"'{k}'" for k in PAIRED)
    units: dict[str, list[tuple[str, str, int]]] = {}
    for key, entity, kind in conn.query(
        "SELECT m.unit_key, m.entity, m.kind FROM hl_movements m "
        f"WHERE m.txn = ? AND m.date = ? AND m.kind IN ({paired}) AND {v_sql}",
        [txn, day, *v_params],
    ):
        units.setdefault(key, []).append((entity, kind, 1))
    for moves in units.values():
        _count(result, group, day, moves)


def as_row(entity: str, values: dict[str, Any]) -> dict[str, Any]:
    return {"entity": entity, **values}
