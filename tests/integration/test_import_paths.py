"""The import's stored-form fast paths (new units, journal entries, a merger's moves of
units entered by the same file) write the journal that the aggregate path writes.

The same story is imported as one file (units entered by the file are never built as
aggregates unless a line needs one) and one transaction per file (every earlier unit is
loaded from the journal by the library's mapper and changed as an aggregate): the two
journals are the same event for event, byte for byte but for each event's timestamp.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from ledger.demo import generate
from tests.support import LedgerHarness


def journal(ledger: LedgerHarness) -> list[tuple[Any, ...]]:
    rows = ledger.conn.query(
        "SELECT id, originator_id, originator_version, topic, state "
        "FROM housingledger_events ORDER BY id"
    )
    result = []
    for position, key, version, topic, state in rows:
        stamp = orjson.loads(state)["timestamp"]["_data_"].encode()
        result.append((position, bytes(key), version, topic, bytes(state).replace(stamp, b"")))
    return result


def test_one_file_and_one_transaction_per_file_store_the_same_journal(
    sqlite_url: str, tmp_path: Any
) -> None:
    story = list(generate(units=500, seed=7, profile="scale"))
    assert sum(tx["type"] == "merger" for tx in story) > 5  # mergers of units of the file
    whole = LedgerHarness(sqlite_url)
    whole.ok(*story)
    apart = LedgerHarness(f"sqlite:///{tmp_path / 'apart.db'}")
    for tx in story:
        apart.ok(tx)
    mine, theirs = journal(whole), journal(apart)
    whole.close()
    apart.close()
    assert len(mine) == len(theirs) > 1000
    assert mine == theirs


def _units(tx_id: str, entity: str, ids: list[str], date: str) -> dict[str, Any]:
    units = [
        {"unit_id": u, "commune": "75056", "zone": "A", "segment": "social", "rpls_id": f"R-{u}"}
        for u in ids
    ]
    return {"id": tx_id, "type": "register_units", "date": date, "entity": entity, "units": units}


def _merger(tx_id: str, absorbed: list[str], into: str, date: str) -> dict[str, Any]:
    return {"id": tx_id, "type": "merger", "date": date, "absorbed": absorbed, "into": into}


def _sale(tx_id: str, units: list[str], seller: str, date: str) -> dict[str, Any]:
    return {
        "id": tx_id,
        "type": "sale",
        "date": date,
        "entity": seller,
        "units": units,
        "buyer": {"category": "tenant"},
        "price_eur": "100000.00",
    }


ENTITIES = [
    {
        "id": f"ENT-{e}",
        "type": "register_entity",
        "date": "2017-01-01",
        "entity": e,
        "name": e,
        "kind": "hlm",
    }
    for e in ("E1", "E2", "E3", "E4")
]
SCENARIOS = {
    "merged twice then sold": [
        _units("R1", "E1", ["U1", "U2"], "2017-02-01"),
        _merger("M1", ["E1"], "E2", "2018-01-01"),
        _merger("M2", ["E2"], "E3", "2019-01-01"),
        _sale("S1", ["U2"], "E3", "2019-02-01"),
    ],
    "merger dated before the units entered": [
        _units("R1", "E1", ["U1", "U2"], "2018-06-01"),
        _merger("M1", ["E1"], "E2", "2018-01-01"),
    ],
    "second merger dated before the first": [
        _units("R1", "E1", ["U1"], "2017-02-01"),
        _units("R2", "E2", ["U3"], "2017-02-01"),
        _merger("M1", ["E1"], "E2", "2018-06-01"),
        _merger("M2", ["E2"], "E3", "2018-01-01"),
    ],
    "merger reversed, then the units merged elsewhere": [
        _units("R1", "E1", ["U1", "U2"], "2017-02-01"),
        _merger("M1", ["E1"], "E2", "2018-01-01"),
        {"id": "X1", "type": "reversal", "date": "2018-02-01", "reverses": "M1", "reason": "wrong"},
        _merger("M2", ["E1"], "E4", "2018-03-01"),
        _sale("S2", ["U1"], "E4", "2018-04-01"),
    ],
    "rpls id of a merged unit reused": [
        _units("R1", "E1", ["U1"], "2017-02-01"),
        _merger("M1", ["E1"], "E2", "2018-01-01"),
        _units("R2", "E2", ["U9"], "2018-02-01")
        | {
            "units": [
                {
                    "unit_id": "U9",
                    "commune": "75056",
                    "zone": "A",
                    "segment": "social",
                    "rpls_id": "R-U1",
                }
            ]
        },
    ],
}


def _messages(errors: list[Any]) -> list[str]:
    return [e.message for e in errors]


@pytest.mark.parametrize("name", SCENARIOS)
def test_a_file_gives_the_errors_and_journal_of_its_lines_imported_one_by_one(
    sqlite_url: str, tmp_path: Any, name: str
) -> None:
    story = [*ENTITIES, *SCENARIOS[name]]
    whole = LedgerHarness(sqlite_url)
    apart = LedgerHarness(f"sqlite:///{tmp_path / 'apart.db'}")
    expected: list[str] = []
    for tx in story:
        expected += _messages(apart.record([tx]).errors)
    result = whole.record(story)
    assert _messages(result.errors) == expected
    if not expected:
        assert journal(whole) == journal(apart)
    assert ("rejected" if expected else "ok") == (
        "ok"
        if name in ("merged twice then sold", "merger reversed, then the units merged elsewhere")
        else "rejected"
    )
    whole.close()
    apart.close()


def test_versions_read_are_looked_up_only_if_the_journal_moved(sqlite_url: str) -> None:
    from ledger.booking.ports import Expectations
    from ledger.domain.keys import unit_key
    from ledger.errors import ConcurrencyConflict

    ledger = LedgerHarness(sqlite_url)
    ledger.ok(*ENTITIES)
    store, head = ledger.session.store, ledger.session.store.head()
    stale = {unit_key("nowhere"): 3}  # a version no journal has: only a lookup can tell
    store._check(Expectations(stale, read_at=head))  # the journal did not move: fine
    with pytest.raises(ConcurrencyConflict, match="changed by another writer"):
        store._check(Expectations(stale, read_at=head - 1))
    ledger.close()
