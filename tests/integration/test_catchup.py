"""The catch-up engine: a journal it cannot fold is an integrity failure (exit 3), and a
failed rebuild leaves the projections as they were."""

from __future__ import annotations

import uuid

import pytest
from click.testing import CliRunner

from cli import main
from ledger.errors import IntegrityFailure
from tests.support import LedgerHarness, base_ledger


def forge_event(ledger: LedgerHarness) -> None:
    head = ledger.session.store.head()
    key = uuid.uuid4()
    ledger.conn.execute(
        "INSERT INTO housingledger_events (id, originator_id, originator_version, topic, state) "
        "VALUES (?, ?, 1, 'ledger.domain:RecordedTransaction.Recorded', ?)",
        (head + 1, str(key) if ledger.conn.is_pg else key.bytes, b'{"forged":true}'),
    )
    if ledger.conn.is_pg:
        ledger.conn.commit()


def test_a_journal_that_cannot_be_folded_is_reported_as_an_integrity_failure(any_ledger) -> None:
    any_ledger.ok(*base_ledger())
    forge_event(any_ledger)
    result = CliRunner().invoke(main, ["--db", any_ledger.url, "holdings"])
    assert result.exit_code == 3
    assert "cannot be folded at position" in result.stderr
    assert "Traceback" not in result.output + result.stderr


def test_a_failed_rebuild_leaves_the_projections_as_they_were(ledger) -> None:
    ledger.ok(*base_ledger())
    before = ledger.holdings()
    position = ledger.session.projector.position()
    forge_event(ledger)
    with pytest.raises(IntegrityFailure):
        ledger.session.projector.rebuild()
    assert ledger.session.projector.position() == position
    assert ledger.conn.query("SELECT COUNT(*) FROM hl_periods")[0][0] > 0
    from projections import queries

    rows = queries.holdings(ledger.conn)
    assert [(r.entity, r.full_ownership) for r in rows] == [
        (r["entity"], r["full_ownership"]) for r in before
    ]


def test_replay_check_finds_a_holdings_tally_that_differs_from_the_periods(any_ledger) -> None:
    any_ledger.ok(*base_ledger())
    ok = CliRunner().invoke(main, ["--db", any_ledger.url, "replay", "--check"])
    assert ok.exit_code == 0, ok.output + ok.stderr
    any_ledger.conn.execute("UPDATE hl_holding_days SET units = units + 1 WHERE units = 1")
    if any_ledger.conn.is_pg:
        any_ledger.conn.commit()
    result = CliRunner().invoke(main, ["--db", any_ledger.url, "replay", "--check"])
    assert result.exit_code == 3, result.output + result.stderr
    assert "hl_holding_days" in result.stderr


def test_a_ledger_of_schema_version_1_gets_its_holdings_tally_when_opened(any_ledger) -> None:
    """Version 2 added the tally, version 3 an index, version 4 the reporting views (5 a
    column, tests/integration/test_register_extension.py; 6 two,
    tests/integration/test_sale_fields.py): an
    older ledger is upgraded on first use, with the same holdings as before, then kept up
    to date by the catch-up."""
    from ledger.storage import schema
    from projections.engine import tally

    any_ledger.ok(*base_ledger()[:-1])
    before = any_ledger.holdings(as_of="2018-06-30", by="zone")
    conn = any_ledger.conn
    conn.begin()
    conn.execute("DROP TABLE hl_holding_days")
    conn.execute("DROP INDEX hl_periods_usufruct")
    conn.execute("DROP INDEX hl_periods_bare_ownership")
    conn.execute("UPDATE hl_meta SET value = '1' WHERE key = 'schema_version'")
    conn.commit()
    any_ledger.close()
    reopened = LedgerHarness(any_ledger.url)
    try:
        assert reopened.holdings(as_of="2018-06-30", by="zone") == before
        assert reopened.conn.scalar(
            "SELECT value FROM hl_meta WHERE key = 'schema_version'"
        ) == str(schema.SCHEMA_VERSION)
        indexes = reopened.conn.query(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'hl_periods'"
            if reopened.conn.is_pg
            else "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'hl_periods'"
        )
        assert {"hl_periods_usufruct", "hl_periods_bare_ownership"} <= {n for (n,) in indexes}
        reopened.ok(base_ledger()[-1])
        assert tally.difference(reopened.conn) is None
    finally:
        reopened.close()
