"""The documents the web view's pages show: the same `Document`s the CLI prints for the
same parameters (holdings, units, history, entities, the statements), built from the
projections' queries, plus the pages the CLI has no single command for (a unit's
attributes, one journal entry, an entity's stock over time, the audit).

A page's HTML, its JSON and its CSV downloads are renderings of one document, so what is
downloaded is exactly what is shown. Reading only: every function takes a connection
pinned to one snapshot (`Session.reading`) and runs queries; none writes.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING, Any

from projections import queries, register
from projections.render import charts
from projections.render.formats import Document

if TYPE_CHECKING:
    from ledger.storage.database import Connection

#: The register can hold a million rows: a page shows this many unless asked for more.
UNITS_SHOWN = 500
#: The most rows a page of the register or the journal may ask for.
MOST_ROWS = 50_000
UNIT_ATTRIBUTES = queries.UNIT_ATTRIBUTES
ENTITY_COLUMNS = ["entity", "name", "kind", "region", "status", "group", "parent"]


class Problem(Exception):
    """A request the view cannot answer, with its HTTP status and a message naming why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class NotFound(Exception):
    """What the page names does not exist in the ledger (HTTP 404)."""


def holdings(
    conn: Connection,
    as_of: str | None,
    entity: str | None,
    by: str | None,
    consolidated: bool,
    known_at: int | None,
) -> Document:
    """`holdings` as the CLI answers it (commands/queries.py)."""
    rows = queries.holdings(conn, as_of, entity, by, known_at)
    position = queries.position_at(conn, known_at)
    if consolidated:
        from projections.perimeter import group_holdings

        rows = group_holdings(conn, rows, as_of, position)
    header: dict[str, Any] = {"as_of": as_of, "position": position}
    extra = {}
    if by in ("zone", "tense"):
        zoning = queries.zoning_in_force(conn, as_of, known_at)
        header["zones_from"] = zoning["vintage"] if zoning else "declared"
        extra["zoning"] = zoning
    columns = ["entity", *([by] if by else []), "full_ownership", "usufruct", "bare_ownership"]
    return Document(header, [r.record(by) for r in rows], columns, extra=extra)


def units(
    conn: Connection,
    as_of: str | None,
    filters: register.Filters,
    known_at: int | None,
    limit: int,
) -> tuple[Document, bool]:
    """The first `limit` rows of `units` as the CLI lists them, and whether there are more."""
    position = queries.position_at(conn, known_at)
    found = register.units(conn, position, as_of, filters)
    rows = [r.record() for r in islice(found, limit + 1)]
    more = len(rows) > limit
    return Document({"as_of": as_of, "position": position}, rows[:limit], register.COLUMNS), more


def history(conn: Connection, unit_id: str, known_at: int | None) -> Document:
    """`history UNIT_ID` as the CLI answers it."""
    rows = queries.history(conn, unit_id, known_at)
    if rows is None:
        raise NotFound(f"unknown unit {unit_id}: it never appears in the journal")
    header = {"unit_id": unit_id, "position": queries.position_at(conn, known_at)}
    return Document(header, [r.record() for r in rows], queries.HISTORY_COLUMNS)


def journal(conn: Connection, after: int, limit: int, known_at: int | None) -> Document:
    """`journal --after --limit` as the CLI's JSON gives it (the content as filed)."""
    from ledger.storage.chain import journal as read_journal

    rows = [r.record() for r in read_journal(conn, after, limit, known_at)]
    return Document({"position": queries.position_at(conn, known_at)}, rows)


def journal_entry(conn: Connection, position: int, known_at: int | None) -> tuple[Document, str]:
    """One journal entry (a position), with its content exactly as filed."""
    from ledger.storage.chain import journal as read_journal

    if known_at is not None and position > known_at:
        raise NotFound(
            f"no transaction at position {position} when the journal ended at {known_at}"
        )
    found = next(read_journal(conn, position - 1, 1, known_at), None)
    if found is None or found.position != position:
        raise NotFound(f"no transaction starts at journal position {position}")
    reversal = queries.reversal(conn, position, known_at)
    row = found.record()
    transaction = row.pop("transaction")  # last, after the reversal's keys
    row["reversed_at"], row["reversed_by"] = reversal if reversal else (None, None)
    row["transaction"] = transaction
    return Document({"position": queries.position_at(conn, known_at)}, [row]), found.content


def entities(conn: Connection, as_of: str | None, known_at: int | None) -> Document:
    """`entities` as the CLI answers it (commands/entities.py)."""
    from commands.entities import entity_rows

    position = queries.position_at(conn, known_at)
    return Document(
        {"as_of": as_of, "position": position}, entity_rows(conn, position, as_of), ENTITY_COLUMNS
    )


@dataclass
class EntityPage:
    facts: dict[str, Any]
    memberships: list[dict[str, Any]]
    mergers: list[dict[str, Any]]
    stock: Document


def entity(conn: Connection, entity_id: str, known_at: int | None) -> EntityPage:
    """An entity: its register row, its periods of group membership, the mergers it took
    part in, and its stock (full ownership + usufruct) at the end of each year."""
    from commands.entities import entity_rows
    from projections.perimeter import perimeter

    position = queries.position_at(conn, known_at)
    facts = next((r for r in entity_rows(conn, position, None) if r["entity"] == entity_id), None)
    if facts is None:
        raise NotFound(f"unknown entity {entity_id}")
    memberships = [
        {"from_date": m.from_date, "to_date": m.to_date, "parent": m.parent}
        for m in perimeter(conn, position).by_entity.get(entity_id, [])
    ]
    mergers = [
        {"position": r.position, "id": r.id, "date": r.date, "reversed": r.reversed}
        for r in _touching(conn, entity_id, known_at)
        if r.type == "merger"
    ]
    stock = _stock_by_year(conn, entity_id, known_at, position)
    return EntityPage(facts, memberships, mergers, stock)


def _touching(conn: Connection, entity_id: str, known_at: int | None) -> list[queries.HistoryRow]:
    """The transactions that named the entity."""
    return queries.naming(conn, entity_id, known_at)


def _stock_by_year(
    conn: Connection, entity_id: str, known_at: int | None, position: int
) -> Document:
    latest = queries.latest_date(conn, known_at)
    first = queries.earliest_date(conn, known_at)
    rows: list[dict[str, Any]] = []
    if latest is not None and first is not None:
        for year in range(int(str(first)[:4]), int(latest[:4]) + 1):
            day = min(f"{year}-12-31", latest)
            held = queries.holdings(conn, day, entity_id, None, known_at)
            total = {"full_ownership": 0, "usufruct": 0, "bare_ownership": 0}
            for r in held:
                total["full_ownership"] += r.full_ownership
                total["usufruct"] += r.usufruct
                total["bare_ownership"] += r.bare_ownership
            rows.append({"as_of": day, **total})
    figure = charts.bar_chart(
        f"Stock of {entity_id} at the end of each year (full ownership + usufruct)",
        [charts.Bar(r["as_of"][:4], r["full_ownership"] + r["usufruct"]) for r in rows],
        {"neutral": "units held (full ownership + usufruct)"},
    )
    return Document(
        {"entity": entity_id, "position": position},
        rows,
        ["as_of", "full_ownership", "usufruct", "bare_ownership"],
        figure=figure,
    )


def today() -> str:
    return datetime.date.today().isoformat()
