"""The journal: eventsourcing's events table, read and written through plain DBAPI.

The table and the stored format are the library's own (`housingledger_events`, created by
eventsourcing-sqlalchemy; states encoded by the application's mapper), so the library can
read everything written here. What this adapter adds:

- `append` (and `writing`, for an import written as it is read) writes a whole import in
  one database transaction that holds the journal's
  write lock (SQLite `BEGIN IMMEDIATE`; PostgreSQL `LOCK TABLE ... IN EXCLUSIVE MODE`, the
  lock the library itself takes), checks the optimistic-concurrency expectations under
  that lock, and gives events explicit consecutive ids, so positions have no gaps and
  commit order is id order on both databases;
- `read_page` reads the journal in keyset pages for the projections (no ORM, no event
  objects: see docs/decisions/0003-fast-journal-reads.md).
"""

from __future__ import annotations

import os
import signal
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from ledger.booking.ports import Expectations, Pending, stored_form
from ledger.errors import ConcurrencyConflict, DatabaseUnavailable
from ledger.storage.application import EVENTS_TABLE
from ledger.storage.database import Connection

#: A test's fault point (tests/reliability/test_streamed_import_crashes.py): the process
#: kills itself (SIGKILL, no clean-up) at the point this variable names: `write:N` just
#: after the N-th `JournalWriter.write` of a transaction, `commit` just before its
#: commit, `committed` just after it.
FAULT_VARIABLE = "HOUSING_LEDGER_FAULT"
CHUNK = 500
APPEND_CHUNK = 10_000  # rows built and sent at a time: bounds the memory of an append
#: SQLite's page cache while `writing` holds the journal, in KiB (a negative `cache_size`):
#: a million-unit import's peak memory is 190 MiB lower than with the connection's 256 MiB,
#: for a 100k import 0-7% slower (docs/performance.md, "The streamed import").
WRITE_CACHE_KIB = 65_536
EVENT_COLUMNS = ("id", "originator_id", "originator_version", "topic", "state")
AfterAppend = Callable[[Connection, int, Sequence[StoredEvent]], None]


def is_integrity_error(error: BaseException) -> bool:
    if isinstance(error, sqlite3.IntegrityError):
        return True
    try:
        import psycopg2

        return isinstance(error, psycopg2.IntegrityError)
    except ImportError:  # pragma: no cover
        return False


def database_error(error: BaseException) -> DatabaseUnavailable | None:
    """The DatabaseUnavailable to raise for a driver error, or None if it is not one."""
    if isinstance(error, sqlite3.OperationalError | sqlite3.DatabaseError):
        return DatabaseUnavailable(f"the database refused the operation: {error}")
    try:
        import psycopg2

        if isinstance(error, psycopg2.Error) and not isinstance(error, psycopg2.IntegrityError):
            first = (
                str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            )
            return DatabaseUnavailable(f"the database refused the operation: {first}")
    except ImportError:  # pragma: no cover
        pass
    return None


class JournalWriter:
    """Stores events at the end of the journal, inside `SqlEventStore.writing`'s database
    transaction: consecutive positions from `head` + 1, the `after_append` hooks run on
    each call. What it wrote is visible to the store's reads on the same connection."""

    def __init__(self, store: SqlEventStore, head: int) -> None:
        self.store = store
        self.head = head
        self.written = 0
        self.writes = 0
        self.abandoned = False

    def write(self, events: Sequence[Pending]) -> list[int]:
        """Store `events` in this order; their positions. They are made in stored form,
        sent and hooked (`after_append`: the chain's links) `APPEND_CHUNK` at a time, so
        what a call holds besides `events` is bounded."""
        store, first = self.store, self.head
        for start in range(0, len(events), APPEND_CHUNK):
            chunk = list(map(stored_form, events[start : start + APPEND_CHUNK]))
            store.conn.insert_many(store.table, EVENT_COLUMNS, store._rows(first + start, chunk))
            for hook in store.after_append:
                hook(store.conn, first + start + 1, chunk)
        self.head += len(events)
        self.written += len(events)
        self.writes += 1
        fault(f"write:{self.writes}")
        return list(range(first + 1, self.head + 1))

    def abandon(self) -> None:
        """Write nothing after all: the transaction is rolled back at the end of the block."""
        self.abandoned = True


def fault(point: str) -> None:
    """Kill this process at `point` if the test's fault variable names it."""
    if os.environ.get(FAULT_VARIABLE) == point:
        os.kill(os.getpid(), signal.SIGKILL)


def _key(key: UUID | str) -> UUID:
    return key if type(key) is UUID else UUID(str(key))


