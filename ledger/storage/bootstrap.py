"""Creating and checking the schema: the library's events table plus the projections.

`init` creates everything once, the reporting views (`ledger/storage/views.py`) with
the tables. Other commands create it on first use when it is missing (so the embedded
SQLite default needs no setup), upgrade a database of an older schema version, and refuse
one whose schema was written by a newer version of the ledger. On PostgreSQL, run `init`
once before starting several writers: concurrent CREATE TABLEs can fail.

Checking a schema of this version reads one row, with the standard library: SQLAlchemy
and the library are imported only to create or upgrade one (a quick start, issue 15).
"""

from __future__ import annotations

from ledger.errors import DatabaseUnavailable
from ledger.storage import views
from ledger.storage.access import cannot_write, share_views
from ledger.storage.database import Connection, Database
from ledger.storage.layout import SCHEMA_KEY, SCHEMA_VERSION

#: The columns of `hl_movements` schema version 6 added.
SHARE_COLUMNS = ("price_eur", "net_proceeds_eur")


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
    if version is not None and version > SCHEMA_VERSION:
        raise DatabaseUnavailable(
            f"the database {db.display} was written by a newer housing-ledger "
            f"(schema version {version}; this version knows up to {SCHEMA_VERSION}): "
            "upgrade housing-ledger"
        )
    if version is not None and (version == SCHEMA_VERSION or db.read_only):
        return
    if version is not None:
        try:
            upgrade(db, conn, version)
        except Exception as error:
            if not cannot_write(getattr(error, "orig", error)):
                raise
            conn.rollback()  # a role that may only read (an auditor): as a read-only SQLite
        return
    if not create or db.read_only:
        raise DatabaseUnavailable(
            f"the database {db.display} has no ledger yet: run `housing-ledger init` first"
        )
    create_schema(db, conn)


def create_schema(db: Database, conn: Connection) -> None:
    """Create the events table (by the library), the projection tables and the reporting
    views (idempotent). A database of an older schema version is upgraded."""
    from sqlalchemy import create_engine, inspect

    from ledger.storage import schema
    from ledger.storage.application import EVENTS_TABLE, HousingLedger, persistence_env

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
    version = stored_version(conn)
    if version is not None and version < schema.SCHEMA_VERSION:
        upgrade(db, conn, version)
        return
    if version is None:  # a new schema: its views and version with it
        with conn.transaction():
            if conn.scalar("SELECT 1 FROM hl_meta WHERE key = ?", (SCHEMA_KEY,)) is None:
                _create_views(conn)
                conn.execute(
                    "INSERT INTO hl_meta (key, value) VALUES (?, ?)",
                    (SCHEMA_KEY, str(schema.SCHEMA_VERSION)),
                )


def _create_views(conn: Connection) -> None:
    """The reporting views, created or replaced, and readable by the tables' readers."""
    views.create(conn)
    share_views(conn)


#: The key of `hl_meta` that holds the projections' position (projections/engine/position.py).
POSITION_KEY = "projection_position"


def _fold_again(conn: Connection) -> None:
    """Empty the projections (and the tally derived from them) and set their position back
    to 0, in the upgrade's database transaction: the journal is untouched, and the next
    catch-up writes every row again with the fold of this version."""
    from ledger.storage import schema

    for table in (*schema.PROJECTION_TABLES, schema.holding_days):
        conn.execute(f"DELETE FROM {table.name}")
    conn.execute("DELETE FROM hl_meta WHERE key = ?", (POSITION_KEY,))


def upgrade(db: Database, conn: Connection, version: int) -> None:
    """Bring a database of an older schema version up to this one (in one transaction).
    Version 2 adds the holdings tally, derived from the current periods; version 3 the
    partial indexes of the usufruct and bare-ownership periods; version 4 the reporting
    views; version 5 the column `hl_units.rpls` (NULL in older rows: they have no RPLS
    values, which only version 2 of `Unit.Entered` records); version 6 the columns
    `hl_movements.price_eur` and `net_proceeds_eur` (NULL in older rows: only version 2
    of `Unit.Sold` records a unit's shares), and the views again (`hl_v_movements` gains
    them); version 7 writes the law of a usufruct's term into the projections
    (docs/decisions/0008), so an older database's projections are emptied and their
    position set back to 0: the next catch-up folds the journal again (a rebuild when the
    journal is long), as the new fold does, and the views are created again; version 8
    the tables of the zoning vintages, `hl_zonings` and `hl_zone_classes` (empty: no
    vintage could be recorded before them); version 9 the partial index of the usufruct
    terms' movements by unit (`hl_movements_term`)."""
    from sqlalchemy import create_engine, inspect
    from sqlalchemy.schema import CreateIndex

    from ledger.storage import schema

    engine = create_engine(db.url)
    try:
        # The tally (version 2), and any projection table added since (emptied below).
        schema.metadata.create_all(engine, tables=[*schema.PROJECTION_TABLES, schema.holding_days])
        columns = inspect(engine)
        has_rpls = any(c["name"] == "rpls" for c in columns.get_columns("hl_units"))
        movement_columns = {c["name"] for c in columns.get_columns("hl_movements")}
    finally:
        engine.dispose()
    with conn.transaction():
        lock = " FOR UPDATE" if conn.is_pg else ""  # SQLite: BEGIN IMMEDIATE has locked
        version = int(conn.scalar(f"SELECT value FROM hl_meta WHERE key = ?{lock}", (SCHEMA_KEY,)))
        if version >= schema.SCHEMA_VERSION:  # a concurrent command upgraded it first
            return
        if version < 2:
            for statement in schema.DERIVE_HOLDING_DAYS:
                conn.execute(statement)
        for index in schema.term_indexes if version < 9 else ():
            conn.execute(
                str(CreateIndex(index, if_not_exists=True).compile(dialect=engine.dialect))
            )
        if version < 3:
            for index in schema.dismembered_indexes:
                conn.execute(
                    str(CreateIndex(index, if_not_exists=True).compile(dialect=engine.dialect))
                )
        if version < 5 and not has_rpls:
            conn.execute("ALTER TABLE hl_units ADD COLUMN rpls TEXT")
        for column in SHARE_COLUMNS:  # version 6
            if column not in movement_columns:
                conn.execute(f"ALTER TABLE hl_movements ADD COLUMN {column} TEXT")
        if version < 7:
            _fold_again(conn)
        _create_views(conn)  # version 4 created them, version 6 changed hl_v_movements
        conn.execute(
            "UPDATE hl_meta SET value = ? WHERE key = ?", (str(schema.SCHEMA_VERSION), SCHEMA_KEY)
        )
