"""The guard of tests/unit/conftest.py: in a unit test, every way to open a database fails
loudly, and nothing in between can turn that into an expected error."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

import psycopg2
import pytest
import sqlalchemy

from ledger.errors import DatabaseUnavailable
from ledger.storage.database import Database
from tests.unit.conftest import DatabaseInUnitTest

OPENERS: dict[str, Callable[[], Any]] = {
    "sqlite3": lambda: sqlite3.connect(":memory:"),
    "sqlite3.dbapi2": lambda: sqlite3.dbapi2.connect(":memory:"),
    "sqlalchemy": lambda: sqlalchemy.create_engine("sqlite://"),
    "psycopg2": lambda: psycopg2.connect(host="127.0.0.1", user="postgres", dbname="postgres"),
    "ledger sqlite url": lambda: Database("sqlite:///ledger.db").connect(),
    "ledger postgresql url": lambda: Database(
        "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
    ).connect(),
}


@pytest.mark.parametrize("opener", OPENERS.values(), ids=list(OPENERS))
def test_opening_a_database_in_a_unit_test_fails_loudly(opener: Callable[[], Any]) -> None:
    with pytest.raises(DatabaseInUnitTest, match="unit tests run with no database"):
        opener()


def test_the_guard_is_not_an_error_the_ledger_expects() -> None:
    assert not issubclass(DatabaseInUnitTest, Exception)
    assert not issubclass(DatabaseInUnitTest, DatabaseUnavailable)
