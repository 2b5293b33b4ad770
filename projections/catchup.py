"""Pull-based catch-up: read the journal after the projections' position, fold, write.

Each batch (whole ledger transactions, a few thousand events) is folded and written in
ONE database transaction together with the new position, so a crash leaves the
projections at a batch boundary and the next run continues from there. Concurrent
catch-ups are serialised by a lock taken before the position is read (SQLite's write
lock; `SELECT ... FOR UPDATE` on the position row on PostgreSQL).
A rebuild is the same catch-up from position 0 on emptied tables.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ledger.errors import IntegrityFailure
from projections import schema
from projections.database import Connection
from projections.decoding import decode_state
from projections.eventstore import SqlEventStore
from projections.fold import PREFIX, RECORDED, Row, StoredRow, WorkingSet, fold_transaction

POSITION_KEY = "projection_position"
PAGE = 5000


@dataclass
class CatchUpResult:
    transactions: int = 0
    events: int = 0
    position: int = 0
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0


def _columns(table: str) -> list[str]:
    return [c.name for c in schema.metadata.tables[table].columns if c.name != "row_id"]


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
        result = CatchUpResult()
        started = time.perf_counter()
        while True:
            done = self._batch(upto, page, result)
            if progress is not None:
                progress(result.position)
            if not done:
                break
        result.seconds = time.perf_counter() - started
        return result

    def _batch(
        self, upto: int | None, page: int, result: CatchUpResult, own_transaction: bool = True
    ) -> bool:
        conn = self.conn
        if own_transaction:
            conn.begin()
        try:
            if conn.is_pg:
                conn.execute("SELECT value FROM hl_meta WHERE key = ? FOR UPDATE", (POSITION_KEY,))
            position = self.position()
            result.position = position
            rows = self._whole_transactions(position, page, upto)
            if not rows:
                if own_transaction:
                    conn.rollback()
                return False
            events, ws, count = self._fold(rows)
            write(conn, ws)
            new_position = events[-1].position
            self._set_position(new_position)
        except BaseException:
            conn.rollback()
            raise
        if own_transaction:
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
            ws = self._load(events)
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
            last = max((i for i, r in enumerate(rows) if r[2] == RECORDED), default=-1)
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

    def _load(self, events: Sequence[StoredRow]) -> WorkingSet:
        """The current rows of every unit, entity and business the events touch."""
        keys: dict[str, set[str]] = {"Unit": set(), "Entity": set(), "Business": set()}
        for event in events:
            kind = event.topic[len(PREFIX) :].split(".", 1)[0]
            if kind in keys:
                keys[kind].add(event.key)
        ws = WorkingSet()
        for row in self._select("hl_periods", "unit_key", keys["Unit"], current_only=True):
            ws.periods.setdefault(row["unit_key"], []).append(row)
        for row in self._select("hl_units", "unit_key", keys["Unit"], current_only=True):
            ws.units[row["unit_key"]] = row
        for row in self._select("hl_entities", "entity_key", keys["Entity"]):
            ws.entities.setdefault(row["entity_key"], []).append(row)
        for row in self._select("hl_businesses", "business_key", keys["Business"]):
            ws.businesses.setdefault(row["business_key"], []).append(row)
        return ws

    def _select(
        self, table: str, key_column: str, keys: Iterable[str], current_only: bool = False
    ) -> list[Row]:
        keys = sorted(keys)
        columns = ["row_id", *_columns(table)]
        rows: list[Row] = []
        current = " AND known_to IS NULL" if current_only else ""
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            found = self.conn.query(
                f"SELECT {', '.join(columns)} FROM {table} "
                f"WHERE {key_column} IN {self.conn.in_list(chunk)}{current} ORDER BY row_id",
                chunk,
            )
            rows.extend(dict(zip(columns, r, strict=True)) for r in found)
        return rows

    def rebuild(self, progress: Callable[[int], None] | None = None) -> CatchUpResult:
        """Empty every projection table and fold the whole journal again, in ONE database
        transaction: a failure part-way leaves the projections as they were."""
        result = CatchUpResult()
        started = time.perf_counter()
        self.conn.begin()
        try:
            for table in schema.PROJECTION_TABLES:
                self.conn.execute(f"DELETE FROM {table.name}")
            self._set_position(0)
            while self._batch(None, PAGE, result, own_transaction=False):
                if progress is not None:
                    progress(result.position)
        except BaseException:
            self.conn.rollback()
            raise
        self.conn.commit()
        result.seconds = time.perf_counter() - started
        return result


def write(conn: Connection, ws: WorkingSet) -> None:
    """Write a folded batch: new rows, superseded versions, then reversal marks."""
    for table, rows in ws.new.items():
        columns = _columns(table)
        conn.insert_many(table, columns, [tuple(map(row.get, columns)) for row in rows])
    for table, changes in ws.superseded.items():
        conn.executemany(
            f"UPDATE {table} SET known_to = ? WHERE row_id = ?",
            [(at, row_id) for row_id, at in changes.items()],
        )
    for txn, at, reversal in ws.reversed_transactions:
        conn.execute(
            "UPDATE hl_transactions SET reversed_at = ?, reversed_by = ? "
            "WHERE id = ? AND reversed_at IS NULL",
            (at, reversal, txn),
        )
        conn.execute(
            "UPDATE hl_movements SET voided_at = ? WHERE txn = ? AND voided_at IS NULL", (at, txn)
        )
