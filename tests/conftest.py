"""Fixtures: a ledger on a SQLite file, and on a fresh PostgreSQL database.

PostgreSQL tests skip on a laptop with no server, but never in CI: when CI=true (or
HOUSING_LEDGER_REQUIRE_PG=1) a missing server is a failure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.support import LedgerHarness, fresh_pg_database, pg_available

PG_REQUIRED = (
    os.environ.get("CI", "").lower() == "true" or os.environ.get("HOUSING_LEDGER_REQUIRE_PG") == "1"
)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--runslow", action="store_true", help="also run the long trials")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Long trials are deselected (not skipped) unless --runslow: a default run, as in CI,
    runs every test it lists."""
    if config.getoption("--runslow"):
        return
    slow = [item for item in items if "slow" in item.keywords]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if "slow" not in item.keywords]


_pg_checked: list[bool] = []


def require_pg() -> None:
    if not _pg_checked:
        _pg_checked.append(pg_available())
    if not _pg_checked[0]:
        if PG_REQUIRED:
            pytest.fail(
                "PostgreSQL is required here (CI) but unreachable at "
                "HOUSING_LEDGER_TEST_PG / 127.0.0.1:5432"
            )
        pytest.skip("no PostgreSQL server (set HOUSING_LEDGER_TEST_PG)")


@pytest.fixture
def pg_url() -> Iterator[str]:
    require_pg()
    with fresh_pg_database() as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path}/ledger.db"  # type: ignore[operator]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/ledger.db"
    else:
        require_pg()
        with fresh_pg_database() as url:
            yield url


@pytest.fixture
def ledger(sqlite_url: str) -> Iterator[LedgerHarness]:
    harness = LedgerHarness(sqlite_url)
    yield harness
    harness.close()


@pytest.fixture
def any_ledger(db_url: str) -> Iterator[LedgerHarness]:
    harness = LedgerHarness(db_url)
    yield harness
    harness.close()
