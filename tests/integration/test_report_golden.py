"""Golden statements on the demo ledger (`ledger.demo.generate(units=1500, seed=2017)`,
after the shipped zoning vintages, as `housing-ledger demo` records it).

Every statement is run through the CLI, in JSON and CSV, and compared byte for byte
with `tests/snapshots/`. The goldens hold nothing time-dependent (no `recorded_at`; the
dismemberment register is always taken `--as-of` a date). The examples of
`docs/statements.md` are checked the same way. When a statement or the demo story
changes on purpose, regenerate both and review the diff:

    UPDATE_GOLDEN=1 /work/venv/bin/python -m pytest tests/integration/test_report_golden.py

Also here: a statement filed, then a transaction of its year reversed, is reproduced byte
for byte with `--known-at`; and SQLite and PostgreSQL give identical statements.
"""

from __future__ import annotations

import json
import os
import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cli import main
from ledger.booking.zoning import shipped_vintages
from ledger.demo import generate
from tests.support import LedgerHarness

SNAPSHOTS = Path(__file__).resolve().parents[1] / "snapshots"
STATEMENTS_DOC = Path(__file__).resolve().parents[2] / "docs" / "statements.md"
DOC_EXAMPLE = re.compile(r"```console\n\$ housing-ledger (report [^\n]*)\n(.*?)```", re.S)
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
DEMO_UNITS, DEMO_SEED = 1500, 2017

#: golden name -> `report` arguments
STATEMENTS: dict[str, list[str]] = {
    **{f"movements-{y}": ["movements", "--year", str(y)] for y in (2017, 2018, 2019, 2022, 2025)},
    **{f"sales-{y}": ["sales", "--year", str(y)] for y in (2017, 2018, 2019, 2022, 2024)},
    "sales-2022-all": ["sales", "--year", "2022", "--sellers", "all"],
    "sales-2019-target-2pc": ["sales", "--year", "2019", "--target-rate", "0.02"],
    "programme-2017-5y": ["programme", "--start", "2017", "--years", "5", "--target", "100000"],
    "programme-2017-5y-social": [
        "programme",
        "--start",
        "2017",
        "--years",
        "5",
        "--target",
        "300",
        "--segment",
        "social",
    ],
    "dismemberment-2020-12-31": ["dismemberment", "--as-of", "2020-12-31"],
    "dismemberment-2025-12-31": ["dismemberment", "--as-of", "2025-12-31"],
    "dismemberment-2026-11-27": ["dismemberment", "--as-of", "2026-11-27"],
    "divestments": ["divestments"],
    "divestments-2018": ["divestments", "--year", "2018"],
}


def demo_transactions() -> list[dict[str, Any]]:
    """What `housing-ledger demo` records: the shipped zoning vintages, then the story."""
    return [*shipped_vintages(), *generate(units=DEMO_UNITS, seed=DEMO_SEED)]


def record_demo(url: str) -> LedgerHarness:
    harness = LedgerHarness(url)
    harness.ok(*demo_transactions())
    return harness


def report(url: str, *args: str) -> str:
    result = CliRunner().invoke(main, ["--db", url, "report", *args])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = f"sqlite:///{tmp_path_factory.mktemp('demo')}/demo.db"
    harness = record_demo(url)
    yield url
    harness.close()


@pytest.mark.parametrize("fmt", ["json", "csv"])
@pytest.mark.parametrize("name", sorted(STATEMENTS))
def test_statements_on_the_demo_ledger_match_their_golden_files(demo_url, name, fmt):
    output = report(demo_url, *STATEMENTS[name], "--format", fmt)
    assert "recorded_at" not in output
    golden = SNAPSHOTS / f"report-{name}.{fmt}"
    if UPDATE:
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(output, encoding="utf-8")
    assert golden.exists(), f"no golden file {golden.name}: run with UPDATE_GOLDEN=1"
    assert output == golden.read_text(encoding="utf-8"), (
        f"{name} ({fmt}) differs from {golden.name}; if intended, run with UPDATE_GOLDEN=1 "
        "and review the diff"
    )


