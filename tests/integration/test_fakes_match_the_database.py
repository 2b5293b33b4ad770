"""The in-memory fakes of tests/fakes.py answer as the database does.

Unit tests trust `InMemoryEventStore` and `InMemoryLedgerIndex`; this pins them to the
real adapters: the same transactions recorded on a real database (SQLite file and
PostgreSQL) and in memory give the same journal (aggregate, version, topic, in order),
the same `LedgerIndex` answers, and the same current holding periods.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from projections.queries import ProjectionIndex
from tests.fakes import InMemoryLedger, current
from tests.support import LedgerHarness

EXAMPLE = Path(__file__).parent.parent / "fixtures" / "example.jsonl"
EXAMPLE_LINES = [line for line in EXAMPLE.read_text(encoding="utf-8").splitlines() if line]

MORE: list[dict[str, Any]] = [
    {
        "id": "SALE-2019-01",
        "type": "sale",
        "date": "2019-03-01",
        "entity": "ESH-IDF",
        "units": ["U-0002"],
        "buyer": {"category": "institutional", "entity": "LLI-IDF"},
        "price_eur": "150000.00",
    },
    {
        "id": "ENT-AFL-2",
        "type": "register_entity",
        "date": "2019-06-01",
        "entity": "AFL-2",
        "name": "Association foncière (bis)",
        "kind": "association",
    },
    {  # a merger joins one family: AFL (an association) into another association
        "id": "MRG-2020-01",
        "type": "merger",
        "date": "2020-01-01",
        "absorbed": ["AFL"],
        "into": "AFL-2",
    },
    {
        "id": "REV-2020-01",
        "type": "reversal",
        "date": "2020-02-01",
        "reverses": "MRG-2020-01",
        "reason": "merger annulled",
    },
]
ENTITIES = ["AL-GROUPE", "ESH-IDF", "LLI-IDF", "LLI-EST", "AFL", "AGIRC-ARRCO", "AFL-2"]


def both(any_ledger: LedgerHarness) -> InMemoryLedger:
    """Record the example file then MORE in the database and in memory."""
    import json

    memory = InMemoryLedger()
    example = [json.loads(line) for line in EXAMPLE_LINES]
    for batch in (example, MORE[:2], MORE[2:]):
        any_ledger.ok(*batch)
        memory.ok(*batch)
    return memory


def answers(index: Any) -> dict[str, Any]:
    return {
        "units_held_by": [index.units_held_by([e]) for e in ENTITIES],
        "businesses_held_by": index.businesses_held_by(ENTITIES),
        "touched_by": [
            index.touched_by(t) for t in ("SALE-2018-0007", "MRG-2018-01", "DIV-2017-ADB")
        ],
        "rpls_in_use": index.rpls_in_use(["0930660000001", "NONE"]),
        "released_after": sorted(index.released_after(ENTITIES, "2017-01-01")),
        "latest_namings": [index.latest_namings(e) for e in ENTITIES],
        "later_naming": [index.later_naming(e, "ENT-" + e) for e in ENTITIES[1:]]
        + [index.later_naming("AL-GROUPE", "ENT-GROUP")],
    }


def test_the_in_memory_index_answers_as_the_projection_index(any_ledger):
    memory = both(any_ledger)
    database = answers(ProjectionIndex(any_ledger.session.current()))
    assert answers(memory.index) == database
    assert database["units_held_by"] != [[]] * len(ENTITIES)


def test_the_in_memory_journal_holds_the_events_the_database_holds(any_ledger):
    memory = both(any_ledger)
    rows = any_ledger.conn.query(
        "SELECT topic, originator_version FROM housingledger_events ORDER BY id"
    )
    assert [(e.topic, e.originator_version) for e in memory.store.events] == [
        (topic, version) for topic, version in rows
    ]
    assert memory.store.head() == any_ledger.journal_size()


def test_the_fold_in_memory_gives_the_current_periods_of_the_catch_up(any_ledger):
    memory = both(any_ledger)
    columns = ("holder", "held_as", "from_date", "to_date", "usufruct_end", "opened_by")
    stored = any_ledger.session.current().query(
        f"SELECT {', '.join(columns)} FROM hl_periods WHERE known_to IS NULL"
    )
    folded = [tuple(r[c] for c in columns) for r in current(memory.index.caught_up(), "hl_periods")]
    assert sorted(folded, key=repr) == sorted((tuple(r) for r in stored), key=repr)
    assert len(folded) > 10
