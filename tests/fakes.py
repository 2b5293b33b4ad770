"""In-memory fakes of the write side's ports (`ledger.booking.ports`), for unit tests.

`ledger/` never opens a database: it is handed an `EventStore` and a `LedgerIndex`.
Here both live in memory, so `Recorder` (the real import pipeline, with the real
`HousingLedger` mapper on eventsourcing's in-memory persistence) records transaction
files with no database at all:

- `InMemoryEventStore` keeps the journal as a list of `StoredEvent` (position = index + 1)
  and checks the optimistic-concurrency `Expectations` the way `SqlEventStore` does
  (a moved head for a merger, changed versions, a duplicate aggregate version), raising
  `ConcurrencyConflict` and writing nothing.
- `InMemoryLedgerIndex` answers the set lookups that the real `ProjectionIndex` answers
  from the projection tables by folding the fake journal with the pure fold
  (`projections.fold.transactions.fold_transaction`) into one `WorkingSet` and reading
  its rows the way the SQL does (current rows: `known_to IS NULL`). It is the same fold
  the catch-up runs, so its answers are those of caught-up projections.
- `InMemoryLedger` wires them with a `Recorder` and records lists of transactions or
  JSON-lines files.

What they do not do: no concurrency (no locks, no threads: a single writer; the checks
of `append` run but nothing can interleave), no durability or crash behaviour, no hash
chain or other `after_append` hooks, no bitemporal queries of the projections
(`as_of`, `known_at`) and no statements: those are exercised on real databases in
tests/integration/. The fold runs over the whole journal in one working set (the
catch-up folds in batches, loading rows back from the database between them).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from ledger.booking.ports import Expectations, Pending, stored_form
from ledger.booking.service import ImportResult, Recorder
from ledger.errors import ConcurrencyConflict
from ledger.storage.application import HousingLedger
from projections.fold.decoding import decode_state
from projections.fold.transactions import RECORDED, Row, StoredRow, WorkingSet, fold_transaction

IN_MEMORY = {"PERSISTENCE_MODULE": "eventsourcing.popo"}


def _uuid(key: UUID | str) -> UUID:
    return key if isinstance(key, UUID) else UUID(str(key))


class InMemoryWriter:
    """`JournalWriter` of the in-memory journal: writes straight into its list."""

    def __init__(self, store: InMemoryEventStore) -> None:
        self.store = store
        self.start = self.head = store.head()
        self.abandoned = False

    def write(self, events: Sequence[Pending]) -> list[int]:
        self.store.events.extend(map(stored_form, events))
        first, self.head = self.head, self.store.head()
        return list(range(first + 1, self.head + 1))

    def abandon(self) -> None:
        self.abandoned = True


class InMemoryEventStore:
    """The journal as a list: `EventStore` (ledger.booking.ports) with no database."""

    def __init__(self) -> None:
        self.events: list[StoredEvent] = []
        self.appends = 0
        self.committed = 0  # `writing` blocks that kept what they wrote

    def head(self) -> int:
        return len(self.events)

    def load(self, originator_ids: Iterable[UUID]) -> list[StoredEvent]:
        """Every stored event of these aggregates, by aggregate then version."""
        keys = {_uuid(k) for k in originator_ids}
        found = [e for e in self.events if _uuid(e.originator_id) in keys]
        return sorted(found, key=lambda e: (_uuid(e.originator_id).bytes, e.originator_version))

    def versions(self) -> dict[UUID, int]:
        """The last stored version of every aggregate."""
        latest: dict[UUID, int] = {}
        for e in self.events:
            key = _uuid(e.originator_id)
            latest[key] = max(latest.get(key, 0), e.originator_version)
        return latest

    def append(self, events: Sequence[StoredEvent], expect: Expectations) -> list[int]:
        """Store all the events or none, as `SqlEventStore.append` does."""
        head = self.head()
        if expect.head is not None and head != expect.head:
            raise ConcurrencyConflict(
                f"the journal moved from position {expect.head} to {head} while this file "
                "was validated, and it contains a merger; nothing was written"
            )
        stored = self.versions()
        if head != expect.read_at:
            for key, version in expect.versions.items():
                if stored.get(key, 0) != version:
                    label = expect.labels.get(key, f"aggregate {key}")
                    raise ConcurrencyConflict(
                        f"{label} was changed by another writer while this file was "
                        "validated; nothing was written"
                    )
        seen = {(key, v) for key, last in stored.items() for v in range(1, last + 1)}
        for e in events:  # the events table's primary key (originator_id, originator_version)
            row = (_uuid(e.originator_id), e.originator_version)
            if row in seen:
                raise ConcurrencyConflict(
                    "another writer recorded a conflicting event; nothing was written"
                )
            seen.add(row)
        self.events.extend(events)
        self.appends += 1
        return list(range(head + 1, head + 1 + len(events)))

    @contextmanager
    def writing(self) -> Iterator[InMemoryWriter]:
        """As `SqlEventStore.writing`: the events written in the block are kept at its end
        unless it raises or abandons (nobody else writes to this list meanwhile)."""
        writer = InMemoryWriter(self)
        try:
            yield writer
        except BaseException:
            del self.events[writer.start :]
            raise
        if writer.abandoned:
            del self.events[writer.start :]
        elif len(self.events) > writer.start:
            self.committed += 1

    def rows(self, after: int = 0) -> list[StoredRow]:
        """The journal after position `after` as the projections read it: position, key
        hex, topic, decoded state."""
        return [
            StoredRow(position, _uuid(e.originator_id).hex, e.topic, decode_state(e.state))
            for position, e in enumerate(self.events[after:], start=after + 1)
        ]


def fold_journal(rows: Sequence[StoredRow], ws: WorkingSet | None = None) -> WorkingSet:
    """Fold whole ledger transactions (each ends with its Recorded event) into `ws`."""
    ws = ws if ws is not None else WorkingSet()
    start = 0
    for i, row in enumerate(rows):
        if row.topic == RECORDED:
            fold_transaction(ws, rows[start : i + 1])
            start = i + 1
    if start != len(rows):
        raise ValueError(f"the journal ends inside a transaction at position {rows[-1].position}")
    return ws


def current(ws: WorkingSet, table: str) -> list[Row]:
    """The rows of `table` that are current (`known_to IS NULL`), in insertion order."""
    return [r for r in ws.new.get(table, []) if r.get("known_to") is None]


class InMemoryLedgerIndex:
    """`LedgerIndex` (ledger.booking.ports) answered from the pure fold of the fake journal,
    with the queries of `projections.queries.ProjectionIndex` over its rows."""

    def __init__(self, store: InMemoryEventStore) -> None:
        self.store = store
        self.ws = WorkingSet()
        self.position = 0

    def caught_up(self) -> WorkingSet:
        """The working set, after folding whatever was appended since the last lookup."""
        if self.store.head() > self.position:
            rows = self.store.rows(self.position)
            fold_journal(rows, self.ws)
            self.position = rows[-1].position
        return self.ws

    def _units(self) -> dict[str, Row]:
        return {r["unit_key"]: r for r in current(self.caught_up(), "hl_units")}

    def units_held_by(self, entities: Iterable[str], on: str | None = None) -> list[str]:
        wanted, units = set(entities), self._units()
        return sorted(
            {
                units[p["unit_key"]]["unit_id"]
                for p in current(self.caught_up(), "hl_periods")
                if (p["to_date"] is None or (on is not None and p["to_date"] > on))
                and p["holder"] in wanted
                and p["unit_key"] in units
            }
        )

    def businesses_held_by(self, entities: Iterable[str]) -> list[str]:
        wanted = set(entities)
        return sorted(
            {
                b["business"]
                for b in current(self.caught_up(), "hl_businesses")
                if b["status"] == "held" and b["owner"] in wanted
            }
        )

    def touched_by(self, transaction_id: str) -> tuple[list[str], list[str]]:
        ws = self.caught_up()
        touches = [t for t in ws.new.get("hl_touches", []) if t["txn"] == transaction_id]
        unit_ids = {r["unit_key"]: r["unit_id"] for r in ws.new.get("hl_units", [])}
        business_ids = {r["business_key"]: r["business"] for r in ws.new.get("hl_businesses", [])}
        units = {unit_ids[t["item_key"]] for t in touches if t["kind"] == "unit"}
        businesses = {business_ids[t["item_key"]] for t in touches if t["kind"] == "business"}
        return sorted(units), sorted(businesses)

    def rpls_in_use(self, rpls_ids: Iterable[str]) -> dict[str, str]:
        wanted = set(rpls_ids)
        return {
            u["rpls_id"]: u["unit_id"] for u in self._units().values() if u["rpls_id"] in wanted
        }

    def released_after(self, entities: Iterable[str], day: str) -> list[tuple[str, str]]:
        wanted, units = set(entities), self._units()
        return [
            (units[p["unit_key"]]["unit_id"], p["to_date"])
            for p in current(self.caught_up(), "hl_periods")
            if p["to_date"] is not None
            and p["closed_by"] is not None  # a usufruct's term is no release
            and p["to_date"] > day
            and p["holder"] in wanted
            and p["unit_key"] in units
        ]

    def _live_transactions(self) -> dict[int, Row]:
        rows = self.caught_up().new.get("hl_transactions", [])
        return {t["position"]: t for t in rows if t["reversed_at"] is None}

    def latest_namings(self, entity: str) -> list[tuple[str, str]]:
        live = self._live_transactions()
        names = [
            (live[n["position"]]["date"], n["position"], n["txn"])
            for n in self.caught_up().new.get("hl_names", [])
            if n["entity"] == entity and n["position"] in live
        ]
        return [(txn, day) for day, _, txn in sorted(names, reverse=True)[:50]]

    def later_naming(self, entity: str, after_transaction: str) -> list[str]:
        ws = self.caught_up()
        after = [
            t["position"] for t in ws.new.get("hl_transactions", []) if t["id"] == after_transaction
        ]
        if not after:
            return []
        live = self._live_transactions()
        return [
            n["txn"]
            for n in sorted(ws.new.get("hl_names", []), key=lambda n: n["position"])
            if n["entity"] == entity and n["position"] in live and n["position"] > after[0]
        ]


def jsonl(transactions: Iterable[dict[str, Any]]) -> bytes:
    return ("\n".join(json.dumps(t, ensure_ascii=False) for t in transactions) + "\n").encode()


class InMemoryLedger:
    """The real `Recorder` and `HousingLedger` mapper over the in-memory fakes."""

    def __init__(self) -> None:
        self.app = HousingLedger(env=IN_MEMORY)
        self.store = InMemoryEventStore()
        self.index = InMemoryLedgerIndex(self.store)
        self.recorder = Recorder(self.app, self.store, self.index)

    def record_bytes(self, raw: bytes, name: str = "test.jsonl") -> ImportResult:
        return self.recorder.record([(name, io.BytesIO(raw))])

    def record(self, *transactions: dict[str, Any], name: str = "test.jsonl") -> ImportResult:
        return self.record_bytes(jsonl(transactions), name)

    def record_file(self, path: Path) -> ImportResult:
        with path.open("rb") as stream:
            return self.recorder.record([(path.name, stream)])

    def ok(self, *transactions: dict[str, Any]) -> ImportResult:
        result = self.record(*transactions)
        assert not result.errors, [str(e) for e in result.errors]
        return result

    def load(self, keys: Iterable[UUID]) -> dict[UUID, Any]:
        """Aggregates rebuilt from the fake journal by the library's mapper (the
        `Book`'s loader; unlike `Recorder.load`, it does not depend on the last import)."""
        aggregates: dict[UUID, Any] = {}
        for stored in self.store.load(keys):
            event: Any = self.app.mapper.to_domain_event(stored)
            aggregates[event.originator_id] = event.mutate(aggregates.get(event.originator_id))
        return aggregates

    def aggregate(self, key: UUID) -> Any:
        """One aggregate rebuilt from the fake journal, or None."""
        return self.load([key]).get(key)
