"""A projection state as sorted lines: its digest, the stored one, and where two differ.

`State` holds every projection table's rows as compact JSON arrays (one line each,
sorted as runs: projections/engine/runs.py), however they were obtained: folded by a
replay, or read from the stored projections by `stored_state` as they stood at a
position (the bitemporal filter, with later `known_to`, `reversed_at` and `voided_at`
marks taken off). `state_digest` hashes a state; `compare` names the first table and
row where the stored state differs from a rebuilt one.

The state digest is canonical: every projection table (by name), its columns (schema
order, without the surrogate `row_id`), its rows encoded as compact JSON arrays, sorted.
It leaves out `hl_transactions.recorded_at` (the wall-clock time of the import): the same
journal imported into two databases gives the same digest. A column of DIGESTED_WHEN_SET
counts only where it has a value, a row of a table of DIGESTED_WHEN_STATED only where it
is stated. `compare` checks every column.

How many rows are read and sorted at a time is the caller's (projections/engine/replay.py
holds that policy). Must not: fold events or read the journal; it never writes to the
database.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from operator import itemgetter
from typing import Any

import orjson

from ledger.storage import schema
from ledger.storage.database import Connection
from projections.engine.runs import Runs, chunks, differences

TABLES = sorted(t.name for t in schema.PROJECTION_TABLES)
NOT_DIGESTED = {("hl_transactions", "recorded_at")}
#: Columns a later schema added that the digest takes only where a row has a value (after
#: the row's other columns, not in the table's heading): a ledger that never used them
#: keeps the digest it had before they existed (schema 5: `hl_units.rpls`; schema 6:
#: `hl_movements.price_eur` and `net_proceeds_eur`, set only on a sale's movements of
#: version 2, where `price_eur` always is: a line never holds a net amount alone).
DIGESTED_WHEN_SET = {
    ("hl_units", "rpls"),
    ("hl_movements", "price_eur"),
    ("hl_movements", "net_proceeds_eur"),
}
#: Tables whose rows the digest takes only where `stated` is 1, and whose heading only when
#: it takes a row: `hl_memberships` (ledger/storage/schema.py), whose unstated rows follow
#: from registrations of version 1 alone (and so from the digested `hl_entities` and
#: `hl_transactions`): a ledger recorded before the group perimeter keeps its digest.
DIGESTED_WHEN_STATED = {"hl_memberships"}
#: Tables whose heading the digest takes only when they have a row (schema 8: the zoning
#: vintages): a ledger that never recorded a vintage keeps the digest it had before.
DIGESTED_WHEN_ANY = {"hl_zonings", "hl_zone_classes"}
#: Marks set by a later transaction, per table: cleared when reading "as at" a position.
LATER_MARKS = {"hl_transactions": ("reversed_at", "reversed_by"), "hl_movements": ("voided_at",)}


@cache
def columns(table: str) -> tuple[str, ...]:
    return tuple(c.name for c in schema.metadata.tables[table].columns if c.name != "row_id")


@cache
def digested(table: str) -> tuple[int, ...] | None:
    """The indexes of the columns the digest keeps, or None if it keeps them all."""
    cols = columns(table)
    left_out = NOT_DIGESTED | DIGESTED_WHEN_SET
    keep = tuple(i for i, c in enumerate(cols) if (table, c) not in left_out)
    return None if len(keep) == len(cols) and table not in DIGESTED_WHEN_STATED else keep


@cache
def digested_when_set(table: str) -> tuple[int, ...]:
    """The indexes of the table's columns of DIGESTED_WHEN_SET."""
    return tuple(i for i, c in enumerate(columns(table)) if (table, c) in DIGESTED_WHEN_SET)


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
            if table in DIGESTED_WHEN_STATED:
                stated = columns(table).index("stated")
                rows = [row for row in rows if row[stated]]
            self.digest_lines[table].add(_lines(_picked(rows, keep, digested_when_set(table))))

    def digested_lines(self, table: str) -> Iterator[bytes]:
        return iter(self.digest_lines.get(table) or self.lines[table])

    def rows(self, table: str) -> list[tuple[Any, ...]]:
        """A table's rows, decoded (for tests and small states)."""
        return [tuple(orjson.loads(line)) for line in self.lines[table]]

    def close(self) -> None:
        for runs in (*self.lines.values(), *self.digest_lines.values()):
            runs.close()


def _picked(
    rows: list[tuple[Any, ...]], keep: tuple[int, ...], when_set: tuple[int, ...]
) -> list[tuple[Any, ...]]:
    """The digested values of each row: the columns of `keep`, then those of `when_set`
    that have a value. Most rows have none of the latter: they take the plain pick."""
    pick = itemgetter(*keep)
    if not when_set:
        return list(map(pick, rows))
    picked: list[tuple[Any, ...]] = []
    if len(when_set) == 1:
        (at,) = when_set
        for row in rows:
            value = row[at]
            picked.append(pick(row) if value is None else (*pick(row), value))
        return picked
    extra, unset = itemgetter(*when_set), (None,) * len(when_set)
    for row in rows:
        values = extra(row)
        if values == unset:
            picked.append(pick(row))
        else:
            picked.append((*pick(row), *(v for v in values if v is not None)))
    return picked


def _lines(rows: Iterable[tuple[Any, ...]]) -> list[bytes]:
    dumps = orjson.dumps
    return [dumps(row) + b"\n" for row in rows]  # (+ copies: orjson's buffer is oversized)


def stored_state(
    conn: Connection,
    position: int,
    *,
    page: int,
    run_rows: int,
    tables: Iterable[str] = TABLES,
    digest_only: bool = False,
) -> State:
    """The stored projections as they stood when the journal ended at `position`: the rows
    known then, without the marks (`known_to`, reversal, voiding) set by later positions.
    Read in keyset pages of the primary key (`page` rows), `run_rows` rows sorted at a time
    (`digest_only`: without the lines only `compare` needs). A catch-up running meanwhile
    changes nothing read: its rows and marks are all after `position`."""
    state = State(spill=True)
    for table in tables:
        sql, params = _stored_query(table, position)
        after, run = 0, list[tuple[Any, ...]]()
        while True:
            rows = conn.query(sql, [*params, after, page])
            run.extend(row[1:] for row in rows)
            if len(run) >= run_rows or len(rows) < page:
                state.add(table, run, full=not digest_only)
                run = []
            if len(rows) < page:
                break
            after = rows[-1][0]
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
        lines = state.digested_lines(table)
        first = next(lines, None)
        if first is None and (table in DIGESTED_WHEN_STATED or table in DIGESTED_WHEN_ANY):
            continue
        digest.update(f"{table}({','.join(cols[i] for i in keep)})\n".encode())
        for chunk in chunks(itertools.chain([first] if first is not None else [], lines)):
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


def compare(
    conn: Connection, position: int, rebuilt: State, *, page: int, run_rows: int
) -> Difference | None:
    """The first table (by name) whose stored rows, as at `position`, differ from the
    rebuilt ones (every column), with its smallest differing row (a stored row the journal
    does not give first). Reads one table at a time, as sorted runs (`stored_state`)."""
    for table in TABLES:
        stored = stored_state(conn, position, page=page, run_rows=run_rows, tables=[table])
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
