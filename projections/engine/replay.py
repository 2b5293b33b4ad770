"""Replay: rebuild the projections from the journal alone, digest them, check them.

`rebuild_in_memory` folds the journal (up to a position) with the same pure fold the
catch-up uses, and never touches the stored projections, so it works on a read-only
connection. Its memory is bounded: a journal of more than `PASS_EVENTS` events is folded
in passes, one for the entities, businesses and transactions and one per range of unit
keys (the fold of a unit reads only that unit's state; each pass reads the journal again,
filtered by the database), and each pass leaves its rows as sorted runs of lines spilled to
temporary files (projections/engine/runs.py). `stored_state` reads the stored projections as they
stood at a position (the bitemporal filter, with later `known_to`, `reversed_at` and
`voided_at` marks taken off) into the same form. `state_digest` hashes such a state;
`compare` names the first table and row where two states differ.

The state digest is canonical: every projection table (by name), its columns (schema
order, without the surrogate `row_id`), its rows encoded as compact JSON arrays, sorted.
It leaves out `hl_transactions.recorded_at` (the wall-clock time of the import): the same
journal imported into two databases gives the same digest. `compare` checks every column.
The number of passes changes neither (tested).
"""

from __future__ import annotations

import hashlib
import json
import math
import pickle
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from operator import itemgetter
from typing import IO, Any

import orjson

from ledger.gcpause import paused_gc
from ledger.storage import schema
from ledger.storage.database import Connection
from ledger.storage.eventstore import SqlEventStore
from projections.engine.runs import Runs, chunks, differences
from projections.fold.transactions import (
    PREFIX,
    RECORDED,
    Row,
    StoredRow,
    WorkingSet,
    fold_transaction,
)

PAGE = 10_000
#: The events one pass of a replay folds at most: bounds its memory (~3 KiB per event).
PASS_EVENTS = 200_000
#: Events routed to a unit pass's temporary file at a time.
ROUTE_PAGE = 2_000
#: Rows sorted in memory at a time (a run).
RUN_ROWS = 250_000
TABLES = sorted(t.name for t in schema.PROJECTION_TABLES)
NOT_DIGESTED = {("hl_transactions", "recorded_at")}
#: Marks set by a later transaction, per table: cleared when reading "as at" a position.
LATER_MARKS = {"hl_transactions": ("reversed_at", "reversed_by"), "hl_movements": ("voided_at",)}
#: The tables of the unit passes and of the other pass (hl_touches is in both: a unit's
#: touches come from its events, a business's from the other pass).
UNIT_TABLES = frozenset({"hl_units", "hl_periods", "hl_movements", "hl_touches"})
OTHER_TABLES = frozenset(TABLES) - {"hl_units", "hl_periods", "hl_movements"}
UNIT_TOPICS = PREFIX + "Unit."
JOURNAL_TOPICS = PREFIX + "RecordedTransaction."


@cache
def columns(table: str) -> tuple[str, ...]:
    return tuple(c.name for c in schema.metadata.tables[table].columns if c.name != "row_id")


@cache
def digested(table: str) -> tuple[int, ...] | None:
    """The indexes of the columns the digest keeps, or None if it keeps them all."""
    cols = columns(table)
    keep = tuple(i for i, c in enumerate(cols) if (table, c) not in NOT_DIGESTED)
    return None if len(keep) == len(cols) else keep


class Unreplayable(Exception):
    """The journal cannot be folded: an event the fold cannot read, or a transaction
    cut short. An integrity failure, never skipped."""


