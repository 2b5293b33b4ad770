"""The import pipeline in memory: the real `Recorder` (parse -> book -> store all or
nothing) over the in-memory fakes of tests/fakes.py, with no database."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from ledger.domain import Unit, unit_key
from tests.fakes import InMemoryLedger, jsonl

EXAMPLE = Path(__file__).parent.parent / "fixtures" / "example.jsonl"
LINE_ERROR = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): (?P<message>.+)$")


@pytest.fixture
def ledger() -> InMemoryLedger:
    return InMemoryLedger()


def test_the_example_file_records_17_transactions_as_43_events_in_one_transaction(
    ledger: InMemoryLedger,
) -> None:
    result = ledger.record_file(EXAMPLE)
    assert result.errors == []
    assert (result.recorded, result.already_recorded) == (17, 0)
    assert (result.events, result.position) == (43, 43)
    assert (ledger.store.head(), ledger.store.committed) == (43, 1)  # one transaction


def test_every_transaction_of_the_example_file_ends_with_its_journal_entry(
    ledger: InMemoryLedger,
) -> None:
    ledger.record_file(EXAMPLE)
    recorded = [
        (e.originator_version, e.topic)
        for e in ledger.store.events
        if e.topic.endswith("RecordedTransaction.Recorded")
    ]
    assert len(recorded) == 17
    assert ledger.store.events[-1].topic == "ledger.domain:RecordedTransaction.Recorded"


def test_recording_the_example_file_again_is_idempotent(ledger: InMemoryLedger) -> None:
    ledger.record_file(EXAMPLE)
    journal = list(ledger.store.events)
    again = ledger.record_file(EXAMPLE)
    assert again.errors == []
    assert (again.recorded, again.already_recorded, again.events) == (0, 17, 0)
    assert again.position == 43
    assert ledger.store.events == journal and ledger.store.committed == 1


def test_the_recorded_example_is_rebuilt_by_the_librarys_mapper(ledger: InMemoryLedger) -> None:
    ledger.record_file(EXAMPLE)
    sold: Unit = ledger.aggregate(unit_key("U-0001"))
    assert (sold.status, sold.last_transaction) == (Unit.LEFT, "SALE-2017-0001")
    restored: Unit = ledger.aggregate(unit_key("U-0002"))  # sold, then the sale reversed
    assert (restored.status, restored.holding.full_owner) == (Unit.HELD, "ESH-IDF")


def bad_file() -> bytes:
    """Line 1 valid, line 2 not JSON, line 3 blank, line 4 an unknown type, line 5 a sale
    of a unit that is not in the ledger, line 6 valid."""
    valid: dict[str, Any] = {
        "id": "ENT-NEW",
        "type": "register_entity",
        "date": "2019-01-01",
        "entity": "NEW",
        "name": "New",
        "kind": "hlm",
    }
    sale = {
        "id": "S-NOPE",
        "type": "sale",
        "date": "2019-02-01",
        "entity": "ESH-IDF",
        "units": ["NOPE"],
        "buyer": {"category": "individual"},
        "price_eur": "1.00",
    }
    unknown = {"id": "X", "type": "gift", "date": "2019-01-01"}
    other = {**valid, "id": "ENT-NEW-2", "entity": "NEW-2"}
    return b"".join(
        [
            jsonl([valid]),
            b'{"id": "broken",\n',
            b"\n",
            jsonl([unknown]),
            jsonl([sale]),
            jsonl([other]),
        ]
    )


def test_a_bad_file_records_nothing_and_reports_file_line_errors_in_line_order(
    ledger: InMemoryLedger,
) -> None:
    ledger.record_file(EXAMPLE)
    journal = list(ledger.store.events)
    result = ledger.record_bytes(bad_file(), "bad.jsonl")
    errors = [LINE_ERROR.match(str(e)) for e in result.errors]
    assert all(errors), [str(e) for e in result.errors]
    assert [(m["file"], int(m["line"])) for m in errors if m] == [
        ("bad.jsonl", 2),
        ("bad.jsonl", 4),
        ("bad.jsonl", 5),
    ]
    assert "gift" in str(result.errors[1])
    assert str(result.errors[2]).startswith("bad.jsonl:5: sale S-NOPE: unit NOPE")
    assert (result.recorded, result.already_recorded, result.events) == (0, 0, 0)
    assert result.position == 43
    assert ledger.store.events == journal and ledger.store.committed == 1


def test_a_line_is_booked_against_the_earlier_valid_lines_of_the_same_file(
    ledger: InMemoryLedger,
) -> None:
    entity = {
        "id": "ENT-A",
        "type": "register_entity",
        "date": "2017-01-01",
        "entity": "A",
        "name": "A",
        "kind": "hlm",
    }
    result = ledger.record(entity, {**entity, "id": "ENT-A-AGAIN"})
    assert [str(e) for e in result.errors] == [
        "test.jsonl:2: register_entity ENT-A-AGAIN: entity A is already registered"
    ]
    assert ledger.store.head() == 0