class SqlEventStore:
    def __init__(self, conn: Connection, after_append: Sequence[AfterAppend] = ()) -> None:
        self.conn = conn
        self.table = EVENTS_TABLE
        self.after_append = list(after_append)

    # -- keys ----------------------------------------------------------------------
    def _param(self, key: UUID | str) -> Any:
        if isinstance(key, str):
            key = UUID(key)
        return str(key) if self.conn.is_pg else key.bytes

    def _uuid(self, value: Any) -> UUID:
        if isinstance(value, UUID):
            return value
        return UUID(value) if isinstance(value, str) else UUID(bytes=bytes(value))

    @property
    def key_hex(self) -> str:
        """SQL giving originator_id as 32 lowercase hex digits on both databases."""
        return (
            "replace(originator_id::text, '-', '')"
            if self.conn.is_pg
            else "lower(hex(originator_id))"
        )

    @property
    def state_column(self) -> str:
        """SQL giving the stored state: on PostgreSQL as text, which psycopg2 reads faster
        than `bytea` (docs/decisions/0003-fast-journal-reads.md)."""
        return "convert_from(state, 'UTF8')" if self.conn.is_pg else "state"

    # -- reading -------------------------------------------------------------------
    def head(self) -> int:
        return int(self.conn.scalar(f"SELECT COALESCE(MAX(id), 0) FROM {self.table}") or 0)

    def load(self, originator_ids: Iterable[UUID]) -> list[StoredEvent]:
        keys = list(originator_ids)
        events: list[StoredEvent] = []
        for start in range(0, len(keys), CHUNK):
            chunk = keys[start : start + CHUNK]
            rows = self.conn.query(
                f"SELECT originator_id, originator_version, topic, state FROM {self.table} "
                f"WHERE originator_id IN {self.conn.in_list(chunk)} "
                "ORDER BY originator_id, originator_version",
                [self._param(k) for k in chunk],
            )
            events.extend(
                StoredEvent(
                    originator_id=self._uuid(oid),
                    originator_version=version,
                    topic=topic,
                    state=bytes(state),
                )
                for oid, version, topic, state in rows
            )
        return events

    def read_page(self, after: int, limit: int, upto: int | None = None) -> list[tuple[Any, ...]]:
        """(position, key hex, topic, state) of the events after `after`, in order."""
        stop = "" if upto is None else " AND id <= ?"
        params: list[Any] = [after] + ([] if upto is None else [upto]) + [limit]
        return self.conn.query(
            f"SELECT id, {self.key_hex}, topic, {self.state_column} FROM {self.table} "
            f"WHERE id > ?{stop} ORDER BY id LIMIT ?",
            params,
        )

    # -- writing -------------------------------------------------------------------
    def append(self, events: Sequence[StoredEvent], expect: Expectations) -> list[int]:
        with self.writing() as writer:
            self._check(expect)
            return writer.write(events)

    @contextmanager
    def writing(self) -> Iterator[JournalWriter]:
        """A database transaction holding the journal's write lock, for `JournalWriter.write`
        to store events in as many calls as wanted: committed at the end of the block,
        rolled back if it raises or calls `abandon`. Errors of the driver are raised as the
        ledger's (`ConcurrencyConflict`, `DatabaseUnavailable`)."""
        conn = self.conn
        cache = None if conn.is_pg else conn.scalar("PRAGMA cache_size")
        try:
            if cache is not None:
                conn.execute(f"PRAGMA cache_size = -{WRITE_CACHE_KIB}")
            conn.begin()
            try:
                if conn.is_pg:
                    conn.execute(f"LOCK TABLE {self.table} IN EXCLUSIVE MODE")
                writer = JournalWriter(self, self.head())
                yield writer
                if writer.written and conn.is_pg:
                    conn.execute(
                        "SELECT setval(pg_get_serial_sequence(?, 'id'), ?)",
                        (self.table, writer.head),
                    )
            except BaseException:
                conn.rollback()
                raise
            if writer.abandoned:
                conn.rollback()
            else:
                fault("commit")
                conn.commit()
                fault("committed")
        except Exception as e:
            if is_integrity_error(e):
                raise ConcurrencyConflict(
                    "another writer recorded a conflicting event at the same time; "
                    "nothing from this import was written: run it again (or use --retries)"
                ) from None
            unavailable = database_error(e)
            if unavailable is not None:
                raise unavailable from None
            raise
        finally:
            if cache is not None:
                conn.execute(f"PRAGMA cache_size = {int(cache)}")

    def _rows(self, after: int, events: Sequence[StoredEvent]) -> list[tuple[Any, ...]]:
        """Rows of EVENT_COLUMNS for events stored from position `after` + 1. On PostgreSQL
        the state is given as `bytea` hex text, so `insert_many` can send the rows by COPY
        rather than the multi-row INSERT that bytes need."""
        if self.conn.is_pg:  # a uuid is read from its 32 hex digits as well
            return [
                (
                    after + i,
                    _key(e.originator_id).hex,
                    e.originator_version,
                    e.topic,
                    "\\x" + e.state.hex(),
                )
                for i, e in enumerate(events, start=1)
            ]
        return [
            (after + i, _key(e.originator_id).bytes, e.originator_version, e.topic, e.state)
            for i, e in enumerate(events, start=1)
        ]

    def _check(self, expect: Expectations) -> None:
        head = self.head()
        if expect.head is not None:
            if head != expect.head:
                raise ConcurrencyConflict(
                    f"the journal moved from position {expect.head} to {head} while this file "
                    "was validated, and it contains a merger (whose units are read from the "
                    "projections); nothing was written: run the import again (or use --retries)"
                )
        if head == expect.read_at:  # nothing stored since validation began
            return
        keys = list(expect.versions)
        for start in range(0, len(keys), CHUNK):
            chunk = keys[start : start + CHUNK]
            rows = self.conn.query(
                f"SELECT originator_id, MAX(originator_version) FROM {self.table} "
                f"WHERE originator_id IN {self.conn.in_list(chunk)} GROUP BY originator_id",
                [self._param(k) for k in chunk],
            )
            found = {self._uuid(oid): version for oid, version in rows}
            for key in chunk:
                if found.get(key, 0) != expect.versions[key]:
                    label = expect.labels.get(key, f"aggregate {key}")
                    raise ConcurrencyConflict(
                        f"{label} was changed by another writer while this file was validated; "
                        "nothing was written: run the import again (or use --retries)"
                    )