class State:
    """Every projection table's rows as sorted lines (compact JSON arrays, every column),
    plus, for a table the digest does not take whole, its digested lines."""

    def __init__(self, spill: bool = False) -> None:
        self.lines = {table: Runs(spill) for table in TABLES}
        self.digest_lines = {t: Runs(spill) for t in TABLES if digested(t) is not None}

    def add(self, table: str, rows: list[tuple[Any, ...]], full: bool = True) -> None:
        """Add rows (values in `columns(table)` order) as one sorted run (`full=False`:
        only the digested lines of a table the digest does not take whole)."""
        keep = digested(table)
        if full or keep is None:
            self.lines[table].add(_lines(rows))
        if keep is not None:
            pick = itemgetter(*keep)
            self.digest_lines[table].add(_lines([pick(row) for row in rows]))

    def digested_lines(self, table: str) -> Iterator[bytes]:
        return iter(self.digest_lines.get(table) or self.lines[table])

    def rows(self, table: str) -> list[tuple[Any, ...]]:
        """A table's rows, decoded (for tests and small states)."""
        return [tuple(orjson.loads(line)) for line in self.lines[table]]

    def close(self) -> None:
        for runs in (*self.lines.values(), *self.digest_lines.values()):
            runs.close()


def _lines(rows: Iterable[tuple[Any, ...]]) -> list[bytes]:
    dumps = orjson.dumps
    return [dumps(row) + b"\n" for row in rows]  # (+ copies: orjson's buffer is oversized)


@dataclass
class Replayed:
    """A state rebuilt from the journal, and how long it took."""

    position: int = 0
    transactions: int = 0
    events: int = 0
    seconds: float = 0.0
    passes: int = 1
    state: State = field(default_factory=State)

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0


@dataclass
class Pass:
    """One pass of the fold: the events it reads, the tables it keeps, and whether it
    counts the transactions (the unit passes count their unit events only)."""

    events: Iterable[tuple[Any, ...]]
    keep: frozenset[str] | None
    counts: bool


def unit_passes(end: int, pass_events: int) -> int:
    """How many ranges of unit keys a journal of `end` events is folded in (1: one pass
    folds everything)."""
    return math.ceil(end / pass_events) if end > pass_events else 1


def passes(store: SqlEventStore, end: int, pass_events: int) -> Iterator[Pass]:
    """The passes over the journal up to `end`: one for a small journal; else the other
    pass (read with a filter), then one per range of unit keys, fed from temporary files
    that one more read of the journal fills (`_route`)."""
    n = unit_passes(end, pass_events)
    if n == 1:
        yield Pass(_events(store, end), None, True)
        return
    yield Pass(
        _events(store, end, f" AND {_prefix(UNIT_TOPICS)} <> ?", (UNIT_TOPICS,)), OTHER_TABLES, True
    )
    for file in _route(store, end, n):
        yield Pass(_partition(file), UNIT_TABLES, False)


def _route(store: SqlEventStore, end: int, n: int) -> list[IO[bytes]]:
    """Write each unit event to the file of its key's range (of `n`), as read (its state
    still encoded), and to every file the transactions' boundaries (the Recorded event's
    id, type and date: all a unit's fold needs) and reversals, in journal order."""
    files: list[IO[bytes]] = [tempfile.TemporaryFile() for _ in range(n)]  # noqa: SIM115
    pages: list[list[tuple[Any, ...]]] = [[] for _ in range(n)]
    unit, journal = _prefix(UNIT_TOPICS), _prefix(JOURNAL_TOPICS)
    where = f" AND ({unit} = ? OR {journal} = ?)"

    def put(k: int, event: tuple[Any, ...]) -> None:
        pages[k].append(event)
        if len(pages[k]) == ROUTE_PAGE:
            pickle.dump(pages[k], files[k], pickle.HIGHEST_PROTOCOL)
            pages[k] = []

    for event in _events(store, end, where, (UNIT_TOPICS, JOURNAL_TOPICS)):
        position, key, topic, state = event
        if topic.startswith(UNIT_TOPICS):
            put(int(key[:8], 16) * n >> 32, event)
            continue
        try:
            s = orjson.loads(state)
            if topic == RECORDED:
                s = {"transaction_id": s["transaction_id"], "type": s["type"], "on": s["on"]}
        except (KeyError, TypeError, ValueError) as e:
            raise Unreplayable(
                f"the journal cannot be replayed at position {position}: {type(e).__name__}: {e}"
            ) from None
        for k in range(n):
            put(k, (position, key, topic, s))
    for file, page in zip(files, pages, strict=True):
        pickle.dump(page, file, pickle.HIGHEST_PROTOCOL)
        file.seek(0)
    return files


