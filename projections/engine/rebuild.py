"""Rebuild: empty the stored projections and write them again from the journal alone, in
ONE database transaction (a failure part-way leaves the projections as they were).

The journal is folded in the replay's passes (projections/engine/passes.py: the entities,
businesses and transactions, then one pass per range of unit keys, memory bounded by
`replay.PASS_EVENTS`). Each pass sees the whole journal for its tables, so every row it
gives is final: its `known_to` and its reversal and voiding marks are already set. So each
row is inserted once, into tables without indexes (created at the end: a sort), and no
row is read back or updated, as a catch-up must. The holdings tally is then derived from
the periods in one statement, and the position set to the last transaction folded.

Must not: commit before every row and the position are written, or import the catch-up
(projections/engine/catchup.py calls this module, never the other way).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from operator import itemgetter
from typing import Protocol

from ledger.errors import IntegrityFailure
from ledger.gcpause import paused_gc
from ledger.storage import schema
from ledger.storage.database import Connection
from ledger.storage.eventstore import SqlEventStore
from projections.engine import passes, position, replay, tables, tally
from projections.engine.results import CatchUpResult
from projections.engine.tables import COLUMNS
from projections.fold.rows import Row

#: Rows sent to the database at a time.
CHUNK = 50_000


class Projections(Protocol):
    """Where the stored projections are: their connection and the journal they fold (a
    `Projector`, which calls this module)."""

    @property
    def conn(self) -> Connection: ...

    @property
    def store(self) -> SqlEventStore: ...


def rebuild(
    projector: Projections,
    progress: Callable[[int], None] | None = None,
    only_if_empty: bool = False,
) -> CatchUpResult | None:
    """Rebuild the stored projections (`only_if_empty`: only if they are at position 0
    once the catch-up lock is taken, else return None and change nothing)."""
    conn, store = projector.conn, projector.store
    started = time.perf_counter()
    folded = replay.Replayed()
    conn.begin()
    try:
        if only_if_empty and not _still_empty(conn):
            conn.rollback()
            return None
        dropped = tables.drop_indexes(conn) if tables.empty(conn) else []
        _write_passes(conn, store, folded, progress)
        tables.create_indexes(conn, dropped)
        tally.derive(conn)
        position.write(conn, folded.position)
        if conn.is_pg:  # the planner's statistics of the new tables (as autovacuum would)
            for table in schema.PROJECTION_TABLES:
                conn.execute(f"ANALYZE {table.name}")
    except BaseException:
        conn.rollback()
        raise
    conn.commit()
    return CatchUpResult(
        folded.transactions, folded.events, folded.position, time.perf_counter() - started
    )


def _still_empty(conn: Connection) -> bool:
    """Whether the projections are at position 0, under the catch-up lock."""
    position.lock(conn)
    return (position.read(conn) or 0) == 0


def _write_passes(
    conn: Connection,
    store: SqlEventStore,
    folded: replay.Replayed,
    progress: Callable[[int], None] | None,
) -> None:
    """Fold the journal (up to its head) pass by pass, inserting each pass's rows; a
    journal that does not fold is an integrity failure."""
    end = store.head()
    next_id = {table: 1 for table in COLUMNS}
    try:
        for one in passes.passes(store, end, replay.PASS_EVENTS, replay.PAGE):
            with paused_gc():
                rows = replay.fold_pass(one, True, folded)
                for name in list(rows):
                    next_id[name] = _insert(conn, name, rows.pop(name), next_id[name])
            if progress is not None:
                progress(folded.position)
    except passes.Unreplayable as e:
        raise IntegrityFailure(f"{e}; run `housing-ledger audit verify`") from None


def _insert(conn: Connection, table: str, rows: list[Row], first: int) -> int:
    """Insert `rows` (numbering their `row_id`s from `first`, if the table has one);
    returns the next free `row_id`."""
    columns = COLUMNS[table]
    if "row_id" in columns:
        for row_id, row in enumerate(rows, first):
            row["row_id"] = row_id
        first += len(rows)
    get = itemgetter(*columns)
    for start in range(0, len(rows), CHUNK):
        conn.insert_many(table, columns, [get(row) for row in rows[start : start + CHUNK]])
    return first
