"""Replay: rebuild the projections from the journal alone, in memory, as a state to digest.

`rebuild_in_memory` folds the journal (up to a position) with the same pure fold the
catch-up uses, and never touches the stored projections, so it works on a read-only
connection. Its memory is bounded: a journal of more than `PASS_EVENTS` events is folded
in passes (projections/engine/passes.py), and each pass leaves its rows as sorted runs of
lines, spilled to temporary files (projections/engine/digest.py). The stored rebuild
(projections/engine/rebuild.py) folds the same passes with `fold_pass`.

Must not: write to the database, or skip an event it cannot fold (`Unreplayable`).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

import orjson

from ledger.gcpause import paused_gc
from ledger.storage.database import Connection
from ledger.storage.eventstore import SqlEventStore
from projections.engine import digest
from projections.engine.digest import TABLES, Difference, State, columns, state_digest
from projections.engine.passes import UNIT_TOPICS, Pass, Unreplayable, passes, unit_passes
from projections.engine.results import Timed
from projections.fold.rows import RECORDED, Row, StoredRow, WorkingSet
from projections.fold.transactions import fold_transaction

#: The events one pass of a replay folds at most: bounds its memory.
PASS_EVENTS = 200_000
#: Events, or stored rows, read from the database at a time.
PAGE = 10_000
#: Rows sorted in memory at a time (a run), rebuilt or stored.
RUN_ROWS = 250_000
#: SQLite's page cache while the journal is read, in KiB (a negative `cache_size`).
READ_CACHE_KIB = 16384

#: What callers (the command line, the stored rebuild) use here; the digest's names are
#: defined in projections/engine/digest.py.
__all__ = [
    "PAGE",
    "PASS_EVENTS",
    "RUN_ROWS",
    "TABLES",
    "Replayed",
    "State",
    "Unreplayable",
    "compare",
    "fold_pass",
    "rebuild_in_memory",
    "state_digest",
    "stored_state",
]


@dataclass
class Replayed(Timed):
    """A state rebuilt from the journal, and how long it took."""

    position: int = 0
    transactions: int = 0
    events: int = 0
    seconds: float = 0.0
    passes: int = 1
    state: State = field(default_factory=State)


def rebuild_in_memory(
    store: SqlEventStore, upto: int | None = None, pass_events: int = PASS_EVENTS
) -> Replayed:
    """Fold the journal's whole transactions up to `upto` (default: the end)."""
    started = time.perf_counter()
    with paused_gc(), _small_cache(store.conn):
        end = store.head() if upto is None else min(upto, store.head())
        n = unit_passes(end, pass_events)
        result = Replayed(passes=n + (n > 1), state=State(spill=n > 1))
        for one in passes(store, end, pass_events, PAGE):  # each reads up to `end`
            rows = fold_pass(one, upto is None, result)
            for table in TABLES:  # as lines, freeing each table's dicts in turn
                if table in rows:
                    _add_rows(result.state, table, rows.pop(table))
    result.seconds = time.perf_counter() - started
    return result


def stored_state(
    conn: Connection, position: int, tables: Iterable[str] = TABLES, digest_only: bool = False
) -> State:
    """The stored projections as they stood at `position` (digest.stored_state), read
    `PAGE` rows at a time and sorted `RUN_ROWS` at a time."""
    return digest.stored_state(
        conn, position, page=PAGE, run_rows=RUN_ROWS, tables=tables, digest_only=digest_only
    )


def compare(conn: Connection, position: int, rebuilt: State) -> Difference | None:
    """Where the stored projections, as at `position`, first differ from a rebuilt state
    (digest.compare); None if they do not."""
    return digest.compare(conn, position, rebuilt, page=PAGE, run_rows=RUN_ROWS)


@contextmanager
def _small_cache(conn: Connection) -> Iterator[None]:
    """SQLite's page cache kept small while the journal is read once (the connection's
    larger cache, sized for the catch-up's index updates, would only fill with journal
    pages)."""
    if conn.is_pg:
        yield
        return
    size = conn.scalar("PRAGMA cache_size")
    conn.execute(f"PRAGMA cache_size = -{READ_CACHE_KIB}")
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
    """Each row's values in column order (`itemgetter`, the fast way); a row missing a
    column (the fold does not promise every key) gets None."""
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