def _partition(file: IO[bytes]) -> Iterator[tuple[Any, ...]]:
    with file:
        while True:
            try:
                page = pickle.load(file)  # noqa: S301 (our own temporary file)
            except EOFError:
                return
            yield from page


def _prefix(topics: str) -> str:
    return f"substr(topic, 1, {len(topics)})"


def _events(
    store: SqlEventStore, upto: int | None, where: str = "", params: tuple[Any, ...] = ()
) -> Iterator[tuple[Any, ...]]:
    """The journal's events after each other, in keyset pages (filtered by `where`)."""
    after = 0
    stop = "" if upto is None else " AND id <= ?"
    sql = (
        f"SELECT id, {store.key_hex}, topic, {store.state_column} FROM {store.table} "
        f"WHERE id > ?{stop}{where} ORDER BY id LIMIT ?"
    )
    while True:
        page = store.conn.query(sql, [after, *([] if upto is None else [upto]), *params, PAGE])
        yield from page
        if len(page) < PAGE:
            return
        after = page[-1][0]


def rebuild_in_memory(
    store: SqlEventStore, upto: int | None = None, pass_events: int = PASS_EVENTS
) -> Replayed:
    """Fold the journal's whole transactions up to `upto` (default: the end)."""
    started = time.perf_counter()
    with paused_gc(), _small_cache(store.conn):
        end = store.head() if upto is None else min(upto, store.head())
        n = unit_passes(end, pass_events)
        result = Replayed(passes=n + (n > 1), state=State(spill=n > 1))
        for one in passes(store, end, pass_events):  # all read the journal up to `end`
            rows = fold_pass(one, upto is None, result)
            for table in TABLES:  # as lines, freeing each table's dicts in turn
                if table in rows:
                    _add_rows(result.state, table, rows.pop(table))
    result.seconds = time.perf_counter() - started
    return result


@contextmanager
def _small_cache(conn: Connection) -> Iterator[None]:
    """SQLite's page cache kept small while the journal is read once (the connection's
    256 MiB, for the catch-up's index updates, would only fill with journal pages)."""
    if conn.is_pg:
        yield
        return
    size = conn.scalar("PRAGMA cache_size")
    conn.execute("PRAGMA cache_size = -16384")
    try:
        yield
    finally:
        conn.execute(f"PRAGMA cache_size = {int(size)}")


def _add_rows(state: State, table: str, rows: list[Row]) -> None:
    """Add a pass's rows of `table` to `state`, `RUN_ROWS` at a time (a run each; a
    journal entry's row holds the whole transaction: fewer of those)."""
    cols = columns(table)
    size = RUN_ROWS // 25 if table == "hl_transactions" else RUN_ROWS
    for start in range(0, len(rows), size):
        state.add(table, _tuples(rows[start : start + size], cols))


def _tuples(rows: list[Row], cols: tuple[str, ...]) -> list[tuple[Any, ...]]:
    """Each row's values in column order. `itemgetter` is twice as fast as `dict.get`
    per column; a row missing a column (the fold does not promise every key) gets None."""
    try:
        return list(map(itemgetter(*cols), rows))
    except KeyError:
        return [tuple(map(row.get, cols)) for row in rows]


def fold_pass(one: Pass, whole: bool, result: Replayed) -> dict[str, list[Row]]:
    """The rows one pass of the fold gives, table by table; the events it folds and (in
    the pass that counts them) the transactions are counted in `result`."""
    ws = WorkingSet(keep=one.keep)
    pending: list[StoredRow] = []
    loads = orjson.loads
    counts = one.counts
    for position, key, topic, state in one.events:
        try:
            pending.append(
                StoredRow(position, key, topic, state if type(state) is dict else loads(state))
            )
            if topic == RECORDED:
                fold_transaction(ws, pending)
        except (KeyError, TypeError, ValueError) as e:  # JSON errors are ValueErrors
            raise Unreplayable(
                f"the journal cannot be replayed at position {position}: {type(e).__name__}: {e}"
            ) from None
        if topic == RECORDED:
            if counts:
                result.events += len(pending)
                result.transactions += 1
                result.position = position
            else:  # a unit pass counts its unit events only
                result.events += sum(1 for e in pending if e.topic.startswith(UNIT_TOPICS))
            pending = []
    if pending and whole:
        raise Unreplayable(
            f"the journal ends at position {pending[-1].position} inside a "
            "transaction (an event with no RecordedTransaction.Recorded after it)"
        )
    return ws.new


