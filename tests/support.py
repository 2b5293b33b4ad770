"""Test support: a ledger on a real database, driven like the CLI drives it.

`LedgerHarness` wires the same objects as `cli.Session` and adds small helpers for
"given these transactions, when this one, then ..." tests.
"""

from __future__ import annotations

import io
import json
import os
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from cli import Session
from ledger.booking.service import ImportResult
from projections import queries

ADMIN_PG_URL = os.environ.get(
    "HOUSING_LEDGER_TEST_PG", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
)


def jsonl(transactions: Iterable[dict[str, Any]]) -> bytes:
    return ("\n".join(json.dumps(t, ensure_ascii=False) for t in transactions) + "\n").encode()


class LedgerHarness:
    def __init__(self, url: str) -> None:
        self.url = url
        self.session = Session(url)

    @property
    def conn(self) -> Any:
        return self.session.conn

    def record(
        self, transactions: Iterable[dict[str, Any]], name: str = "test.jsonl"
    ) -> ImportResult:
        self.session.current()
        result = self.session.recorder.record([(name, io.BytesIO(jsonl(transactions)))])
        self.session.projector.catch_up()
        return result

    def ok(self, *transactions: dict[str, Any]) -> ImportResult:
        result = self.record(transactions)
        assert not result.errors, [str(e) for e in result.errors]
        return result

    def rejected(self, *transactions: dict[str, Any]) -> list[str]:
        before = self.journal_size()
        result = self.record(transactions)
        assert result.errors, "expected the transactions to be rejected"
        assert self.journal_size() == before, "a rejected file wrote to the journal"
        return [str(e) for e in result.errors]

    def journal_size(self) -> int:
        return int(self.conn.scalar("SELECT COUNT(*) FROM housingledger_events"))

    def holdings(self, **kwargs: Any) -> list[dict[str, Any]]:
        conn = self.session.current()
        by = kwargs.get("by")
        return [
            {
                "entity": r.entity,
                **({by: r.key} if by else {}),
                "full_ownership": r.full_ownership,
                "usufruct": r.usufruct,
                "bare_ownership": r.bare_ownership,
            }
            for r in queries.holdings(
                conn, kwargs.get("as_of"), kwargs.get("entity"), by, kwargs.get("known_at")
            )
        ]

    def position(self) -> int:
        return queries.position_at(self.session.current(), None)

    def close(self) -> None:
        if "conn" in self.session.__dict__:
            self.session.conn.close()


@contextmanager
def fresh_pg_database() -> Iterator[str]:
    """A new, empty PostgreSQL database; dropped afterwards."""
    import psycopg2
    from sqlalchemy.engine import make_url

    admin = make_url(ADMIN_PG_URL)
    args = admin.translate_connect_args(username="user", database="dbname")
    name = "hl_test_" + uuid.uuid4().hex[:12]
    conn = psycopg2.connect(connect_timeout=5, **args)
    conn.autocommit = True
    conn.cursor().execute(f"CREATE DATABASE {name}")
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        conn.cursor().execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.close()


def pg_available() -> bool:
    try:
        import psycopg2
        from sqlalchemy.engine import make_url

        args = make_url(ADMIN_PG_URL).translate_connect_args(username="user", database="dbname")
        psycopg2.connect(connect_timeout=3, **args).close()
        return True
    except Exception:
        return False


# A small ledger used by many tests: two HLM companies, a pension fund, some units.
def base_ledger() -> list[dict[str, Any]]:
    def entity(eid: str, kind: str, region: str | None = "11") -> dict[str, Any]:
        tx = {
            "id": f"ENT-{eid}",
            "type": "register_entity",
            "date": "2017-01-01",
            "entity": eid,
            "name": f"Entity {eid}",
            "kind": kind,
        }
        if region:
            tx["region"] = region
        return tx

    def unit(uid: str, zone: str = "A", **extra: Any) -> dict[str, Any]:
        return {"unit_id": uid, "commune": "75056", "zone": zone, "segment": "social", **extra}

    return [
        entity("ESH-A", "hlm"),
        entity("ESH-B", "hlm", "84"),
        entity("FUND", "hlm", None),  # an HLM body: mergers join one family
        {
            "id": "OPEN-A",
            "type": "register_units",
            "date": "2017-01-01",
            "entity": "ESH-A",
            "units": [
                unit("U1", rpls_id="R1"),
                unit("U2", "B1"),
                unit("U3", "C", financing="PLUS"),
            ],
        },
        {
            "id": "OPEN-B",
            "type": "register_units",
            "date": "2017-01-01",
            "entity": "ESH-B",
            "units": [unit("V1"), unit("V2", "B2")],
        },
    ]
