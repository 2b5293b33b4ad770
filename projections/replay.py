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
from functools import cache
from operator import itemgetter
from typing import Any

import orjson

from ledger.application import paused_gc
from projections import schema
from projections.database import Connection
from projections.eventstore import SqlEventStore
from projections.fold import RECORDED, Row, StoredRow, WorkingSet, fold_transaction

PAGE = 10_000
TABLES = sorted(t.name for t in schema.PROJECTION_TABLES)
NOT_DIGESTED = {("hl_transactions", "recorded_at")}
#: Marks set by a later transaction, per table: cleared when reading "as at" a position.
LATER_MARKS = {"hl_transactions": ("reversed_at", "reversed_by"), "hl_movements": ("voided_at",)}

Rows = dict[str, list[tuple[Any, ...]]]


@cache
def columns(table: str) -> tuple[str, ...]:
    return tuple(c.name for c in schema.metadata.tables[table].columns if c.name != "row_id")


class Unreplayable(Exception):
    """The journal cannot be folded: an event the fold cannot read, or a transaction
    cut short. An integrity failure, never skipped."""


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
    with paused_gc():
        result = Replayed()
        folded = _fold(store, upto, result)
        for table in TABLES:  # rows as tuples (lighter), freeing each table's dicts in turn
            result.rows[table] = _tuples(folded.pop(table, []), columns(table))
    result.seconds = time.perf_counter() - started
    return result


def _tuples(rows: list[Row], cols: tuple[str, ...]) -> list[tuple[Any, ...]]:
    """Each row's values in column order. `itemgetter` is twice as fast as `dict.get`
    per column; a row missing a column (the fold does not promise every key) gets None."""
    try:
        return list(map(itemgetter(*cols), rows))
    except KeyError:
        return [tuple(map(row.get, cols)) for row in rows]


def _fold(store: SqlEventStore, upto: int | None, result: Replayed) -> dict[str, list[Row]]:
    """The rows the fold of the journal gives (counted in `result`), table by table."""
    ws = WorkingSet()
    pending: list[StoredRow] = []
    loads = orjson.loads
    for position, key, topic, state in _events(store, upto):
        try:
            pending.append(StoredRow(position, key, topic, loads(state)))
            if topic == RECORDED:
                fold_transaction(ws, pending)
        except (KeyError, TypeError, ValueError) as e:  # JSON errors are ValueErrors
            raise Unreplayable(f"the journal cannot be replayed at position {position}: "
                               f"{type(e).__name__}: {e}") from None
        if topic == RECORDED:
            result.events += len(pending)
            result.transactions += 1
            result.position = position
            pending = []
    if pending and upto is None:
        raise Unreplayable(f"the journal ends at position {pending[-1].position} inside a "
                           "transaction (an event with no RecordedTransaction.Recorded after it)")
    return ws.new


def stored_rows(conn: Connection, position: int, tables: Iterable[str] = TABLES) -> Rows:
    """The stored projections as they stood when the journal ended at `position`: the rows
    known then, without the marks (`known_to`, reversal, voiding) set by later positions."""
    rows: Rows = {}
    for table in tables:
        cols = columns(table)
        later = LATER_MARKS.get(table, ())
        marks = {c: later[0] for c in later}  # column -> the mark deciding if it was later
        if "known_to" in cols:
            marks["known_to"] = "known_to"
        selected, params = [], []
        for c in cols:
            if c in marks:
                selected.append(f"CASE WHEN {marks[c]} > ? THEN NULL ELSE {c} END")
                params.append(position)
            else:
                selected.append(c)
        where = "known_from <= ?" if "known_from" in cols else "position <= ?"
        rows[table] = conn.query(f"SELECT {', '.join(selected)} FROM {table} WHERE {where}",
                                 [*params, position])
    return rows


def state_digest(rows: Rows) -> str:
    """SHA-256 over, for each table by name: `table(col,...)` then its rows, one compact
    JSON array per line (UTF-8), lines sorted bytewise, leaving out NOT_DIGESTED."""
    digest = hashlib.sha256()
    for table in TABLES:
        cols = columns(table)
        keep = [i for i, c in enumerate(cols) if (table, c) not in NOT_DIGESTED]
        digest.update(f"{table}({','.join(cols[i] for i in keep)})\n".encode())
        for chunk in _batched(_sorted_lines(rows.get(table, []), keep, len(cols)), 10_000):
            digest.update(b"\n".join(chunk) + b"\n")
    return digest.hexdigest()


def _sorted_lines(rows: list[tuple[Any, ...]], keep: list[int], width: int) -> list[bytes]:
    """Each row's kept columns as compact JSON, sorted bytewise."""
    dumps = orjson.dumps
    if len(keep) < width:
        pick = itemgetter(*keep)
        rows = [pick(row) for row in rows]
    # (a copy: orjson leaves each result in an oversized buffer, 30x the memory)
    return sorted([bytes(memoryview(dumps(row))) for row in rows])


def _batched(items: list[bytes], size: int) -> Iterator[list[bytes]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


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


def compare(conn: Connection, position: int, rebuilt: Rows) -> Difference | None:
    """The first table (by name) whose stored rows, as at `position`, differ from the
    rebuilt ones (every column), with one differing row. Reads one table at a time."""
    for table in TABLES:
        stored = Counter(stored_rows(conn, position, [table])[table])
        theirs = Counter(rebuilt.get(table, []))
        if dict.__eq__(stored, theirs):  # (Counter's own == is 10x slower)
            continue
        extra, missing = stored - theirs, theirs - stored
        count = sum(extra.values()) + sum(missing.values())
        where, rows = ("stored", extra) if extra else ("rebuilt", missing)
        first = min(rows, key=lambda r: orjson.dumps(r))
        return Difference(table, dict(zip(columns(table), first, strict=True)), where, count)
    return None
