"""Creating and checking the schema: the library's events table plus the projections.

`init` creates everything once. Other commands create it on first use when it is missing
(so the embedded SQLite default needs no setup), and refuse a database whose schema was
written by a newer version of the ledger. On PostgreSQL, run `init` once before starting
several writers: concurrent CREATE TABLEs can fail.
"""

from __future__ import annotations

from sqlalchemy import create_engine, inspect
from sqlalchemy.schema import CreateIndex

from ledger.errors import DatabaseUnavailable
from ledger.storage import schema
from ledger.storage.application import EVENTS_TABLE, HousingLedger, persistence_env
from ledger.storage.database import Connection, Database

SCHEMA_KEY = "schema_version"


def stored_version(conn: Connection) -> int | None:
    """The schema version recorded in the database, or None if there is no schema."""
    try:
        value = conn.scalar("SELECT value FROM hl_meta WHERE key = ?", (SCHEMA_KEY,))
    except Exception:
        conn.rollback()
        if conn.lost:  # not "no schema": the server closed the connection
            raise
        return None
    return int(value) if value is not None else None


def ensure_schema(db: Database, conn: Connection, create: bool = True) -> None:
    version = stored_version(conn)
    if version is not None and version > schema.SCHEMA_VERSION:
        raise DatabaseUnavailable(
            f"the database {db.display} was written by a newer housing-ledger "
            f"(schema version {version}; this version knows up to {schema.SCHEMA_VERSION}): "
            "upgrade housing-ledger"
        )
    if version is not None and (version == schema.SCHEMA_VERSION or db.read_only):
        return
    if version is not None:
        upgrade(db, conn, version)
        return
    if not create or db.read_only:
        raise DatabaseUnavailable(
            f"the database {db.display} has no ledger yet: run `housing-ledger init` first"
        )
    create_schema(db, conn)


def create_schema(db: Database, conn: Connection) -> None:
    """Create the events table (by the library) and the projection tables (idempotent)."""
    version = stored_version(conn)
    if version is not None and version > schema.SCHEMA_VERSION:
        ensure_schema(db, conn)  # raises: written by a newer housing-ledger
    try:
        HousingLedger(env=persistence_env(db.url, create_table=True))
        engine = create_engine(db.url)
        try:
            schema.metadata.create_all(engine)
            if EVENTS_TABLE not in inspect(engine).get_table_names():
                raise DatabaseUnavailable(f"the events table {EVENTS_TABLE} was not created")
        finally:
            engine.dispose()
    except DatabaseUnavailable:
        raise
    except Exception as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise DatabaseUnavailable(f"cannot create the schema in {db.display}: {first}") from None
    if stored_version(conn) is None:
        with conn.transaction():
            if conn.scalar("SELECT 1 FROM hl_meta WHERE key = ?", (SCHEMA_KEY,)) is None:
                conn.execute(
                    "INSERT INTO hl_meta (key, value) VALUES (?, ?)",
                    (SCHEMA_KEY, str(schema.SCHEMA_VERSION)),
                )


def upgrade(db: Database, conn: Connection, version: int) -> None:
    """Bring a database of an older schema version up to this one (in one transaction).
    Version 2 adds the holdings tally, derived from the current periods; version 3 the
    partial indexes of the usufruct and bare-ownership periods."""
    engine = create_engine(db.url)
    try:
        schema.metadata.create_all(engine, tables=[schema.holding_days])
    finally:
        engine.dispose()
    with conn.transaction():
        if version < 2:
            for statement in schema.DERIVE_HOLDING_DAYS:
                conn.execute(statement)
        if version < 3:
            for index in schema.dismembered_indexes:
                conn.execute(
                    str(CreateIndex(index, if_not_exists=True).compile(dialect=engine.dialect))
                )
        conn.execute(
            "UPDATE hl_meta SET value = ? WHERE key = ?", (str(schema.SCHEMA_VERSION), SCHEMA_KEY)
        )
