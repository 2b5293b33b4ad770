"""`Recorder.record_stream`: `register_units` transactions booked and written one at a
time inside one journal write, then forgotten by the book; all or nothing as ever. Over
the in-memory fakes of tests/fakes.py, where what the writer wrote is what later lines
read back."""

from __future__ import annotations

from typing import Any

import pytest

from ledger.domain import Unit, unit_key
from tests.fakes import InMemoryLedger

ENTITY = {"id": "ENT-ESH", "type": "register_entity", "date": "2017-01-01",
          "entity": "ESH-IDF", "name": "ESH Île-de-France", "kind": "hlm"}  # fmt: skip


def unit(n: int, **extra: Any) -> dict[str, Any]:
    return {"unit_id": f"U-{n:04d}", "commune": "93066", "zone": "A",
            "segment": "social", **extra}  # fmt: skip


def register(tx_id: str, *units: dict[str, Any]) -> dict[str, Any]:
    return {"id": tx_id, "type": "register_units", "date": "2020-01-01",
            "entity": "ESH-IDF", "units": list(units)}  # fmt: skip


@pytest.fixture
def ledger() -> InMemoryLedger:
    ledger = InMemoryLedger()
    ledger.ok(ENTITY)
    return ledger


def stream(ledger: InMemoryLedger, *transactions: dict[str, Any]) -> Any:
    return ledger.recorder.record_stream("esh.csv", enumerate(transactions, start=2))


def test_each_transaction_is_written_as_it_comes_and_the_book_keeps_none_of_its_units(
    ledger: InMemoryLedger,
) -> None:
    before = ledger.store.head()
    result = stream(ledger, register("R-001", unit(1), unit(2)), register("R-002", unit(3)))
    assert result.errors == []
    assert (result.recorded, result.events) == (2, 5)
    assert result.position == ledger.store.head() == before + 5
    held: Unit = ledger.aggregate(unit_key("U-0003"))
    assert (held.status, held.holding.full_owner) == (Unit.HELD, "ESH-IDF")


def test_a_unit_of_an_earlier_transaction_is_found_again_in_what_was_written(
    ledger: InMemoryLedger,
) -> None:
    before = list(ledger.store.events)
    result = stream(ledger, register("R-001", unit(1)), register("R-002", unit(1)))
    assert [str(e) for e in result.errors] == [
        "esh.csv:3: register_units R-002: unit U-0001 is already in the ledger"
    ]
    assert result.recorded == result.events == 0
    assert ledger.store.events == before  # the first transaction's events are dropped too


def test_every_line_is_still_checked_after_an_error_and_nothing_is_written(
    ledger: InMemoryLedger,
) -> None:
    before = list(ledger.store.events)
    bad = register("R-001", unit(1, zone="Z"))
    result = stream(ledger, bad, register("R-002", unit(2)), register("R-003", unit(2)))
    assert [e.line for e in result.errors] == [2, 4]
    assert ledger.store.events == before


def test_a_withheld_stream_writes_nothing(ledger: InMemoryLedger) -> None:
    before = list(ledger.store.events)
    result = ledger.recorder.record_stream(
        "esh.csv", enumerate([register("R-001", unit(1))], start=2), withhold=lambda: True
    )
    assert (result.errors, result.recorded, result.position) == ([], 0, len(before))
    assert ledger.store.events == before


def test_the_same_stream_again_records_nothing(ledger: InMemoryLedger) -> None:
    txs = [register("R-001", unit(1)), register("R-002", unit(2))]
    stream(ledger, *txs)
    journal = list(ledger.store.events)
    again = stream(ledger, *txs)
    assert (again.errors, again.recorded, again.already_recorded) == ([], 0, 2)
    assert ledger.store.events == journal


def test_only_registrations_are_streamed(ledger: InMemoryLedger) -> None:
    with pytest.raises(ValueError, match="register_units, not register_entity"):
        stream(ledger, {**ENTITY, "id": "ENT-2", "entity": "ESH-2"})
