"""One database URL -> connections, for SQLite (embedded default) and PostgreSQL.

The URL is parsed by `urls.py` and the schema is SQLAlchemy's (`schema.py`, imported only
to create or upgrade it); every command's queries, journal reads and writes, and projection
batches use a plain DBAPI connection through `Connection`,
which hides the two drivers' differences: parameter style, how a write transaction takes
the journal lock, how ids and bytes come back. No connection is opened at import time.
"""

from __future__ import annotations

import io
import itertools
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, redirect_stderr
from typing import Any

from ledger.errors import DatabaseUnavailable
from ledger.storage.urls import DatabaseUrl, NotAUrl, parse, redact

DEFAULT_URL = "sqlite:///housing-ledger.db"
SQLITE_BUSY_TIMEOUT_S = 30


_STREAMS = itertools.count(1)


class Connection:
    """A DBAPI connection and its dialect. SQL is written with `?` placeholders."""

    def __init__(self, raw: Any, dialect: str) -> None:
        self.raw = raw
        self.dialect = dialect
        self.is_pg = dialect == "postgresql"

    def sql(self, statement: str) -> str:
        return statement.replace("?", "%s") if self.is_pg else statement

    def execute(self, statement: str, params: Sequence[Any] = ()) -> Any:
        cursor = self.raw.cursor()
        cursor.execute(self.sql(statement), tuple(params))
        return cursor

    def query(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        cursor = self.execute(statement, params)
        rows = cursor.fetchall()
        cursor.close()
        return list(rows)

    def stream(
        self, statement: str, params: Sequence[Any] = (), size: int = 5000
    ) -> Iterator[list[tuple[Any, ...]]]:
        """The rows of a query in batches of `size`, fetched as they are used: the database
        holds the result (PostgreSQL: a server-side cursor, in the open transaction), this
        process one batch at a time."""
        if self.is_pg:
            cursor = self.raw.cursor(name=f"hl_stream_{next(_STREAMS)}")
            cursor.itersize = size
        else:
            cursor = self.raw.cursor()
        try:
            cursor.execute(self.sql(statement), tuple(params))
            while rows := cursor.fetchmany(size):
                yield list(rows)
        finally:
            cursor.close()

    def scalar(self, statement: str, params: Sequence[Any] = ()) -> Any:
        rows = self.query(statement, params)
        return rows[0][0] if rows else None

    def executemany(self, statement: str, rows: Iterable[Sequence[Any]]) -> None:
        rows = list(rows)
        if not rows:
            return
        cursor = self.raw.cursor()
        if self.is_pg:
            from psycopg2.extras import execute_batch

            execute_batch(cursor, self.sql(statement), rows, page_size=1000)
        else:
            cursor.executemany(statement, rows)
        cursor.close()

    def update_many(
        self, table: str, column: str, key: str, changes: Sequence[tuple[int, int]]
    ) -> None:
        """Set the integer `column` of the rows whose integer `key` is given: (key, value)
        pairs. PostgreSQL: one statement joining two arrays, not a round trip per page."""
        if not changes:
            return
        if self.is_pg:
            keys, values = zip(*changes, strict=True)
            self.execute(
                f"UPDATE {table} SET {column} = v.value FROM unnest(?::bigint[], ?::bigint[]) "
                f"AS v(key, value) WHERE {table}.{key} = v.key",
                (list(keys), list(values)),
            )
        else:
            self.raw.executemany(
                f"UPDATE {table} SET {column} = ? WHERE {key} = ?",
                [(value, k) for k, value in changes],
            )

    def insert_many(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        """INSERT many rows: COPY on PostgreSQL (multi-row VALUES for rows with bytes, such
        as events), `executemany` on SQLite."""
        if not rows:
            return
        names = ", ".join(columns)
        if self.is_pg and not any(isinstance(v, bytes | memoryview) for v in rows[0]):
            self._copy(table, names, rows)
        elif self.is_pg:
            from psycopg2.extras import execute_values

            cursor = self.raw.cursor()
            execute_values(cursor, f"INSERT INTO {table} ({names}) VALUES %s", rows, page_size=2000)
            cursor.close()
        else:
            marks = ", ".join("?" * len(columns))
            self.raw.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)

    def _copy(self, table: str, names: str, rows: Sequence[Sequence[Any]]) -> None:
        """PostgreSQL COPY in CSV form: NULL is an unquoted empty field, every text is
        quoted (so an empty text stays empty); COPY rather than INSERTs for bulk rows
        (docs/performance.md)."""
        text = "".join(",".join(map(_csv_field, row)) + "\n" for row in rows)
        buffer = io.BytesIO(text.encode("utf-8"))
        cursor = self.raw.cursor()
        # When the server ends the connection in the middle of a COPY, psycopg2 (2.9)
        # prints the server's error with a SystemError on stderr and raises a bare
        # "invalid socket": keep that print off the user's terminal and give its first
        # line (the server's reason) as the error.
        printed = io.StringIO()
        try:
            with redirect_stderr(printed):
                cursor.copy_expert(f"COPY {table} ({names}) FROM STDIN WITH (FORMAT csv)", buffer)
        except Exception as error:
            reason = printed.getvalue().strip().splitlines()
            if reason and self.lost:
                raise type(error)(reason[0].split(": ", 1)[-1]) from None
            raise
        finally:
            cursor.close()

    def begin(self) -> None:
        """Start a transaction (SQLite: take the write lock now, not at the first write)."""
        if not self.is_pg:
            self.raw.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        self.raw.commit() if self.is_pg else self.raw.execute("COMMIT")

    def rollback(self) -> None:
        """Roll back the open transaction. On a connection the server has closed there is
        nothing left to roll back (the server did it): the error that closed it is the one
        worth reporting, so this does not raise a second one over it."""
        already_lost = self.lost
        try:
            if self.is_pg:
                self.raw.rollback()
            elif self.raw.in_transaction:
                self.raw.execute("ROLLBACK")
        except Exception:
            if not already_lost:  # this rollback found the loss: that error is the cause
                raise

    @property
    def lost(self) -> bool:
        """True once the server has closed this connection (PostgreSQL only)."""
        return self.is_pg and bool(getattr(self.raw, "closed", 0))

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        self.begin()
        try:
            yield self
        except BaseException:
            self.rollback()
            raise
        else:
            self.commit()

    def snapshot(self) -> None:
        """Read everything that follows from one snapshot of the database, until the
        transaction ends (a rollback, or `close`): an answer's rows and its position then
        come from the same state, whatever other writers commit meanwhile. SQLite: a read
        transaction (its snapshot is taken at its first read). PostgreSQL: a REPEATABLE
        READ, READ ONLY transaction. Ends any transaction left open first."""
        self.rollback()
        if self.is_pg:
            self.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        else:
            self.raw.execute("BEGIN")

    def in_list(self, values: Sequence[Any]) -> str:
        return "(" + ",".join("?" * len(values)) + ")"

    def close(self) -> None:
        self.raw.close()


class Database:
    """The ledger's database, from its URL."""

    def __init__(self, url: str | None = None) -> None:
        self.url = url or os.environ.get("HOUSING_LEDGER_DB") or DEFAULT_URL
        try:
            self.parsed: DatabaseUrl = parse(self.url)
        except NotAUrl:
            raise DatabaseUnavailable(f"not a database URL: {redact(self.url)}") from None
        backend = self.parsed.backend
        if backend not in ("sqlite", "postgresql"):
            raise DatabaseUnavailable(
                f"unsupported database {backend!r}: use sqlite:///FILE or postgresql+psycopg2://..."
            )
        self.dialect = backend
        self.read_only = False

    @property
    def sqlite_path(self) -> str:
        return self.parsed.database or ""

    @property
    def display(self) -> str:
        return redact(self.url)

    def connect(self) -> Connection:
        try:
            if self.dialect == "sqlite":
                return Connection(self._sqlite(), "sqlite")
            return Connection(self._postgres(), "postgresql")
        except DatabaseUnavailable:
            raise
        except Exception as e:
            raise DatabaseUnavailable(
                f"cannot open the database {self.display}: {_first_line(e)}"
            ) from None

    def _sqlite(self) -> sqlite3.Connection:
        path = self.sqlite_path
        query = dict(self.parsed.query)
        if path.startswith("file:") or query.get("mode") == "ro":
            if path.startswith("file:"):  # keep the URI's own parameters (mode=ro...)
                params = "&".join(f"{k}={v}" for k, v in query.items() if k != "uri")
                target = f"{path}?{params}" if params else path
            else:
                target = f"file:{path}?mode=ro"
            self.read_only = "mode=ro" in target
            raw = sqlite3.connect(
                target,
                uri=True,
                isolation_level=None,
                timeout=SQLITE_BUSY_TIMEOUT_S,
                check_same_thread=False,
            )
        else:
            raw = sqlite3.connect(
                path or ":memory:",
                isolation_level=None,
                timeout=SQLITE_BUSY_TIMEOUT_S,
                check_same_thread=False,
            )
        if self.read_only:
            raw = _readable(raw, target)
        else:
            raw.execute("PRAGMA journal_mode=WAL")
        raw.execute("PRAGMA synchronous=FULL")
        raw.execute("PRAGMA cache_size=-262144")  # so index inserts stay in memory
        return raw

    def _postgres(self) -> Any:
        import psycopg2

        args = self.parsed.connect_args()
        args.setdefault("connect_timeout", 10)
        raw = psycopg2.connect(**args)
        return raw


def _readable(raw: sqlite3.Connection, target: str) -> sqlite3.Connection:
    """A read-only connection that can read. A WAL database on a read-only mount cannot
    create its shared-memory file: open it as immutable then (nobody can write it there)."""
    try:
        raw.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
        return raw
    except sqlite3.OperationalError:
        raw.close()
    return sqlite3.connect(
        f"{target}&immutable=1", uri=True, isolation_level=None, check_same_thread=False
    )


def _csv_field(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return '"' + value.replace('"', '""') + '"'
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