def test_the_examples_of_docs_statements_are_real_output_of_the_demo_ledger(demo_url):
    text = STATEMENTS_DOC.read_text(encoding="utf-8")
    examples = DOC_EXAMPLE.findall(text)
    assert len(examples) >= 5
    for command, shown in examples:
        output = report(demo_url, *shlex.split(command)[1:])
        if UPDATE:
            text = text.replace(
                f"$ housing-ledger {command}\n{shown}", f"$ housing-ledger {command}\n{output}"
            )
        else:
            assert shown == output, f"docs/statements.md is stale for `{command}`"
    if UPDATE:
        STATEMENTS_DOC.write_text(text, encoding="utf-8")


@pytest.mark.parametrize("name", sorted(STATEMENTS))
def test_the_html_page_of_every_statement_is_self_contained(demo_url, name):
    page = report(demo_url, *STATEMENTS[name], "--format", "html")
    assert page.startswith("<!DOCTYPE html>")
    lowered = page.lower()
    assert "<script" not in lowered and "<link" not in lowered and " src=" not in lowered
    assert "<table>" in page


def last_reversible_sale(txs: list[dict[str, Any]], year: int) -> dict[str, Any]:
    """The year's last sale out of the ledger by a seller never absorbed later: nothing
    touches its units afterwards, so it can be reversed."""
    absorbed = {e for t in txs if t["type"] == "merger" for e in t["absorbed"]}
    reversed_ids = {t["reverses"] for t in txs if t["type"] == "reversal"}
    return [
        t
        for t in txs
        if t["type"] == "sale"
        and t["date"].startswith(str(year))
        and "entity" not in t["buyer"]
        and t["entity"] not in absorbed
        and t["id"] not in reversed_ids
    ][-1]


def test_a_filed_statement_is_reproduced_byte_for_byte_after_a_reversal(tmp_path):
    url = f"sqlite:///{tmp_path}/filed.db"
    harness = record_demo(url)
    try:
        filed_at = harness.position()
        filed = {
            f"{name}.{fmt}": report(url, *args, "--format", fmt)
            for name, args in STATEMENTS.items()
            for fmt in ("json", "csv", "html")
        }
        sale = last_reversible_sale(demo_transactions(), 2024)
        harness.ok(
            {
                "id": "REV-TEST-1",
                "type": "reversal",
                "date": sale["date"],
                "reverses": sale["id"],
                "reason": "acte annulé (test)",
            }
        )
        now = json.loads(report(url, "sales", "--year", "2024", "--format", "json"))
        was = json.loads(filed["sales-2024.json"])
        seller = next(r for r in now["rows"] if r["entity"] == sale["entity"])
        before = next(r for r in was["rows"] if r["entity"] == sale["entity"])
        assert seller["units_sold"] == before["units_sold"] - len(sale["units"])
        assert now["position"] > was["position"]
        for key, output in filed.items():
            name, fmt = key.rsplit(".", 1)
            again = report(url, *STATEMENTS[name], "--format", fmt, "--known-at", str(filed_at))
            assert again == output, key
    finally:
        harness.close()


@pytest.mark.postgres
def test_sqlite_and_postgresql_give_identical_statements(sqlite_url, pg_url):
    sqlite = record_demo(sqlite_url)
    postgres = record_demo(pg_url)
    try:
        for name, args in STATEMENTS.items():
            for fmt in ("json", "csv"):
                assert report(sqlite_url, *args, "--format", fmt) == report(
                    pg_url, *args, "--format", fmt
                ), (name, fmt)
            position = str(sqlite.position() // 2)
            assert report(sqlite_url, *args, "--format", "json", "--known-at", position) == report(
                pg_url, *args, "--format", "json", "--known-at", position
            ), name
    finally:
        sqlite.close()
        postgres.close()


def test_the_stock_from_the_tally_is_the_stock_from_the_periods(demo_url):
    from ledger.storage.database import Database
    from projections.reports import periods

    conn = Database(demo_url).connect()
    try:
        position = periods.pin(conn, None)
        days = [f"{y}-{md}" for y in range(2016, 2028) for md in ("01-01", "06-30", "12-31")]
        for day in days:
            tallied = periods.stock(conn, day, position)
            assert tallied == periods.stock_from_periods(conn, day, position), day
        assert sum(periods.stock(conn, "2020-12-31", position).values()) > 1000
    finally:
        conn.close()
