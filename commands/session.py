"""The lazy context of every command, and the wiring of the concrete adapters.

A `Session` turns the one database URL into the database, its connection, the event
store, the projector and the recorder, each built on first use: `--help` and usage
errors never touch a database, and a command builds only what it asks for. This is the
only place that wires concrete adapters (`SqlEventStore`, `Projector`, `HousingLedger`,
`Recorder`); commands ask the session for them.

Expected failures leave as `click.ClickException`s with the exit codes README.md lists:
1 input rejected, 2 usage (click's own), 3 integrity failure, 4 database unavailable or
conflict. `failures()` maps the ledger's errors to them, so that no expected failure
ends in a traceback. The adapters are imported where they are built, so that importing
the commands (and `--help`) stays cheap.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from typing import IO, TYPE_CHECKING, Any

import click

from ledger.errors import ConcurrencyConflict, DatabaseUnavailable, IntegrityFailure, LedgerError
from projections.render.formats import escape

if TYPE_CHECKING:
    from ledger.booking.service import Recorder
    from ledger.storage.database import Connection, Database
    from ledger.storage.eventstore import SqlEventStore
    from projections.engine.catchup import Projector


class InputRejected(click.ClickException):
    """Exit 1: the input (a file, an argument) was rejected; nothing was written."""

    exit_code = 1

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(escape(self.message), err=True)


class IntegrityProblem(click.ClickException):
    """Exit 3: the journal or the projections fail a check."""

    exit_code = 3

    def format_message(self) -> str:
        return escape(self.message)


class DatabaseProblem(click.ClickException):
    """Exit 4: the database is unavailable, or a concurrent writer conflicted."""

    exit_code = 4

    def format_message(self) -> str:
        return escape(self.message)


@dataclass
class Session:
    """Everything a command needs, built from the database URL on first use."""

    url: str | None

    @cached_property
    def db(self) -> Database:
        from ledger.storage.database import Database

        return Database(self.url)

    @cached_property
    def conn(self) -> Connection:
        from ledger.storage.bootstrap import ensure_schema

        conn = self.db.connect()
        ensure_schema(self.db, conn)
        return conn

    @cached_property
    def store(self) -> SqlEventStore:
        from ledger.storage.chain import append_links
        from ledger.storage.eventstore import SqlEventStore

        return SqlEventStore(self.conn, after_append=[append_links])

    @cached_property
    def projector(self) -> Projector:
        from projections.engine.catchup import Projector

        return Projector(self.conn, self.store)

    @cached_property
    def recorder(self) -> Recorder:
        from ledger.booking.service import Recorder
        from ledger.storage.application import HousingLedger, persistence_env
        from ledger.storage.transcoding import TOPIC
        from projections.queries import ProjectionIndex

        app = HousingLedger(env={**persistence_env(self.db.url), "TRANSCODER_TOPIC": TOPIC})
        return Recorder(app, self.store, ProjectionIndex(self.conn))

    def close(self) -> None:
        """End the command's connection, if it opened one: what it read ends with it (a
        read transaction would otherwise hold its locks for as long as this process
        lives, as a test or a program calling the commands in-process does)."""
        conn = self.__dict__.pop("conn", None)
        if conn is not None:
            conn.rollback()
            conn.close()

    def current(self) -> Connection:
        """The connection, with the projections caught up with the journal (on a connection
        that may only read: as they are, with a note on stderr when they lag behind)."""
        from ledger.storage.access import cannot_write

        conn = self.conn  # connecting tells whether the database was opened read-only
        if not self.db.read_only and self._behind():
            try:
                self.projector.catch_up()
            except Exception as e:
                if not cannot_write(e):
                    raise
                self.conn.rollback()
                self.db.read_only = True
        if self.db.read_only:
            self._note_lag()
        return conn

    def reading(self) -> Connection:
        """The connection, caught up as `current` gives it, then reading one snapshot of
        the database until the command ends: a command that reads several times (the
        rows, then the position they stand at) gets answers that agree with each other
        while other processes write and catch up. For commands that only read."""
        conn = self.current()
        conn.snapshot()
        return conn

    def writable(self) -> bool:
        """Whether this connection may write: known once a write was refused, else asked
        of the database (an update of nothing, rolled back). A query on projections
        already caught up never tries a write, so a command that would write asks this."""
        from ledger.storage.access import cannot_write, require_writable

        if not self.db.read_only:
            try:
                require_writable(self.conn)
            except Exception as e:
                if not cannot_write(e):
                    raise
                self.conn.rollback()
                self.db.read_only = True
        return not self.db.read_only

    def _behind(self) -> bool:
        """Whether the journal holds events the projections have not folded: two reads
        of a row each, so that a query on projections already caught up never imports
        the catch-up and what it needs (SQLAlchemy's schema, the fold, the library)."""
        from ledger.storage.layout import EVENTS_TABLE
        from projections.engine import position

        conn = self.conn
        journal_end = conn.scalar(f"SELECT MAX(id) FROM {EVENTS_TABLE}") or 0
        projected = position.read(conn) or 0
        conn.rollback()  # the catch-up (or the query) starts from a transaction of its own
        return int(journal_end) > projected

    def _note_lag(self) -> None:
        """On a read-only connection, say when the projections lag behind the journal."""
        from ledger.storage.chain import head

        journal_end, projected = head(self.conn), self.projector.position()
        if journal_end > projected:
            click.echo(
                f"note: this connection may only read, so the projections were not caught "
                f"up: answers stand at position {projected}, the journal ends at "
                f"{journal_end}",
                err=True,
            )


def session(ctx: click.Context) -> Session:
    """The session the group put on the context (one per invocation)."""
    obj: Session = ctx.ensure_object(Session)
    return obj


@contextmanager
def failures() -> Iterator[None]:
    """Map the ledger's expected failures to exit codes, without tracebacks."""
    try:
        yield
    except (ConcurrencyConflict, DatabaseUnavailable) as e:
        raise DatabaseProblem(str(e)) from None
    except IntegrityFailure as e:
        raise IntegrityProblem(str(e)) from None
    except LedgerError as e:
        raise InputRejected(str(e)) from None
    except click.ClickException:
        raise
    except Exception as e:
        from ledger.storage.eventstore import database_error

        problem = database_error(e)
        if problem is None:
            raise
        raise DatabaseProblem(str(problem)) from None
