"""The projection tables as their writers see them: columns, emptying, indexes.

The catch-up and the rebuild write the same tables (ledger/storage/schema.py); what both
need to know of them, beyond the schema, is here: the columns each row is written with,
how a rebuild empties the tables without blocking on a reader, and how it drops their
indexes and creates them again.

Must not: fold events, read the journal, or touch `hl_meta` but through
projections/engine/position.py.
"""

from __future__ import annotations

from sqlalchemy import Index
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.schema import CreateIndex

from ledger.storage import schema
from ledger.storage.database import Connection
from projections.engine import position

#: Every column of each projection table, `row_id` included (the writer assigns it).
COLUMNS = {t.name: [c.name for c in t.columns] for t in schema.PROJECTION_TABLES}
LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE for a lock NOWAIT could not take
#: SQLAlchemy's dialects, to write the schema's CREATE INDEX statements (untyped there).
DIALECTS = {"sqlite": sqlite.dialect(), "postgresql": postgresql.dialect()}  # type: ignore[no-untyped-call]


def empty(conn: Connection) -> bool:
    """Empty the projection tables; True if the rebuild may drop their indexes.

    PostgreSQL: the lock on the position first (as a catch-up), then TRUNCATE if no
    other session has the tables open (`NOWAIT`): it leaves no dead copy of every row
    behind, as DELETE does, and it (like DROP INDEX) needs the tables to itself, which
    a reader's open transaction would deny until it ends. Otherwise DELETE, indexes
    kept. SQLite: DELETE (a truncation there); readers never block the writer."""
    names = ", ".join(t.name for t in schema.PROJECTION_TABLES)
    if not conn.is_pg:
        for table in schema.PROJECTION_TABLES:
            conn.execute(f"DELETE FROM {table.name}")
        return True
    position.lock(conn)
    conn.execute("SAVEPOINT hl_rebuild_lock")
    try:
        conn.execute(f"LOCK TABLE {names} IN ACCESS EXCLUSIVE MODE NOWAIT")
    except Exception as error:
        if getattr(error, "pgcode", None) != LOCK_NOT_AVAILABLE:
            raise
        conn.execute("ROLLBACK TO SAVEPOINT hl_rebuild_lock")
        for table in schema.PROJECTION_TABLES:
            conn.execute(f"DELETE FROM {table.name}")
        return False
    conn.execute(f"TRUNCATE {names}")
    return True


def drop_indexes(conn: Connection) -> list[Index]:
    """Drop the projection tables' indexes (those of ledger/storage/schema.py); returns
    them."""
    dropped = [
        index
        for table in schema.PROJECTION_TABLES
        for index in sorted(table.indexes, key=lambda i: str(i.name))
    ]
    for index in dropped:
        conn.execute(f"DROP INDEX IF EXISTS {index.name}")
    return dropped


def create_indexes(conn: Connection, indexes: list[Index]) -> None:
    for index in indexes:
        conn.execute(str(CreateIndex(index).compile(dialect=DIALECTS[conn.dialect])))
