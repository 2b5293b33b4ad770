"""Our database URL parser (ledger/storage/urls.py) reads a URL as SQLAlchemy's does: the
library is handed the same string, so both must mean the same database."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import make_url

from ledger.storage.urls import NotAUrl, parse, read_only, redact

URLS = [
    "sqlite:///housing-ledger.db",
    "sqlite:////var/lib/ledger/main.db",
    "sqlite://",
    "sqlite:///:memory:",
    "sqlite:///file:ledger.db?mode=ro&uri=true",
    "sqlite:///ledger.db?mode=ro",
    "postgresql://postgres@127.0.0.1:5432/test",
    "postgresql+psycopg2://auditor:s3cr%40t%3Aw@db.example.org/ledger",
    "postgresql://user:p@ss@host/db",
    "postgresql://[::1]:5433/ledger?sslmode=require&application_name=hl",
    "postgresql:///ledger?host=/var/run/postgresql",
    "postgresql://u@h/db?options=-c%20statement_timeout%3D5000",
]


@pytest.mark.parametrize("url", URLS)
def test_parses_a_url_as_sqlalchemy_does(url: str) -> None:
    ours, theirs = parse(url), make_url(url)

    assert ours.backend == theirs.get_backend_name()
    assert ours.database == theirs.database
    assert dict(ours.query) == dict(theirs.query)
    if ours.backend == "postgresql":
        expected = theirs.translate_connect_args(username="user", database="dbname")
        expected.update(theirs.query)
        assert ours.connect_args() == expected


@pytest.mark.parametrize("text", ["", "housing-ledger.db", "postgresql//host/db", "pg://h:x/db"])
def test_refuses_what_is_not_a_url(text: str) -> None:
    with pytest.raises(NotAUrl):
        parse(text)


def test_redact_hides_every_password() -> None:
    assert redact("postgresql://auditor:s3cr3t@db/ledger") == "postgresql://auditor:***@db/ledger"
    assert redact("postgresql://db/ledger?password=s3cr3t&sslmode=require") == (
        "postgresql://db/ledger?password=***&sslmode=require"
    )
    assert redact("sqlite:///ledger.db") == "sqlite:///ledger.db"
    assert "s3cr3t" not in redact("not a url: user:s3cr3t@host")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///ledger.db", {"mode": "ro"}),
        ("sqlite:///ledger.db?mode=ro", {"mode": "ro"}),
        ("postgresql://u@h/db", {"options": "-c default_transaction_read_only=on"}),
        (
            "postgresql://u@h/db?sslmode=require&options=-c%20statement_timeout%3D5000",
            {
                "sslmode": "require",
                "options": "-c statement_timeout=5000 -c default_transaction_read_only=on",
            },
        ),
    ],
)
def test_read_only_opens_the_same_database_for_reading_only(
    url: str, expected: dict[str, str]
) -> None:
    ours = parse(read_only(url))

    assert ours.query == expected
    assert (ours.backend, ours.host, ours.database) == (
        parse(url).backend,
        parse(url).host,
        parse(url).database,
    )
