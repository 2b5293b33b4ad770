"""The pure fold, with no database: stored events in, projection rows out.

The events are those the real import pipeline stored in the in-memory journal
(tests/fakes.py), read back as the catch-up reads them (`StoredRow`: position, key hex,
topic, decoded state) and folded by `projections.fold.transactions.fold_transaction`
into a `WorkingSet`; the tests read its rows (current rows have `known_to` None).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ledger.domain import entity_key, unit_key
from projections.fold.transactions import Row, StoredRow, WorkingSet, fold_transaction
from tests.fakes import InMemoryLedger, current, fold_journal

EXAMPLE = Path(__file__).parent.parent / "fixtures" / "example.jsonl"


@pytest.fixture(scope="module")
def example() -> tuple[WorkingSet, dict[str, int]]:
    """The example file folded, and the journal position of each of its transactions."""
    ledger = InMemoryLedger()
    ledger.record_file(EXAMPLE)
    rows = ledger.store.rows()
    positions = {
        r.state["transaction_id"]: r.position
        for r in rows
        if r.topic == "ledger.domain:RecordedTransaction.Recorded"
    }
    return fold_journal(rows), positions


def periods(ws: WorkingSet, unit_id: str, everything: bool = False) -> list[tuple[Any, ...]]:
    """(holder, right, from, to, opened by, closed by) of a unit's current period rows."""
    rows = ws.new["hl_periods"] if everything else current(ws, "hl_periods")
    return sorted(
        (r["holder"], r["held_as"], r["from_date"], r["to_date"], r["opened_by"], r["closed_by"])
        for r in rows
        if r["unit_key"] == unit_key(unit_id).hex
    )


def movements(ws: WorkingSet, unit_id: str) -> list[tuple[Any, ...]]:
    """(transaction, entity, kind, voided at) of a unit's movement rows, in journal order."""
    return [
        (r["txn"], r["entity"], r["kind"], r["voided_at"])
        for r in ws.new["hl_movements"]
        if r["unit_key"] == unit_key(unit_id).hex
    ]


def test_a_sale_out_of_the_ledger_closes_the_sellers_period_and_counts_a_sale(example):
    ws, _ = example
    assert periods(ws, "U-0001") == [
        ("ESH-IDF", "full_ownership", "2017-01-01", "2017-06-20", "OPEN-ESH-IDF", "SALE-2017-0001")
    ]
    assert movements(ws, "U-0001") == [
        ("OPEN-ESH-IDF", "ESH-IDF", "registered", None),
        ("SALE-2017-0001", "ESH-IDF", "sold", None),
    ]


def test_a_sale_to_a_buyer_entity_closes_the_sellers_period_and_opens_the_buyers() -> None:
    ledger = InMemoryLedger()
    ledger.record_file(EXAMPLE)
    ledger.ok(
        {
            "id": "SALE-2019-01",
            "type": "sale",
            "date": "2019-03-01",
            "entity": "ESH-IDF",
            "units": ["U-0002"],
            "buyer": {"category": "institutional", "entity": "LLI-IDF"},
            "price_eur": "150000.00",
        }
    )
    ws = fold_journal(ledger.store.rows())
    assert periods(ws, "U-0002") == [
        ("ESH-IDF", "full_ownership", "2017-01-01", "2019-03-01", "OPEN-ESH-IDF", "SALE-2019-01"),
        ("LLI-IDF", "full_ownership", "2019-03-01", None, "SALE-2019-01", None),
    ]
    assert movements(ws, "U-0002")[-2:] == [
        ("SALE-2019-01", "ESH-IDF", "transferred", None),
        ("SALE-2019-01", "LLI-IDF", "received", None),
    ]


def test_a_reversal_voids_the_sales_movements_and_reopens_the_sellers_period(example):
    ws, positions = example
    reversal = positions["REV-2018-0001"]
    assert periods(ws, "U-0002") == [
        ("ESH-IDF", "full_ownership", "2017-01-01", None, "OPEN-ESH-IDF", None)
    ]
    assert movements(ws, "U-0002") == [
        ("OPEN-ESH-IDF", "ESH-IDF", "registered", None),
        ("SALE-2018-0007", "ESH-IDF", "sold", reversal),
    ]
    (sale,) = [t for t in ws.new["hl_transactions"] if t["id"] == "SALE-2018-0007"]
    assert (sale["reversed_at"], sale["reversed_by"]) == (reversal, "REV-2018-0001")
    # The period the sale closed stays in the rows, known until the reversal.
    closed = [
        r
        for r in ws.new["hl_periods"]
        if r["unit_key"] == unit_key("U-0002").hex and r["closed_by"] == "SALE-2018-0007"
    ]
    assert [(r["known_from"], r["known_to"]) for r in closed] == [
        (positions["SALE-2018-0007"], reversal)
    ]


