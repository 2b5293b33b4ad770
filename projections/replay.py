"""Replay: rebuild the projections from the journal alone, digest them, check them.

`rebuild_in_memory` folds the journal (up to a position) into one `WorkingSet` with the
same pure fold the catch-up uses, and never touches the stored projections, so it works
on a read-only connection. `stored_rows` reads the stored projections as they stood at a
position (the bitemporal filter, with later `known_to`, `reversed_at` and `voided_at`
marks taken off). `state_digest` is a canonical hash of such rows; `compare` names the
first table and row where two states differ.

The state digest is canonical: every projection table (by name), its columns (schema
order, without the surrogate `row_id`), its rows encoded as compact JSON arrays, sorted.
It leaves out `hl_transactions.recorded_at` (the wall-clock time of the import): the same
journal imported into two databases gives the same digest. `compare` checks every column.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from projections import schema
from projections.database import Connection
from projections.decoding import decode_state
from projections.eventstore import SqlEventStore
from projections.fold import RECORDED, StoredRow, WorkingSet, fold_transaction

PAGE = 10_000
TABLES = sorted(t.name for t in schema.PROJECTION_TABLES)
NOT_DIGESTED = {("hl_transactions", "recorded_at")}
#: Marks set by a later transaction, per table: cleared when reading "as at" a position.
LATER_MARKS = {"hl_transactions": ("reversed_at", "reversed_by"), "hl_movements": ("voided_at",)}

Rows = dict[str, list[tuple[Any, ...]]]


def columns(table: str) -> list[str]:
    return [c.name for c in schema.metadata.tables[table].columns if c.name != "row_id"]


@dataclass
class Replayed:
    """A state rebuilt from the journal, and how long it took."""

    position: int = 0
    transactions: int = 0
    events: int = 0
    seconds: float = 0.0
    rows: Rows = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0


def _events(store: SqlEventStore, upto: int | None) -> Iterator[tuple[Any, ...]]:
    after = 0
    while True:
        page = store.read_page(after, PAGE, upto)
        yield from page
        if len(page) < PAGE:
            return
        after = page[-1][0]


def rebuild_in_memory(store: SqlEventStore, upto: int | None = None) -> Replayed:
    """Fold the journal's whole transactions up to `upto` (default: the end)."""
    started = time.perf_counter()
    result = Replayed()
    ws = WorkingSet()
    pending: list[StoredRow] = []
    for position, key, topic, state in _events(store, upto):
        pending.append(StoredRow(position, key, topic, decode_state(state)))
        if topic == RECORDED:
            fold_transaction(ws, pending)
            result.events += len(pending)
            result.transactions += 1
            result.position = position
            pending = []
    if pending and upto is None:
        raise ValueError(f"the journal ends at position {pending[-1].position} inside a "
                         "transaction (an event with no RecordedTransaction.Recorded after it)")
    result.rows = {table: [tuple(row.get(c) for c in columns(table))
                           for row in ws.new.get(table, [])] for table in TABLES}
    result.seconds = time.perf_counter() - started
    return result


def stored_rows(conn: Connection, position: int) -> Rows:
    """The stored projections as they stood when the journal ended at `position`."""
    rows: Rows = {}
    for table in TABLES:
        cols = columns(table)
        if "known_from" in cols:
            where = "known_from <= ?"
        else:
            where = "position <= ?"
        found = conn.query(f"SELECT {', '.join(cols)} FROM {table} WHERE {where}", (position,))
        rows[table] = [_as_at(table, cols, row, position) for row in found]
    return rows


def _as_at(table: str, cols: list[str], row: tuple[Any, ...], position: int) -> tuple[Any, ...]:
    values = dict(zip(cols, row, strict=True))
    if values.get("known_to") is not None and values["known_to"] > position:
        values["known_to"] = None
    marks = LATER_MARKS.get(table, ())
    if marks and values[marks[0]] is not None and values[marks[0]] > position:
        for mark in marks:
            values[mark] = None
    return tuple(values[c] for c in cols)


def _encoded(table: str, rows: Iterable[tuple[Any, ...]], skip: set[int]) -> list[str]:
    return sorted(json.dumps([v for i, v in enumerate(row) if i not in skip], ensure_ascii=False,
                             separators=(",", ":")) for row in rows)


def state_digest(rows: Rows) -> str:
    """SHA-256 over, for each table by name: `table(col,...)` then its sorted rows, one
    JSON array per line (UTF-8), leaving out the columns in NOT_DIGESTED."""
    digest = hashlib.sha256()
    for table in TABLES:
        cols = columns(table)
        skip = {i for i, c in enumerate(cols) if (table, c) in NOT_DIGESTED}
        kept = [c for i, c in enumerate(cols) if i not in skip]
        digest.update(f"{table}({','.join(kept)})\n".encode())
        for line in _encoded(table, rows.get(table, []), skip):
            digest.update(line.encode("utf-8") + b"\n")
    return digest.hexdigest()


@dataclass(frozen=True)
class Difference:
    table: str
    row: dict[str, Any]
    where: str  # "stored" (a stored row the journal does not give) or "rebuilt"
    count: int  # how many rows differ in this table

    def __str__(self) -> str:
        if self.where == "stored":
            what = "the stored projections have a row that the journal does not give"
        else:
            what = "the stored projections lack a row that the journal gives"
        return (f"table {self.table}: {what}: {json.dumps(self.row, ensure_ascii=False)} "
                f"({self.count} differing row(s) in this table)")


def compare(stored: Rows, rebuilt: Rows) -> Difference | None:
    """The first table (by name) whose rows differ, with one differing row."""
    for table in TABLES:
        cols = columns(table)
        mine = Counter(_encoded(table, stored.get(table, []), set()))
        theirs = Counter(_encoded(table, rebuilt.get(table, []), set()))
        if mine == theirs:
            continue
        extra, missing = mine - theirs, theirs - mine
        count = sum(extra.values()) + sum(missing.values())
        where, line = ("stored", min(extra)) if extra else ("rebuilt", min(missing))
        return Difference(table, dict(zip(cols, json.loads(line), strict=True)), where, count)
    return None
