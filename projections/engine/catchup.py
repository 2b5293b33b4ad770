"""Pull-based catch-up: read the journal after the projections' position, fold, write.

Each batch (whole ledger transactions, about `PAGE` events) is folded and written in ONE
database transaction together with the new position, so a crash leaves the projections
at a batch boundary and the next run continues from there. Concurrent catch-ups are
serialised by the lock on the position (projections/engine/position.py), taken before
the position is read. Empty projections far behind the journal are written by a rebuild
(projections/engine/rebuild.py) instead: every row once, into tables without indexes.

Must not: skip an event it cannot fold (that is an integrity failure, named by its
position), or write rows outside the transaction that moves the position.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from operator import itemgetter
from typing import Any

from ledger.errors import IntegrityFailure
from ledger.gcpause import paused_gc
from ledger.storage.database import Connection
from ledger.storage.eventstore import SqlEventStore
from projections.engine import position as projected
from projections.engine import rebuild as rebuilding
from projections.engine import tally
from projections.engine.results import CatchUpResult
from projections.engine.tables import COLUMNS
from projections.fold.decoding import decode_state
from projections.fold.rows import PREFIX, RECORDED, Row, StoredRow, WorkingSet
from projections.fold.transactions import fold_transaction

#: Events per batch (one commit). A batch ends after a whole ledger transaction, so a
#: transaction larger than this (a merger) is one batch of its own.
PAGE = 20_000
#: Empty projections at least this far behind the journal (the first catch-up after a
#: bulk import) are written by a rebuild: every row once, rather than batch by batch.
REBUILD_BEHIND = 100_000


class Projector:
    """The tracked writer of the stored projections: catch-up batches, or a rebuild."""

    def __init__(self, conn: Connection, store: SqlEventStore) -> None:
        self.conn = conn
        self.store = store

    def position(self) -> int:
        stored = projected.read(self.conn)
        return stored if stored is not None else 0

    def catch_up(
        self,
        upto: int | None = None,
        page: int = PAGE,
        progress: Callable[[int], None] | None = None,
    ) -> CatchUpResult:
        """Bring the projections up to the end of the journal (or to `upto`)."""
        if upto is None and self.position() == 0 and self.store.head() >= REBUILD_BEHIND:
            rebuilt = rebuilding.rebuild(self, progress, only_if_empty=True)
            if rebuilt is not None:
                return rebuilt
        result = CatchUpResult()
        started = time.perf_counter()
        while True:
            with paused_gc():
                done = self._batch(upto, page, result)
            if progress is not None:
                progress(result.position)
            if not done:
                break
        result.seconds = time.perf_counter() - started
        return result

    def _batch(self, upto: int | None, page: int, result: CatchUpResult) -> bool:
        """Fold and write one batch, in its own database transaction."""
        conn = self.conn
        conn.begin()
        try:
            projected.lock(conn)
            position = self.position()
            result.position = position
            rows = self._whole_transactions(position, page, upto)
            if not rows:
                conn.rollback()
                return False
            events, ws, count = self._fold(rows)
            write(conn, ws)
            new_position = events[-1].position
            projected.write(conn, new_position)
        except BaseException:
            conn.rollback()
            raise
        conn.commit()
        result.transactions += count
        result.events += len(events)
        result.position = new_position
        return True

    def _fold(self, rows: list[Any]) -> tuple[list[StoredRow], WorkingSet, int]:
        """Decode and fold whole transactions; a journal that cannot be folded is an
        integrity failure, named by its position (never a traceback)."""
        events: list[StoredRow] = []
        count = start = 0
        try:
            for pos, key, topic, state in rows:
                events.append(StoredRow(pos, key, topic, decode_state(state)))
            ws = WorkingSet()
            self._load(events, ws)
            for i, event in enumerate(events):
                if event.topic == RECORDED:
                    fold_transaction(ws, events[start : i + 1])
                    start = i + 1
                    count += 1
        except (KeyError, ValueError, TypeError, AttributeError) as e:
            at = events[start].position if start < len(events) else rows[0][0]
            raise IntegrityFailure(
                f"the journal cannot be folded at position {at} ({type(e).__name__}: {e}); "
                "run `housing-ledger audit verify`"
            ) from None
        return events, ws, count

    def _whole_transactions(self, position: int, page: int, upto: int | None) -> list[Any]:
        """Events after `position`, cut after the last complete transaction."""
        limit = page
        while True:
            rows = self.store.read_page(position, limit, upto)
            if not rows:
                return []
            last = next((i for i in range(len(rows) - 1, -1, -1) if rows[i][2] == RECORDED), -1)
            if last >= 0:
                return rows[: last + 1]
            if len(rows) < limit:
                raise ValueError(
                    f"the journal ends at position {rows[-1][0]} inside a transaction "
                    "(an event with no RecordedTransaction.Recorded after it)"
                )
            limit *= 2

    def _load(self, events: Sequence[StoredRow], ws: WorkingSet) -> None:
        """Add to `ws` the current rows of every unit, entity and business the events touch
        that it does not hold yet."""
        keys: dict[str, set[str]] = {"Unit": set(), "Entity": set(), "Business": set()}
        for event in events:
            kind = event.topic[len(PREFIX) :].split(".", 1)[0]
            if kind in keys:
                keys[kind].add(event.key)
        keys["Unit"] -= ws.units.keys() | ws.periods.keys()
        keys["Entity"] -= ws.entities.keys()
        keys["Business"] -= ws.businesses.keys()
        for row in self._select("hl_periods", "unit_key", keys["Unit"], current_only=True):
            ws.periods.setdefault(row["unit_key"], []).append(row)
        for row in self._select("hl_units", "unit_key", keys["Unit"], current_only=True):
            ws.units[row["unit_key"]] = row
        for row in self._select("hl_entities", "entity_key", keys["Entity"]):
            ws.entities.setdefault(row["entity_key"], []).append(row)
        for row in self._select("hl_memberships", "entity_key", keys["Entity"]):
            ws.memberships.setdefault(row["entity_key"], []).append(row)
        for row in self._select("hl_businesses", "business_key", keys["Business"]):
            ws.businesses.setdefault(row["business_key"], []).append(row)

    def _select(
        self, table: str, key_column: str, keys: Iterable[str], current_only: bool = False
    ) -> list[Row]:
        """The rows of `keys`, in row_id order (a key's versions oldest first). PostgreSQL:
        one statement with an array of keys; SQLite: IN lists of up to 5,000 keys."""
        keys = sorted(keys)
        if not keys:
            return []
        columns = COLUMNS[table]
        current = " AND known_to IS NULL" if current_only else ""
        select = f"SELECT {', '.join(columns)} FROM {table} WHERE {key_column}"
        if self.conn.is_pg:
            found = self.conn.query(f"{select} = ANY(?){current} ORDER BY row_id", (keys,))
        else:
            found = []
            for start in range(0, len(keys), 5000):
                chunk = keys[start : start + 5000]
                found += self.conn.query(f"{select} IN {self.conn.in_list(chunk)}{current}", chunk)
            found.sort(key=itemgetter(columns.index("row_id")))
        return [dict(zip(columns, r, strict=True)) for r in found]

    def rebuild(self, progress: Callable[[int], None] | None = None) -> CatchUpResult:
        """Empty every projection table and write it again from the journal alone, in ONE
        database transaction (projections/engine/rebuild.py)."""
        rebuilt = rebuilding.rebuild(self, progress)
        assert rebuilt is not None
        return rebuilt


def write(conn: Connection, ws: WorkingSet) -> None:
    """Write a folded batch: new rows (their `row_id`s assigned here), superseded
    versions, the tally's changes, then reversal marks."""
    for table, rows in ws.new.items():
        columns = COLUMNS[table]
        if "row_id" in columns:
            first = int(conn.scalar(f"SELECT MAX(row_id) FROM {table}") or 0) + 1
            for row_id, row in enumerate(rows, first):
                row["row_id"] = row_id
        conn.insert_many(table, columns, list(map(itemgetter(*columns), rows)))
    for table, changes in ws.superseded.items():
        conn.update_many(table, "known_to", "row_id", sorted(changes.items()))
    tally.add(conn, ws)
    void_terms(conn, ws.voided_terms)
    mark_reversals(conn, ws.reversed_transactions)


def void_terms(conn: Connection, voided: Sequence[tuple[str, str, int]]) -> None:
    """Void the stored movements of usufruct terms that the batch replaced (a term's
    movements made before the position that changed it; those not voided already)."""
    if voided:
        conn.executemany(
            "UPDATE hl_movements SET voided_at = ? WHERE unit_key = ? AND type = 'usufruct_term' "
            "AND date = ? AND position < ? AND voided_at IS NULL",
            [(at, key, day, at) for key, day, at in voided],
        )


def mark_reversals(conn: Connection, reversed_transactions: Iterable[tuple[str, int, str]]) -> None:
    """Mark reversed transactions and void their movements (those not marked already)."""
    for txn, at, reversal in reversed_transactions:
        conn.execute(
            "UPDATE hl_transactions SET reversed_at = ?, reversed_by = ? "
            "WHERE id = ? AND reversed_at IS NULL",
            (at, reversal, txn),
        )
        conn.execute(
            "UPDATE hl_movements SET voided_at = ? WHERE txn = ? AND voided_at IS NULL", (at, txn)
        )
