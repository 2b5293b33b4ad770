"""The passes of a replay: which events each pass folds, and which tables it keeps.

A journal of more than `pass_events` events is folded in passes, so that a replay's
memory does not grow with the ledger: one pass for the entities, businesses and
transactions (the journal read without the unit events), then one per range of unit
keys. The fold of a unit reads only that unit's state and the boundaries of the
transactions, so one more read of the journal routes each unit event to its range's
temporary file (`_route`), with the transactions' boundaries and reversals copied to
every file. The number of passes changes no row (tested).

Must not: fold events (projections/engine/replay.py does), keep rows, or write to the
database.
"""

from __future__ import annotations

import math
import pickle
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

import orjson

from ledger.storage import schema
from ledger.storage.eventstore import SqlEventStore
from projections.fold.rows import PREFIX, RECORDED

#: Events routed to a unit pass's temporary file at a time.
ROUTE_PAGE = 2_000
#: The tables of the unit passes and of the other pass (hl_touches is in both: a unit's
#: touches come from its events, a business's from the other pass).
UNIT_TABLES = frozenset({"hl_units", "hl_periods", "hl_movements", "hl_touches"})
OTHER_TABLES = frozenset(t.name for t in schema.PROJECTION_TABLES) - {
    "hl_units",
    "hl_periods",
    "hl_movements",
}
UNIT_TOPICS = PREFIX + "Unit."
JOURNAL_TOPICS = PREFIX + "RecordedTransaction."


class Unreplayable(Exception):
    """The journal cannot be folded: an event the fold cannot read, or a transaction
    cut short. An integrity failure, never skipped."""


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


def passes(store: SqlEventStore, end: int, pass_events: int, page: int) -> Iterator[Pass]:
    """The passes over the journal up to `end` (read `page` events at a time): one for a
    small journal; else the other pass (read with a filter), then one per range of unit
    keys, fed from temporary files that one more read of the journal fills (`_route`)."""
    n = unit_passes(end, pass_events)
    if n == 1:
        yield Pass(journal(store, end, page), None, True)
        return
    other = f" AND {_prefix(UNIT_TOPICS)} <> ?"
    yield Pass(journal(store, end, page, other, (UNIT_TOPICS,)), OTHER_TABLES, True)
    for file in _route(store, end, n, page):
        yield Pass(_partition(file), UNIT_TABLES, False)


def _route(store: SqlEventStore, end: int, n: int, page: int) -> list[IO[bytes]]:
    """Write each unit event to the file of its key's range (of `n`), as read (its state
    still encoded), and to every file the transactions' boundaries (the Recorded event's
    id, type and date: all a unit's fold needs) and reversals, in journal order."""
    files: list[IO[bytes]] = [tempfile.TemporaryFile() for _ in range(n)]  # noqa: SIM115
    pages: list[list[tuple[Any, ...]]] = [[] for _ in range(n)]
    unit, recorded = _prefix(UNIT_TOPICS), _prefix(JOURNAL_TOPICS)
    where = f" AND ({unit} = ? OR {recorded} = ?)"

    def put(k: int, event: tuple[Any, ...]) -> None:
        pages[k].append(event)
        if len(pages[k]) == ROUTE_PAGE:
            pickle.dump(pages[k], files[k], pickle.HIGHEST_PROTOCOL)
            pages[k] = []

    for event in journal(store, end, page, where, (UNIT_TOPICS, JOURNAL_TOPICS)):
        position, key, topic, state = event
        if topic.startswith(UNIT_TOPICS):
            put(int(key[:8], 16) * n >> 32, event)
            continue
        boundary = _boundary(position, topic, state)
        for k in range(n):
            put(k, (position, key, topic, boundary))
    for file, rest in zip(files, pages, strict=True):
        pickle.dump(rest, file, pickle.HIGHEST_PROTOCOL)
        file.seek(0)
    return files


def _boundary(position: int, topic: str, state: Any) -> dict[str, Any]:
    """A RecordedTransaction event's state, decoded: for a Recorded event only what a
    unit's fold reads of it."""
    try:
        s: dict[str, Any] = orjson.loads(state)
        if topic == RECORDED:
            s = {"transaction_id": s["transaction_id"], "type": s["type"], "on": s["on"]}
    except (KeyError, TypeError, ValueError) as e:
        raise Unreplayable(
            f"the journal cannot be replayed at position {position}: {type(e).__name__}: {e}"
        ) from None
    return s


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


def journal(
    store: SqlEventStore,
    upto: int | None,
    page: int,
    where: str = "",
    params: tuple[Any, ...] = (),
) -> Iterator[tuple[Any, ...]]:
    """The journal's events (position, key hex, topic, state) after each other, up to
    `upto` (default: the head), in pages of `page` positions, filtered by `where`.

    The passes other than a single one read only their topics, filtered by the database,
    so each pass does not fetch and decode the whole journal. A page is a range of
    positions (`id > ? AND id <= ?`), not `LIMIT page` rows after a position: with a
    filter, PostgreSQL without statistics on the journal (a bulk import not analysed
    yet) planned the LIMIT query as a scan of every position after `id`, sorted, for
    each page (a rebuild of 3.3M events took 1,225 s instead of 222 s); a range is
    planned as an index range on every database, whatever the statistics say."""
    end = store.head() if upto is None else upto
    sql = (
        f"SELECT id, {store.key_hex}, topic, {store.state_column} FROM {store.table} "
        f"WHERE id > ? AND id <= ?{where} ORDER BY id"
    )
    after = 0
    while after < end:
        last = min(after + page, end)
        yield from store.conn.query(sql, [after, last, *params])
        after = last