def stored_state(
    conn: Connection, position: int, tables: Iterable[str] = TABLES, digest_only: bool = False
) -> State:
    """The stored projections as they stood when the journal ended at `position`: the rows
    known then, without the marks (`known_to`, reversal, voiding) set by later positions.
    Read in keyset pages of the primary key, `RUN_ROWS` rows sorted at a time (`digest_only`:
    without the lines only `compare` needs). A catch-up running meanwhile changes nothing
    read: its rows and marks are all after `position`."""
    state = State(spill=True)
    for table in tables:
        sql, params = _stored_query(table, position)
        after, run = 0, list[tuple[Any, ...]]()
        while True:
            page = conn.query(sql, [*params, after, PAGE])
            run.extend(row[1:] for row in page)
            if len(run) >= RUN_ROWS or len(page) < PAGE:
                state.add(table, run, full=not digest_only)
                run = []
            if len(page) < PAGE:
                break
            after = page[-1][0]
    return state


def _stored_query(table: str, position: int) -> tuple[str, list[Any]]:
    cols = columns(table)
    later = LATER_MARKS.get(table, ())
    marks = {c: later[0] for c in later}  # column -> the mark deciding if it was later
    if "known_to" in cols:
        marks["known_to"] = "known_to"
    key = _page_key(table)
    selected, params = [key], []
    for c in cols:
        if c in marks:
            selected.append(f"CASE WHEN {marks[c]} > ? THEN NULL ELSE {c} END")
            params.append(position)
        else:
            selected.append(c)
    where = "known_from <= ?" if "known_from" in cols else "position <= ?"
    return (
        f"SELECT {', '.join(selected)} FROM {table} WHERE {where} AND {key} > ? "
        f"ORDER BY {key} LIMIT ?",
        [*params, position],
    )


@cache
def _page_key(table: str) -> str:
    """The column the stored rows are paged by: the table's one-column primary key."""
    (key,) = schema.metadata.tables[table].primary_key.columns
    return str(key.name)


def state_digest(state: State) -> str:
    """SHA-256 over, for each table by name: `table(col,...)` then its rows, one compact
    JSON array per line (UTF-8), lines sorted bytewise, leaving out NOT_DIGESTED."""
    digest = hashlib.sha256()
    for table in TABLES:
        cols = columns(table)
        keep = digested(table) or range(len(cols))
        digest.update(f"{table}({','.join(cols[i] for i in keep)})\n".encode())
        for chunk in chunks(state.digested_lines(table)):
            digest.update(chunk)
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
        return (
            f"table {self.table}: {what}: {json.dumps(self.row, ensure_ascii=False)} "
            f"({self.count} differing row(s) in this table)"
        )


def compare(conn: Connection, position: int, rebuilt: State) -> Difference | None:
    """The first table (by name) whose stored rows, as at `position`, differ from the
    rebuilt ones (every column), with its smallest differing row (a stored row the journal
    does not give first). Reads one table at a time, as sorted runs."""
    for table in TABLES:
        stored = stored_state(conn, position, [table])
        try:
            count, extra, missing = differences(
                iter(stored.lines[table]), iter(rebuilt.lines[table])
            )
        finally:
            stored.close()
        if count:
            where, line = ("stored", extra) if extra is not None else ("rebuilt", missing)
            row = orjson.loads(line or b"[]")
            return Difference(table, dict(zip(columns(table), row, strict=True)), where, count)
    return None
