"""The `entities` command: the register of entities as of a date, with their kind, their
status and their membership of the group (the perimeter: `projections/perimeter.py`).

It answers from the projections, caught up with the journal first, at one pinned
position (`--known-at`), and never writes the journal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from commands.options import as_of_option, emit, format_option, known_at_option
from commands.session import failures, session
from projections import queries
from projections.perimeter import Perimeter, perimeter
from projections.render.formats import Document

if TYPE_CHECKING:  # `--help` needs no database driver
    from ledger.storage.database import Connection

COLUMNS = ["entity", "name", "kind", "region", "status", "group", "parent"]


@click.command()
@as_of_option
@known_at_option
@format_option
@click.pass_context
def entities(ctx: click.Context, as_of: str | None, known_at: int | None, fmt: str) -> None:
    """The entities registered as of DATE, sorted by id: name, kind, region, status
    (`active`, or `absorbed` by a merger dated on or before DATE), whether the entity is
    a member of the group on DATE (`group`) and which member holds its shares
    (`parent`)."""
    s = session(ctx)
    with failures():
        conn = s.reading()
        position = queries.position_at(conn, known_at)
        rows = entity_rows(conn, position, as_of)
    emit(Document({"as_of": as_of, "position": position}, rows, COLUMNS), fmt)


def entity_rows(conn: Connection, position: int, as_of: str | None) -> list[dict[str, Any]]:
    """One row per entity registered on or before `as_of` (None: every one), as the ledger
    stood at `position`."""
    k_sql, k_params = queries.known("e", position)
    found = conn.query(
        "SELECT e.entity, e.name, e.kind, e.region, e.status, e.registered_on, t.date "
        "FROM hl_entities e LEFT JOIN hl_transactions t ON t.id = e.changed_by "
        f"WHERE {k_sql} ORDER BY e.entity",
        k_params,
    )
    groups: Perimeter = perimeter(conn, position)
    rows = []
    for entity, name, kind, region, status, registered_on, changed_on in found:
        if as_of is not None and registered_on > as_of:
            continue
        if status == "absorbed" and as_of is not None and changed_on > as_of:
            status = "active"  # absorbed by a merger dated after the day asked
        rows.append(
            {
                "entity": entity,
                "name": name,
                "kind": kind,
                "region": region,
                "status": status,
                "group": groups.is_member(entity, as_of),
                "parent": groups.parent(entity, as_of),
            }
        )
    return rows