def test_a_bare_ownership_transfer_splits_usufruct_and_bare_ownership(example):
    ws, _ = example
    assert periods(ws, "U-0101") == [
        ("AFL", "full_ownership", "2017-01-01", "2017-07-01", "OPEN-AFL", "BOT-2017-AFL-01"),
        ("AFL", "usufruct", "2017-07-01", "2042-07-01", "BOT-2017-AFL-01", None),
        ("AGIRC-ARRCO", "bare_ownership", "2017-07-01", "2042-07-01", "BOT-2017-AFL-01", None),
        # the usufruct ends at its term (2042-06-30): the bare owner then holds in full
        ("AGIRC-ARRCO", "full_ownership", "2042-07-01", None, "BOT-2017-AFL-01", None),
    ]
    ends = {r["held_as"]: r["usufruct_end"] for r in current(ws, "hl_periods")}
    assert ends["usufruct"] == "2042-06-30"
    assert movements(ws, "U-0101")[-3:] == [
        ("BOT-2017-AFL-01", "AFL", "usufruct_ended", None),
        ("BOT-2017-AFL-01", "AGIRC-ARRCO", "reunited", None),
        ("BOT-2017-AFL-01", "AFL", "dismembered", None),
    ]


def test_an_extinguished_usufruct_makes_the_bare_owner_full_owner(example):
    ws, _ = example
    open_periods = [p for p in periods(ws, "U-0102") if p[3] is None]
    assert open_periods == [
        ("AGIRC-ARRCO", "full_ownership", "2018-09-30", None, "EXT-2018-AFL-01", None)
    ]
    assert movements(ws, "U-0102")[-2:] == [
        ("EXT-2018-AFL-01", "AFL", "usufruct_ended", None),
        ("EXT-2018-AFL-01", "AGIRC-ARRCO", "reunited", None),
    ]


def test_a_merger_marks_the_absorbed_entity_absorbed_into_the_other(example):
    ws, positions = example
    (absorbed,) = [r for r in current(ws, "hl_entities") if r["entity"] == "LLI-EST"]
    assert (absorbed["status"], absorbed["absorbed_into"], absorbed["changed_by"]) == (
        "absorbed",
        "LLI-IDF",
        "MRG-2018-01",
    )
    assert absorbed["entity_key"] == entity_key("LLI-EST").hex
    assert absorbed["known_from"] == positions["MRG-2018-01"]


def test_a_divested_business_gets_a_new_version_and_the_old_one_is_superseded(example):
    ws, positions = example
    versions = [(r["status"], r["known_to"]) for r in ws.new["hl_businesses"]]
    assert versions == [("held", positions["DIV-2017-ADB"]), ("divested", None)]


# --- hand-built stored rows -----------------------------------------------------------


def recorded(position: int, txn: str, content: str = "{}") -> StoredRow:
    state: Row = {
        "transaction_id": txn,
        "type": "register_entity",
        "on": {"_type_": "date_iso", "_data_": "2017-01-01"},
        "timestamp": {"_type_": "datetime_iso", "_data_": "2024-01-01T00:00:00+00:00"},
        "content": content,
    }
    return StoredRow(position, "00" * 16, "ledger.domain:RecordedTransaction.Recorded", state)


def test_an_event_of_an_unknown_topic_is_refused_not_skipped() -> None:
    unknown = StoredRow(1, "11" * 16, "ledger.domain:Unit.Painted", {"colour": "blue"})
    with pytest.raises(ValueError, match="unknown event topic 'ledger.domain:Unit.Painted'"):
        fold_transaction(WorkingSet(), [unknown, recorded(2, "T1")])


def test_a_transaction_must_end_with_its_journal_entry() -> None:
    entity = StoredRow(
        1,
        "22" * 16,
        "ledger.domain:Entity.Registered",
        {"entity_id": "E", "name": "E", "kind": "hlm", "region": None},
    )
    with pytest.raises(ValueError, match="must end with its Recorded event"):
        fold_transaction(WorkingSet(), [entity])


def test_the_journal_entry_gives_the_transaction_row_and_the_names_it_holds() -> None:
    ws = WorkingSet()
    content = '{"entity": "E", "buyer": {"entity": "F"}}'
    assert fold_transaction(ws, [recorded(7, "T1", content)]) == 7
    (row,) = ws.new["hl_transactions"]
    assert (row["position"], row["id"], row["date"], row["reversed_at"]) == (
        7,
        "T1",
        "2017-01-01",
        None,
    )
    assert [(n["entity"], n["position"]) for n in ws.new["hl_names"]] == [("E", 7), ("F", 7)]
