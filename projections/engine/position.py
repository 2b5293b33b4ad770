"""The projections' position: the last journal position folded into the stored projections.

It is one row of `hl_meta` (key `POSITION_KEY`), written in the same database
transaction as the rows folded up to it, so the projections and their position never
disagree. Every writer of the projections (catch-up, rebuild) takes `lock` before it
reads the position, so two writers never fold the same events; a reader compares the
position before and after a query to know what the projections held.

This module is the only one that reads or writes the position: it must not fold,
write projection rows, or know the schema version (ledger/storage/bootstrap.py keeps
that key of `hl_meta`).
"""

from __future__ import annotations

from ledger.storage.database import Connection

POSITION_KEY = "projection_position"


def read(conn: Connection) -> int | None:
    """The stored position, or None if no catch-up ever wrote one."""
    value = conn.scalar("SELECT value FROM hl_meta WHERE key = ?", (POSITION_KEY,))
    return int(value) if value is not None else None


def lock(conn: Connection) -> None:
    """Serialise the projections' writers, in the caller's database transaction.

    PostgreSQL: `SELECT ... FOR UPDATE` on the position row. SQLite: nothing to do, the
    transaction's write lock serialises writers."""
    if conn.is_pg:
        conn.execute("SELECT value FROM hl_meta WHERE key = ? FOR UPDATE", (POSITION_KEY,))


def write(conn: Connection, position: int) -> None:
    """Set the position (in the caller's database transaction)."""
    if conn.scalar("SELECT 1 FROM hl_meta WHERE key = ?", (POSITION_KEY,)):
        conn.execute("UPDATE hl_meta SET value = ? WHERE key = ?", (str(position), POSITION_KEY))
    else:
        conn.execute(
            "INSERT INTO hl_meta (key, value) VALUES (?, ?)", (POSITION_KEY, str(position))
        )
