"""Pull-based catch-up: read the journal after the projections' position, fold, write.

Each batch (whole ledger transactions, a few thousand events) is folded and written in
ONE database transaction together with the new position, so a crash leaves the
projections at a batch boundary and the next run continues from there. Concurrent
catch-ups are serialised by a lock taken before the position is read (SQLite's write
lock; `SELECT ... FOR UPDATE` on the position row on PostgreSQL).
A rebuild (projections/engine/rebuild.py) empties the tables and writes them again from the
replay's passes over the whole journal.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from sqlalchemy import Index
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.schema import CreateIndex

from ledger.errors import IntegrityFailure
from ledger.gcpause import paused_gc
from ledger.storage import schema
from ledger.storage.database import Connection
from ledger.storage.eventstore import SqlEventStore
from projections.engine import tally
from projections.fold.decoding import decode_state
from projections.fold.transactions import (
    PREFIX,
    RECORDED,
    Row,
    StoredRow,
    WorkingSet,
    fold_transaction,
)

POSITION_KEY = "projection_position"
#: Events per batch (one commit). A batch ends after a whole ledger transaction, so a
#: transaction larger than this (a merger) is one batch of its own.
PAGE = 20_000
LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE for a lock NOWAIT could not take
#: Empty projections at least this far behind the journal (the first catch-up after a
#: bulk import) are written by a rebuild: every row once, about 3x faster than batches.
REBUILD_BEHIND = 100_000
DIALECTS = {"sqlite": sqlite.dialect(), "postgresql": postgresql.dialect()}


@dataclass
class CatchUpResult:
    transactions: int = 0
    events: int = 0
    position: int = 0
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0


#: Every column of each projection table, `row_id` included (the writer assigns it).
COLUMNS = {t.name: [c.name for c in t.columns] for t in schema.PROJECTION_TABLES}


class Projector:
    def __init__(self, conn: Connection, store: SqlEventStore) -> None:
        self.conn = conn
        self.store = store

    def position(self) -> int:
        value = self.conn.scalar("SELECT value FROM hl_meta WHERE key = ?", (POSITION_KEY,))
        return int(value) if value is not None else 0

    def catch_up(
        self,
        upto: int | None = None,
        page: int = PAGE,
        progress: Callable[[int], None] | None = None,
    ) -> CatchUpResult:
        """Bring the projections up to the end of the journal (or to `upto`)."""
        if upto is None and self.position() == 0 and self.store.head() >= REBUILD_BEHIND:
            from projections.engine.rebuild import rebuild

            rebuilt = rebuild(self, progress, only_if_empty=True)
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
            if conn.is_pg:
                conn.execute("SELECT value FROM hl_meta WHERE key = ? FOR UPDATE", (POSITION_KEY,))
            position = self.position()
            result.position = position
            rows = self._whole_transactions(position, page, upto)
            if not rows:
                conn.rollback()
                return False
            events, ws, count = self._fold(rows)
            write(conn, ws)
            new_position = events[-1].position
            self._set_position(new_position)
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

    def _set_position(self, position: int) -> None:
        if self.conn.scalar("SELECT 1 FROM hl_meta WHERE key = ?", (POSITION_KEY,)):
            self.conn.execute(
                "UPDATE hl_meta SET value = ? WHERE key = ?", (str(position), POSITION_KEY)
            )
        else:
            self.conn.execute(
                "INSERT INTO hl_meta (key, value) VALUES (?, ?)", (POSITION_KEY, str(position))
            )

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
        from projections.engine.rebuild import rebuild

        rebuilt = rebuild(self, progress)
        assert rebuilt is not None
        return rebuilt

    def _empty(self) -> bool:
        """Empty the projection tables; True if the rebuild may drop their indexes.

        PostgreSQL: the lock on the position row first (as a catch-up), then TRUNCATE if no
        other session has the tables open (`NOWAIT`): it leaves no dead copy of every row
        behind, as DELETE does, and it (like DROP INDEX) needs the tables to itself, which
        a reader's open transaction would deny until it ends. Otherwise DELETE, indexes
        kept. SQLite: DELETE (a truncation there); readers never block the writer."""
        conn = self.conn
        names = ", ".join(t.name for t in schema.PROJECTION_TABLES)
        if not conn.is_pg:
            for table in schema.PROJECTION_TABLES:
                conn.execute(f"DELETE FROM {table.name}")
            return True
        conn.execute("SELECT value FROM hl_meta WHERE key = ? FOR UPDATE", (POSITION_KEY,))
        conn.execute("SAVEPOINT hl_rebuild_lock")
        try:
            conn.execute(f"LOCK TABLE {names} IN ACCESS EXCLUSIVE MODE NOWAIT")
        except Exception as error:
            if getattr(error, "pgcode", None) != LOCK_NOT_AVAILABLE:
                raise
            conn.execute("ROLLBACK TO SAVEPOINT hl_rebuild_lock")
            for table in schema.PROJECTION_TABLES:
                conn.execute(f"DELETE FROM {table.name}")
            return False
        conn.execute(f"TRUNCATE {names}")
        return True


def drop_indexes(conn: Connection) -> list[Index]:
    """Drop the projection tables' indexes (those of schema.py); returns them."""
    dropped = [
        index
        for table in schema.PROJECTION_TABLES
        for index in sorted(table.indexes, key=lambda i: str(i.name))
    ]
    for index in dropped:
        conn.execute(f"DROP INDEX IF EXISTS {index.name}")
    return dropped


def create_indexes(conn: Connection, indexes: list[Index]) -> None:
    for index in indexes:
        conn.execute(str(CreateIndex(index).compile(dialect=DIALECTS[conn.dialect])))


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
    mark_reversals(conn, ws.reversed_transactions)


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
