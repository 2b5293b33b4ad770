"""Stock movement statement (tableau de passage) per entity for one year.

It reconciles each entity's stock (units held in full ownership or in usufruct) on
1 January with its stock on the next 1 January through the year's entries and exits, as
the RPLS filing and the board's accounts expect: every unit counted at the opening is
either still counted at the closing or has an exit dated in the year. The year is the
statements' one convention (`periods.Year`): stock as of 1 January, flows from 2 January
to the next 1 January included.

Opening and closing come from the holding periods (`hl_periods`) as of YEAR-01-01 and
YEAR+1-01-01; the flows from `hl_movements`, which the fold derives from each change of
the unit's stock holder (see `projections/fold/transactions.py`). So a merger that consolidates the
usufruct and the bare ownership of a unit in one entity is one `received` for it, and a
bare-ownership transfer moves nothing (it only counts in `dismembered`).

Must not: replay events, or compute flows by differencing holdings (that would hide a
movement the fold failed to record; the property tests check the identity instead).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import astuple, dataclass, fields
from typing import Any

from ledger.storage.database import Connection
from projections.render.formats import Document
from projections.reports import group, periods

#: Movement kinds of `hl_movements`, each a column of the statement.
FLOWS = (
    "registered",
    "acquired",
    "received",
    "reunited",
    "sold",
    "transferred",
    "usufruct_ended",
    "dismembered",
)


@dataclass(frozen=True, slots=True)
class MovementRow:
    entity: str
    opening: int
    registered: int
    acquired: int
    received: int
    reunited: int
    sold: int
    transferred: int
    usufruct_ended: int
    closing: int
    dismembered: int

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @property
    def balances(self) -> bool:
        """closing = opening + entries - exits."""
        entries = self.registered + self.acquired + self.received + self.reunited
        exits = self.sold + self.transferred + self.usufruct_ended
        return self.closing == self.opening + entries - exits


COLUMNS = tuple(f.name for f in fields(MovementRow))


def flows(conn: Connection, year: periods.Year, position: int) -> dict[str, dict[str, int]]:
    """{entity: {movement kind: units}} for the movements of the year's flows."""
    v_sql, params = periods.valid_movement("m", position)
    rows = conn.query(
        "SELECT m.entity, m.kind, COUNT(*) FROM hl_movements m "
        f"WHERE m.date >= ? AND m.date <= ? AND {v_sql} GROUP BY m.entity, m.kind",
        [year.first_day, year.last_day, *params],
    )
    result: dict[str, dict[str, int]] = defaultdict(dict)
    for entity, kind, count in rows:
        if kind not in FLOWS:
            raise ValueError(f"unknown movement kind {kind!r} for {entity}")
        result[entity][kind] = int(count)
    return result


def movement_rows(conn: Connection, year: int, position: int) -> list[MovementRow]:
    """The statement's rows, sorted by entity; rows with every field 0 left out."""
    y = periods.Year(year)
    opening = periods.stock(conn, y.opening_day, position)
    closing = periods.stock(conn, y.closing_day, position)
    moved = flows(conn, y, position)
    rows = []
    for entity in sorted(set(opening) | set(closing) | set(moved)):
        kinds = {kind: moved.get(entity, {}).get(kind, 0) for kind in FLOWS}
        row = MovementRow(
            entity=entity, opening=opening.get(entity, 0), closing=closing.get(entity, 0), **kinds
        )
        if not row.balances:
            raise periods.InconsistentStatement(
                f"tableau de passage {year}: {entity} does not balance (opening {row.opening}, "
                f"closing {row.closing}); check the projections with `replay --check`"
            )
        if any(astuple(row)[1:]):
            rows.append(row)
    return rows


#: The group line's columns: the rows', with the stock of the entities that joined or
#: left the group during the year (their stock on the eve of the change).
GROUP_COLUMNS = (*COLUMNS[:5], "joined", *COLUMNS[5:9], "left", *COLUMNS[9:])


def group_line(conn: Connection, year: int, position: int) -> dict[str, Any]:
    """The group's consolidated line: the stock of the entities of the group on each date,
    flows between two group entities left out (`projections/reports/group.py`)."""
    y = periods.Year(year)
    g = group.Group(conn, position)
    moved = group.consolidated_flows(conn, g, y, position)
    joined, left = g.stock_moved(g.changes(y.first_day, y.last_day))
    line: dict[str, Any] = {
        "entity": "group",
        "opening": g.stock(y.opening_day),
        **{k: moved[k] for k in FLOWS[:4]},
        "joined": joined,
        **{k: moved[k] for k in FLOWS[4:7]},
        "left": left,
        "closing": g.stock(y.closing_day),
        "dismembered": moved["dismembered"],
    }
    entries = sum(line[k] for k in (*FLOWS[:4], "joined"))
    exits = sum(line[k] for k in (*FLOWS[4:7], "left"))
    if line["closing"] != line["opening"] + entries - exits:
        raise periods.InconsistentStatement(
            f"tableau de passage {year}: the group line does not balance (opening "
            f"{line['opening']}, closing {line['closing']}); check the projections with "
            "`replay --check`"
        )
    return {c: line[c] for c in GROUP_COLUMNS}


def statement(conn: Connection, year: int, known_at: int | None = None) -> Document:
    position = periods.pin(conn, known_at)
    rows = movement_rows(conn, year, position)
    line = group_line(conn, year, position)
    return Document(
        {"year": year, **periods.Year(year).header(), "position": position},
        [r.as_dict() for r in rows],
        COLUMNS,
        extra={"group": line},
        title=f"Stock movements (tableau de passage) {year}",
        totals=line if rows else None,
    )
