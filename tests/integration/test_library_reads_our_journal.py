"""The library reads what our journal store wrote: units and journal entries stored in
the import's direct form are rebuilt by `HousingLedger`'s repository from a real database.

Moved from tests/unit/test_created.py and tests/unit/test_events.py: they need a ledger
on a SQLite file (the `ledger` fixture).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import orjson

import ledger.domain as domain
from ledger.domain import RecordedTransaction, Unit, transaction_key, unit_key
from ledger.storage.application import HousingLedger, persistence_env
from ledger.storage.eventstore import SqlEventStore
from tests.support import base_ledger
from tests.unit.test_created import the_library_way


def test_the_library_rebuilds_what_an_import_stored_directly(ledger: Any) -> None:
    ledger.ok(*base_ledger())
    app = HousingLedger(env=persistence_env(ledger.url))
    unit = app.repository.get(unit_key("U1"))
    assert (unit.status, unit.holding.full_owner, unit.version) == (Unit.HELD, "ESH-A", 1)
    assert unit.attributes["rpls_id"] == "R1"
    entry = app.repository.get(transaction_key("OPEN-A"))
    assert (entry.transaction_id, entry.type, entry.on) == (
        "OPEN-A",
        "register_units",
        date(2017, 1, 1),
    )
    # Every stored created event is what the library would store with its timestamp.
    for stored in SqlEventStore(ledger.conn).load(
        [unit_key(u) for u in ("U1", "U2", "U3")] + [transaction_key("OPEN-A")]
    ):
        event: Any = app.mapper.to_domain_event(stored)
        fields = {
            k: v
            for k, v in vars(event).items()
            if k not in ("originator_id", "originator_version", "timestamp", "originator_topic")
        }
        aggregate = Unit if isinstance(event, Unit.Entered) else RecordedTransaction
        again = the_library_way(
            app, aggregate, type(event), stored.originator_id, fields, event.timestamp
        )
        assert again == stored
        assert orjson.loads(stored.state)["timestamp"]["_type_"] == "datetime_iso"


def test_a_unit_entered_and_sold_in_one_file_is_rebuilt_by_the_library(ledger: Any) -> None:
    sale = {
        "id": "S1",
        "type": "sale",
        "date": "2018-02-01",
        "entity": "ESH-A",
        "units": ["U1"],
        "buyer": {"category": "sitting_tenant"},
        "price_eur": "120000.00",
    }
    ledger.ok(*base_ledger(), sale)
    unit = HousingLedger(env=persistence_env(ledger.url)).repository.get(unit_key("U1"))
    assert (unit.status, unit.version, unit.last_transaction) == (Unit.LEFT, 2, "S1")


def test_the_library_reconstructs_units_written_by_our_journal_store(ledger) -> None:
    ledger.ok(
        *base_ledger(),
        {
            "id": "S1",
            "type": "sale",
            "date": "2018-02-01",
            "entity": "ESH-A",
            "units": ["U1"],
            "buyer": {"category": "sitting_tenant"},
            "price_eur": "120000.00",
        },
    )
    app = HousingLedger(env=persistence_env(ledger.url))
    unit = app.repository.get(domain.unit_key("U1"))
    assert unit.status == domain.Unit.LEFT
    assert unit.version == 2
    assert unit.attributes["rpls_id"] == "R1"
    notifications = app.recorder.select_notifications(start=1, limit=1000)
    assert len(notifications) == ledger.journal_size()
