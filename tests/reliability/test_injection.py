"""Hostile text: SQL, shell and terminal escape sequences are data, and passwords stay secret.

Free-text fields (entity and business names, notes, references, sellers, buyers, reasons)
may hold anything; the ledger must store them verbatim, give them back verbatim in JSON
and JSONL (and CSV: data, not screen text), and print them harmlessly in a table (control
characters shown as `\\x1b`...) and in HTML (escaped). Ids have a strict pattern: hostile
ids are rejected, and the error shows them escaped. Nothing is ever executed: no table
dropped, no file created by a `$(...)`.

Database passwords never appear in what the command prints (stdout or stderr) nor in a
file it leaves behind, whatever the command and however the URL is broken.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.reliability import processes as p
from tests.support import base_ledger

RAW_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # what a terminal may act on


def hostile(marker: Path) -> list[str]:
    return [
        "'; DROP TABLE hl_units; --",
        "Robert'); DROP TABLE housingledger_events;--",
        '" OR 1=1 --',
        "x'); SELECT pg_sleep(30); --",
        f"$(touch {marker}-dollar)",
        f"`touch {marker}-backtick`",
        f"; touch {marker}-semicolon #",
        "\x1b[31mred\x1b[0m",
        "\x1b]0;pwned title\x07",
        "\x1b[2J\x1b[H cleared",
        "\x9b31m C1 CSI",
        "line one\r\nforged: line two",
        "\u202eevil\u202c right-to-left",
        "bell\x07 back\x08space del\x7f",
        "<script>alert('x')</script> &amp;",
        "💶 Hôtel-Dieu ﬁ e\u0301",
    ]


def ledger_with(texts: list[str]) -> list[dict[str, Any]]:
    """One transaction per free-text field, each carrying one hostile text."""
    txs: list[dict[str, Any]] = list(base_ledger())
    for i, text in enumerate(texts):
        txs += [
            {
                "id": f"ENT-H{i}",
                "type": "register_entity",
                "date": "2018-01-01",
                "entity": f"H{i}",
                "name": text,
                "kind": "other",
                "note": text,
                "reference": text,
            },
            {
                "id": f"BIZ-H{i}",
                "type": "register_business",
                "date": "2018-01-02",
                "entity": f"H{i}",
                "business": f"BH{i}",
                "name": text,
                "sector": "other",
                "headcount": 1,
            },
            {
                "id": f"DIV-H{i}",
                "type": "divestment",
                "date": "2018-01-03",
                "entity": f"H{i}",
                "business": f"BH{i}",
                "buyer": text,
                "price_eur": "1.00",
                "employees_transferred": 1,
                "no_redundancy": True,
                "note": text,
            },
            {
                "id": f"ACQ-H{i}",
                "type": "acquisition",
                "date": "2018-01-04",
                "entity": f"H{i}",
                "mode": "existing",
                "price_eur": "1.00",
                "seller": text,
                "units": [
                    {"unit_id": f"HU{i}", "commune": "75056", "zone": "A", "segment": "social"}
                ],
            },
            {
                "id": f"SALE-H{i}",
                "type": "sale",
                "date": "2018-01-05",
                "entity": f"H{i}",
                "units": [f"HU{i}"],
                "buyer": {"category": "other", "name": text},
                "price_eur": "1.00",
            },
        ]
    txs.append(
        {
            "id": "REV-H",
            "type": "reversal",
            "date": "2018-02-01",
            "reverses": f"SALE-H{len(texts) - 1}",
            "reason": texts[0],
        }
    )
    return txs


@pytest.fixture
def hostile_ledger(db_url: str, tmp_path: Path) -> tuple[str, list[str], list[dict[str, Any]]]:
    texts = hostile(tmp_path / "pwned")
    txs = ledger_with(texts)
    p.ok(db_url, "init")
    p.ok(db_url, "import", str(p.write(tmp_path / "hostile.jsonl", txs)))
    return db_url, texts, txs


def test_hostile_free_text_is_stored_and_given_back_verbatim_in_json(
    hostile_ledger: tuple[str, list[str], list[dict[str, Any]]], tmp_path: Path
) -> None:
    url, texts, txs = hostile_ledger
    assert p.journal(url) == txs  # jsonl: every field exactly as filed
    listed = json.loads(p.ok(url, "journal", "--format", "json").stdout)
    assert [row["transaction"] for row in listed["rows"]] == txs
    divestments = json.loads(p.ok(url, "report", "divestments", "--format", "json").stdout)
    assert [row["buyer"] for row in divestments["rows"]] == texts
    assert len(p.query(url, "SELECT * FROM hl_units")) >= len(texts)
    p.assert_intact(url)
    assert not list(tmp_path.glob("pwned*")), "a shell command in the data was executed"


def test_hostile_free_text_is_printed_harmlessly_in_a_table(
    hostile_ledger: tuple[str, list[str], list[dict[str, Any]]],
) -> None:
    url, texts, _ = hostile_ledger
    table = p.ok(url, "report", "divestments").stdout
    assert not RAW_CONTROL.search(table), repr(RAW_CONTROL.search(table))
    assert "\\x1b[31mred\\x1b[0m" in table and "\\x1b]0;pwned title\\x07" in table
    assert "'; DROP TABLE hl_units; --" in table


def test_hostile_free_text_is_escaped_in_an_html_statement(
    hostile_ledger: tuple[str, list[str], list[dict[str, Any]]],
) -> None:
    url, _, _ = hostile_ledger
    page = p.ok(url, "report", "divestments", "--format", "html").stdout
    assert "<script>" not in page and "&lt;script&gt;" in page
    # HTML forbids raw control characters; a page printed to a terminal must not drive it
    assert not RAW_CONTROL.search(page.replace("\n", "")), repr(RAW_CONTROL.search(page))


def test_hostile_free_text_is_given_back_verbatim_in_csv(
    hostile_ledger: tuple[str, list[str], list[dict[str, Any]]],
) -> None:
    url, texts, _ = hostile_ledger
    out = p.ok(url, "report", "divestments", "--format", "csv").stdout
    rows = list(csv.DictReader(io.StringIO(out, newline="")))
    assert [row["buyer"] for row in rows] == texts


@pytest.mark.parametrize("field", ["id", "entity", "units.0.unit_id", "type", "date"])
def test_hostile_ids_are_rejected_and_shown_escaped(
    db_url: str, tmp_path: Path, field: str
) -> None:
    p.ok(db_url, "init")
    p.ok(db_url, "import", str(p.write(tmp_path / "base.jsonl", base_ledger())))
    before = p.snapshot(db_url)
    values = hostile(tmp_path / "pwned")
    txs = []
    for n, value in enumerate(values):
        tx: dict[str, Any] = {
            "id": f"ACQ-X{n}",
            "type": "acquisition",
            "date": "2019-01-01",
            "entity": "ESH-A",
            "mode": "existing",
            "price_eur": "1.00",
            "units": [{"unit_id": f"X{n}", "commune": "75056", "zone": "A", "segment": "social"}],
        }
        if field == "units.0.unit_id":
            tx["units"][0]["unit_id"] = value
        else:
            tx[field] = value
        txs.append(tx)
    path = p.write(tmp_path / "ids.jsonl", txs)
    result = p.run(db_url, "import", str(path))
    p.assert_clean_failure(result, 1)
    assert len(result.error_lines) == len(values) + 1, str(result)
    assert not RAW_CONTROL.search(result.stderr), repr(result.stderr)
    assert p.snapshot(db_url) == before
    assert not list(tmp_path.glob("pwned*"))


@pytest.mark.parametrize("key", ["\x1b]0;pwned\x07", "\x1b[2J", "a\x1eb", "\x9b1m", "l1\nl2"])
def test_an_unknown_field_with_control_characters_in_its_name_is_shown_escaped(
    sqlite_url: str, tmp_path: Path, key: str
) -> None:
    p.ok(sqlite_url, "import", str(p.write(tmp_path / "base.jsonl", base_ledger())))
    tx = {
        "id": "ENT-K",
        "type": "register_entity",
        "date": "2019-01-01",
        "entity": "K",
        "name": "k",
        "kind": "other",
        key: "x",
    }
    unit = {
        "id": "REG-K",
        "type": "register_units",
        "date": "2019-01-01",
        "entity": "ESH-A",
        "units": [{"unit_id": "K1", "commune": "75056", "zone": "A", "segment": "social", key: 1}],
    }
    result = p.run(sqlite_url, "import", str(p.write(tmp_path / "keys.jsonl", [tx, unit])))
    p.assert_clean_failure(result, 1)
    assert not RAW_CONTROL.search(result.stderr), repr(result.stderr)
    assert len(result.error_lines) == 3, repr(result.stderr)  # one line per problem


def test_a_file_name_with_control_characters_is_shown_escaped(
    sqlite_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "\x1b]0;pwned\x07.jsonl"
    path.write_text('{"id": 1}\n')
    for target in (path, tmp_path / "\x1b[2Jmissing.jsonl"):
        result = p.run(sqlite_url, "import", str(target))
        p.assert_clean_failure(result, 1)
        assert not RAW_CONTROL.search(result.stderr), repr(result.stderr)


def test_sql_in_query_arguments_is_only_data(db_url: str, tmp_path: Path) -> None:
    p.ok(db_url, "init")
    p.ok(db_url, "import", str(p.write(tmp_path / "base.jsonl", base_ledger())))
    before = p.snapshot(db_url)
    for attack in ["'; DROP TABLE hl_units; --", "ESH-A' OR '1'='1", "%"]:
        held = p.holdings(db_url, "--entity", attack)
        assert held["rows"] == [], attack
    history = p.run(db_url, "history", "U1' OR '1'='1")
    p.assert_clean_failure(history, 1)
    assert p.snapshot(db_url) == before


def test_a_nul_character_in_free_text_is_stored_verbatim_or_refused_never_a_crash(
    db_url: str, tmp_path: Path
) -> None:
    """PostgreSQL text cannot hold NUL; SQLite can. Either way the ledger must stay
    usable: recorded and given back verbatim, or refused at import (exit 1) with
    nothing written."""
    p.ok(db_url, "init")
    p.ok(db_url, "import", str(p.write(tmp_path / "base.jsonl", base_ledger())))
    before = p.snapshot(db_url)
    tx = {
        "id": "ENT-NUL",
        "type": "register_entity",
        "date": "2018-01-01",
        "entity": "NUL1",
        "name": "a\x00b",
        "kind": "other",
        "note": "\x00",
    }
    result = p.run(db_url, "import", str(p.write(tmp_path / "nul.jsonl", [tx])))
    p.assert_no_traceback(result)
    assert result.returncode in (0, 1), str(result)
    if result.returncode == 1:
        assert p.snapshot(db_url) == before
    else:
        assert p.journal(db_url)[-1] == tx
    p.assert_intact(db_url)


# ------------------------------------------------------------------ secrets

SECRET = "S3cr3t-Pa55w0rd"
UNREACHABLE = [
    f"postgresql+psycopg2://ledger:{SECRET}@127.0.0.1:1/ledger",
    f"postgresql://ledger:{SECRET}@127.0.0.1:1/ledger",
    f"postgresql+psycopg2://ledger:{SECRET}@no-such-host.invalid/ledger",
    f"postgresql+psycopg2://ledger:{SECRET}@127.0.0.1:notaport/ledger",
    f"postgresql+psycopg2://ledger:{SECRET}@127.0.0.1:1/ledger?sslmode=bogus",
    f"postgresql+psycopg2://ledger:{SECRET}@/ledger?host=/no/such/socket",
    f"postgresql+psycopg2://ledger@127.0.0.1:1/ledger?password={SECRET}",
    f"mysql://ledger:{SECRET}@127.0.0.1:1/ledger",
]
COMMANDS = [
    ["import", "-"],
    ["holdings"],
    ["init"],
    ["audit", "verify"],
    ["replay", "--check"],
    ["journal"],
    ["report", "sales", "--year", "2018"],
    ["db", "grant-auditor", "bob"],
]


def _assert_secret_kept(result: p.Run, folder: Path, secret: str = SECRET) -> None:
    p.assert_no_traceback(result)
    assert result.returncode == 4, str(result)
    for shown in (secret, secret.replace("-", "%2D")):
        assert shown not in result.stdout and shown not in result.stderr, str(result)
    for path in folder.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), f"password written to {path}"


def test_a_database_password_never_appears_in_any_commands_errors(tmp_path: Path) -> None:
    for args in COMMANDS:
        stdin = p.jsonl(base_ledger()) if args == ["import", "-"] else None
        result = p.run(UNREACHABLE[0], *args, stdin=stdin, timeout=60, cwd=tmp_path)
        _assert_secret_kept(result, tmp_path)


@pytest.mark.parametrize("url", UNREACHABLE, ids=range(len(UNREACHABLE)))
def test_a_database_password_never_appears_in_errors_or_files(url: str, tmp_path: Path) -> None:
    for args in (["import", "-"], ["holdings"]):
        stdin = p.jsonl(base_ledger()) if args == ["import", "-"] else None
        result = p.run(url, *args, stdin=stdin, timeout=60, cwd=tmp_path)
        _assert_secret_kept(result, tmp_path)


def test_a_password_with_special_characters_never_appears_in_errors(tmp_path: Path) -> None:
    secret = "p@ss:w/rd%Ω"
    encoded = "p%40ss%3Aw%2Frd%25%CE%A9"
    url = f"postgresql+psycopg2://ledger:{encoded}@127.0.0.1:1/ledger"
    result = p.run(url, "holdings", cwd=tmp_path)
    for shown in (secret, encoded, "p@ss", "w/rd"):
        assert shown not in result.stderr + result.stdout, str(result)
    assert result.returncode == 4


@pytest.mark.postgres
def test_a_password_to_a_live_server_with_a_missing_database_stays_secret(
    pg_url: str, tmp_path: Path
) -> None:
    from sqlalchemy.engine import make_url

    url = make_url(pg_url).set(password=SECRET, database="no_such_ledger_db")
    rendered = url.render_as_string(hide_password=False)
    for args in (["holdings"], ["import", "-"], ["init"]):
        stdin = p.jsonl(base_ledger()) if args == ["import", "-"] else None
        result = p.run(rendered, *args, stdin=stdin, timeout=60, cwd=tmp_path)
        _assert_secret_kept(result, tmp_path)
        assert "no_such_ledger_db" in result.stderr
