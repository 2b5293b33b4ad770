"""A usufruct ends at its term (issue 13 part 4, docs/decisions/0008-usufruct-at-term.md).

The day after `usufruct_end` the bare owner holds in full ownership whether or not an
extinction was recorded: the rules judge the holding in law on each transaction's date,
every query follows it on every as-of date, an extinction after the term confirms it, an
extension moves it, each of them reverses, and a replay gives the stored projections.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner

from cli import main
from tests.support import LedgerHarness, base_ledger

TERM = "2019-06-30"


def bot(tid: str, date: str, units: list[str], end: str = TERM) -> dict[str, Any]:
    return {
        "id": tid,
        "type": "bare_ownership_transfer",
        "date": date,
        "entity": "ESH-A",
        "bare_owner": "FUND",
        "units": units,
        "usufruct_end": end,
        "consideration": "gratuitous",
    }


def ext(tid: str, date: str, units: list[str]) -> dict[str, Any]:
    return {"id": tid, "type": "usufruct_extinguished", "date": date, "units": units}


def extension(tid: str, date: str, units: list[str], end: str) -> dict[str, Any]:
    return {
        "id": tid,
        "type": "usufruct_extension",
        "date": date,
        "units": units,
        "usufruct_end": end,
    }


def reversal(tid: str, date: str, reverses: str) -> dict[str, Any]:
    return {"id": tid, "type": "reversal", "date": date, "reverses": reverses, "reason": "error"}


def sale(tid: str, date: str, seller: str, units: list[str]) -> dict[str, Any]:
    return {
        "id": tid,
        "type": "sale",
        "date": date,
        "entity": seller,
        "units": units,
        "buyer": {"category": "individual"},
        "price_eur": "100000.00",
    }


def cli(url: str, *args: str) -> Any:
    result = CliRunner().invoke(main, ["--db", url, *args, "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def held(ledger: LedgerHarness, as_of: str | None = None, **kw: Any) -> dict[str, tuple[int, ...]]:
    return {
        r["entity"]: (r["full_ownership"], r["usufruct"], r["bare_ownership"])
        for r in ledger.holdings(as_of=as_of, **kw)
    }


def replay_matches(url: str) -> None:
    result = CliRunner().invoke(main, ["--db", url, "replay", "--check"])
    assert result.exit_code == 0, result.output


def test_the_bare_owner_holds_in_full_ownership_from_the_day_after_the_term(any_ledger):
    any_ledger.ok(*base_ledger(), bot("B1", "2017-07-01", ["U1", "U2"]))
    assert held(any_ledger, TERM) == {"ESH-A": (1, 2, 0), "ESH-B": (2, 0, 0), "FUND": (0, 0, 2)}
    assert held(any_ledger, "2019-07-01") == {
        "ESH-A": (1, 0, 0),
        "ESH-B": (2, 0, 0),
        "FUND": (2, 0, 0),
    }
    # without a date: as of the latest transaction's date (2017-07-01), before the term
    assert held(any_ledger) == held(any_ledger, "2017-07-01")
    replay_matches(any_ledger.url)


def test_after_the_term_the_bare_owner_may_sell_and_the_usufructuary_may_not(ledger):
    ledger.ok(*base_ledger(), bot("B1", "2017-07-01", ["U1", "U2"]))
    (error,) = ledger.rejected(sale("S0", "2019-07-01", "ESH-A", ["U1"]))
    assert "not held in full ownership by ESH-A on 2019-07-01" in error
    assert "the usufruct of ESH-A ended at term on 2019-06-30" in error
    (early,) = ledger.rejected(sale("S1", TERM, "FUND", ["U1"]))
    assert "its usufruct is held by ESH-A" in early
    ledger.ok(sale("S2", "2019-07-01", "FUND", ["U1"]))
    assert held(ledger, "2019-07-01")["FUND"] == (1, 0, 0)
    replay_matches(ledger.url)


def test_an_extinction_after_the_term_confirms_it_once_and_moves_nothing(ledger):
    ledger.ok(*base_ledger(), bot("B1", "2017-07-01", ["U1"]))
    before = cli(ledger.url, "units", "--as-of", "2020-01-01")["rows"]
    ledger.ok(ext("X1", "2020-01-01", ["U1"]))
    assert cli(ledger.url, "units", "--as-of", "2020-01-01")["rows"] == before
    moved = ledger.conn.query(
        "SELECT entity, kind, date, type FROM hl_movements WHERE voided_at IS NULL "
        "AND kind IN ('usufruct_ended', 'reunited') ORDER BY entity"
    )
    assert [tuple(m) for m in moved] == [
        ("ESH-A", "usufruct_ended", "2019-07-01", "usufruct_term"),
        ("FUND", "reunited", "2019-07-01", "usufruct_term"),
    ]
    (again,) = ledger.rejected(ext("X2", "2020-02-01", ["U1"]))
    assert "U1: its usufruct already ended (extinction X1 recorded on 2020-01-01)" in again
    replay_matches(ledger.url)


def test_an_early_extinction_replaces_the_term_and_its_reversal_restores_it(ledger):
    ledger.ok(*base_ledger(), bot("B1", "2017-07-01", ["U1"]), ext("X1", "2018-03-01", ["U1"]))
    assert held(ledger, "2018-03-01")["FUND"] == (1, 0, 0)
    terms = "SELECT COUNT(*) FROM hl_movements WHERE type = 'usufruct_term' AND voided_at IS NULL"
    assert ledger.conn.scalar(terms) == 0
    ledger.ok(reversal("R1", "2018-04-01", "X1"))
    assert held(ledger, "2018-03-01")["FUND"] == (0, 0, 1)
    assert held(ledger, "2019-07-01")["FUND"] == (1, 0, 0)
    assert ledger.conn.scalar(terms) == 2
    replay_matches(ledger.url)


def test_an_extension_moves_the_term_within_30_years_and_reverses(ledger):
    ledger.ok(*base_ledger(), bot("B1", "2017-07-01", ["U1"]))
    (late,) = ledger.rejected(extension("E0", "2019-07-01", ["U1"], "2025-12-31"))
    assert "usufruct ended at term on 2019-06-30" in late
    (shorter,) = ledger.rejected(extension("E1", "2018-01-01", ["U1"], "2019-01-01"))
    assert "usufruct_end 2019-01-01 is not after the current term 2019-06-30" in shorter
    (capped,) = ledger.rejected(extension("E2", "2018-01-01", ["U1"], "2047-07-02"))
    assert "began on 2017-07-01 (at most 2047-07-01)" in capped
    ledger.ok(extension("E3", "2018-01-01", ["U1"], "2047-07-01"))
    assert held(ledger, "2030-01-01")["ESH-A"] == (2, 1, 0)
    register = cli(ledger.url, "report", "dismemberment", "--as-of", "2017-12-31")["rows"]
    assert register[0]["maturities"] == {"2019": 1}  # the term then in force
    register = cli(ledger.url, "report", "dismemberment", "--as-of", "2018-01-01")["rows"]
    assert register[0]["maturities"] == {"2047": 1}
    extended_at = ledger.position()
    ledger.ok(reversal("R1", "2018-02-01", "E3"))
    assert held(ledger, "2030-01-01")["FUND"] == (1, 0, 0)
    known = ledger.holdings(as_of="2030-01-01", known_at=extended_at)
    assert {r["entity"]: r["usufruct"] for r in known}["ESH-A"] == 1
    replay_matches(ledger.url)


def test_a_merger_after_the_term_moves_only_the_full_ownership_of_the_bare_owner(ledger):
    ledger.ok(*base_ledger(), bot("B1", "2017-07-01", ["U1"]))
    ledger.ok(
        {"id": "M1", "type": "merger", "date": "2020-01-01", "absorbed": ["ESH-A"], "into": "ESH-B"}
    )
    assert held(ledger, "2020-01-01") == {"ESH-B": (4, 0, 0), "FUND": (1, 0, 0)}
    ledger.ok(
        {"id": "M2", "type": "merger", "date": "2020-02-01", "absorbed": ["FUND"], "into": "ESH-B"}
    )
    assert held(ledger, "2020-02-01") == {"ESH-B": (5, 0, 0)}
    replay_matches(ledger.url)


def test_a_merger_before_the_term_keeps_it_and_its_reversal_restores_the_pair(ledger):
    ledger.ok(*base_ledger(), bot("B1", "2017-07-01", ["U1"]))
    ledger.ok(
        {"id": "M1", "type": "merger", "date": "2018-01-01", "absorbed": ["FUND"], "into": "ESH-B"}
    )
    assert held(ledger, "2019-07-01")["ESH-B"] == (3, 0, 0)
    ledger.ok(reversal("R1", "2018-02-01", "M1"))
    assert held(ledger, "2019-07-01")["FUND"] == (1, 0, 0)
    replay_matches(ledger.url)


def test_the_register_counts_units_ended_at_term_as_overdue_not_as_dismembered(ledger):
    ledger.ok(
        *base_ledger(),
        bot("B1", "2017-07-01", ["U1", "U2"]),
        bot("B2", "2017-07-01", ["U3"], "2030-12-31"),
    )
    rows = cli(ledger.url, "report", "dismemberment", "--as-of", "2020-01-01")["rows"]
    assert rows == [
        {
            "usufructuary": "ESH-A",
            "bare_owner": "FUND",
            "units": 1,
            "maturities": {"2030": 1},
            "overdue": 2,
        }
    ]
    ledger.ok(ext("X1", "2020-01-01", ["U1"]))
    rows = cli(ledger.url, "report", "dismemberment", "--as-of", "2020-01-01")["rows"]
    assert rows[0]["overdue"] == 1


def test_the_rpls_extract_files_the_term_as_an_exit_and_an_entry(ledger):
    ledger.ok(*base_ledger(), bot("B1", "2017-07-01", ["U1"], "2019-03-31"))
    usufructuary = cli(ledger.url, "report", "rpls", "--entity", "ESH-A", "--year", "2020")["rows"]
    (row,) = [r for r in usufructuary if r["si_id"] == "U1"]
    assert (row["right"], row["exit_reason"], row["transfer_n1"]) == ("4", "5", "2")
    bare = cli(ledger.url, "report", "rpls", "--entity", "FUND", "--year", "2020")["rows"]
    (row,) = [r for r in bare if r["si_id"] == "U1"]
    assert (row["right"], row["entry_year"], row["entry_mode"], row["previous_owner"]) == (
        "1",
        2019,
        "3",
        "Entity ESH-A",
    )
    assert row["transfer_n1"] == "1"


@pytest.mark.postgres
def test_sqlite_and_postgresql_answer_the_same_json(sqlite_url: str, pg_url: str) -> None:
    txs = [
        *base_ledger(),
        bot("B1", "2017-07-01", ["U1", "U2"]),
        extension("E1", "2018-01-01", ["U2"], "2021-06-30"),
        ext("X1", "2019-09-01", ["U1"]),
        reversal("R1", "2019-09-02", "X1"),
        sale("S1", "2020-01-01", "FUND", ["U1"]),
    ]
    answers = []
    for url in (sqlite_url, pg_url):
        ledger = LedgerHarness(url)
        try:
            ledger.ok(*txs)
            answers.append(
                [
                    cli(url, *args)
                    for args in (
                        ("holdings", "--as-of", "2019-07-01"),
                        ("holdings",),
                        ("units", "--as-of", "2021-07-01"),
                        ("report", "dismemberment", "--as-of", "2021-12-31"),
                        ("report", "rpls", "--entity", "FUND", "--year", "2020"),
                        ("holdings", "--known-at", "40"),
                    )
                ]
            )
            replay_matches(url)
        finally:
            ledger.close()
    assert answers[0] == answers[1]
