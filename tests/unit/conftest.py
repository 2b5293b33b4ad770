"""Unit tests run with no database: any attempt to open one fails loudly.

A unit test exercises the domain, the booking pipeline (with the in-memory fakes of
`tests/fakes.py`) or the pure fold; a test that needs SQLite or PostgreSQL belongs in
`tests/integration/`. The guard below replaces every way this code base opens a
database (the DB-API drivers and SQLAlchemy's engine factory) with a function that
raises, for every test module under `tests/unit/`, so the rule cannot drift.

It is module-scoped (not per test) so that hypothesis tests, which refuse
function-scoped fixtures, are guarded too; pytest tears it down when the run leaves the
module, so integration tests run by the same worker are not affected.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from typing import Any, NoReturn

import pytest


class DatabaseInUnitTest(BaseException):
    """A unit test tried to open a database. A `BaseException`, so that no `except
    Exception` on the way (e.g. the one that turns driver errors into
    `DatabaseUnavailable`) can swallow it: the test fails, naming the call."""


def _refuse(what: str) -> Callable[..., NoReturn]:
    def refuse(*args: Any, **kwargs: Any) -> NoReturn:
        raise DatabaseInUnitTest(
            f"a unit test called {what}{args!r}: unit tests run with no database; "
            "use the in-memory fakes (tests/fakes.py) or move the test to tests/integration/"
        )

    return refuse


def _guarded() -> list[tuple[object, str, str]]:
    """(module, attribute, label) of every function that opens a database connection."""
    targets: list[tuple[object, str, str]] = [
        (sqlite3, "connect", "sqlite3.connect"),
        (sqlite3.dbapi2, "connect", "sqlite3.dbapi2.connect"),
    ]
    try:
        import sqlalchemy
        import sqlalchemy.engine
        import sqlalchemy.engine.create

        targets += [
            (sqlalchemy, "create_engine", "sqlalchemy.create_engine"),
            (sqlalchemy.engine, "create_engine", "sqlalchemy.engine.create_engine"),
            (sqlalchemy.engine.create, "create_engine", "sqlalchemy.engine.create.create_engine"),
        ]
    except ImportError:  # pragma: no cover
        pass
    try:
        import psycopg2

        targets.append((psycopg2, "connect", "psycopg2.connect"))
    except ImportError:  # pragma: no cover
        pass
    return targets


@pytest.fixture(scope="module", autouse=True)
def no_database() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        for module, name, label in _guarded():
            patch.setattr(module, name, _refuse(label))
        yield
