"""What every statement asks of the projections: one pinned journal position, calendar
years, stock as of a date, and the movements and transactions valid at the position.

A statement is computed for ONE journal position P, fixed before its first query: the
given `--known-at` (capped at the end of the journal), or the end of the journal. Every
query then filters row versions "known at P", so a statement is consistent with its
`position` even when a writer records transactions while it is being computed.

Must not: read the clock, replay events, or load aggregates.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from ledger.storage.database import Connection
from projections.engine import tally
from projections.engine.position import read as read_position
from projections.queries import known as known_versions
from projections.queries import position_at


class InconsistentStatement(Exception):
    """A statement failed its own arithmetic check (e.g. the tableau de passage does not
    balance): the projections disagree with themselves, and nothing must be filed."""


@dataclass(frozen=True, slots=True)
class Year:
    """A calendar year and its bounds as ISO dates (which sort as dates)."""

    year: int

    @property
    def first_day(self) -> str:
        return f"{self.year:04d}-01-01"

    @property
    def last_day(self) -> str:
        return f"{self.year:04d}-12-31"

    @property
    def eve(self) -> str:
        """The day before the year starts: the opening balance is taken as of that day."""
        return f"{self.year - 1:04d}-12-31"


def pin(conn: Connection, known_at: int | None) -> int:
    """The journal position a statement is computed for."""
    return position_at(conn, known_at)


def known(alias: str, position: int) -> tuple[str, list[Any]]:
    """Row versions of a bitemporal table valid at `position`."""
    return known_versions(alias, position)


def valid_movement(alias: str, position: int) -> tuple[str, list[Any]]:
    """hl_movements rows recorded at or before `position` and not voided by then."""
    return (
        f"{alias}.position <= ? AND ({alias}.voided_at IS NULL OR {alias}.voided_at > ?)",
        [position, position],
    )


def effective_transaction(alias: str, position: int) -> tuple[str, list[Any]]:
    """hl_transactions rows recorded at or before `position` and not reversed by then."""
    return (
        f"{alias}.position <= ? AND ({alias}.reversed_at IS NULL OR {alias}.reversed_at > ?)",
        [position, position],
    )


def held_on(alias: str, day: str | None) -> tuple[str, list[Any]]:
    """Holding periods open on `day` (None: open after every transaction)."""
    if day is None:
        return f"{alias}.to_date IS NULL", []
    return (
        f"{alias}.from_date <= ? AND ({alias}.to_date IS NULL OR {alias}.to_date > ?)",
        [day, day],
    )


def stock(conn: Connection, day: str, position: int) -> dict[str, int]:
    """Units held in full ownership or in usufruct (the stock) per entity, as of `day`.

    At the projections' own position (a statement of the current ledger) from the
    holdings tally (projections/engine/tally.py: a few rows per day and holder, where the
    periods are one row per unit and holder), read between two reads of that position,
    which every catch-up moves in the transaction that changes the tally; else from the
    periods."""
    if position == _projected(conn):
        rows = tally.stock(conn, day)
        if position == _projected(conn):
            return {holder: int(units) for holder, units in rows if units}
    return stock_from_periods(conn, day, position)


def stock_from_periods(conn: Connection, day: str, position: int) -> dict[str, int]:
    """`stock`, counted from the holding periods known at `position`."""
    k_sql, k_params = known("p", position)
    d_sql, d_params = held_on("p", day)
    rows = conn.query(
        "SELECT p.holder, COUNT(*) FROM hl_periods p "
        f"WHERE p.held_as IN {tally.STOCK_IN} AND {k_sql} AND {d_sql} "
        "GROUP BY p.holder",
        [*k_params, *d_params],
    )
    return {holder: int(count) for holder, count in rows}


def _projected(conn: Connection) -> int:
    """The projections' position (-1 before any catch-up: no statement's position)."""
    stored = read_position(conn)
    return stored if stored is not None else -1


def transactions(
    conn: Connection,
    kind: str,
    position: int,
    first_day: str | None = None,
    last_day: str | None = None,
) -> Iterator[tuple[int, dict[str, Any]]]:
    """(position, content as recorded) of the effective transactions of one type, in
    journal order, optionally dated between two days (inclusive)."""
    e_sql, params = effective_transaction("t", position)
    where = f"t.type = ? AND {e_sql}"
    params = [kind, *params]
    if first_day is not None and last_day is not None:
        where += " AND t.date >= ? AND t.date <= ?"
        params += [first_day, last_day]
    rows = conn.query(
        f"SELECT t.position, t.content FROM hl_transactions t WHERE {where} ORDER BY t.position",
        params,
    )
    for pos, content in rows:
        yield int(pos), orjson.loads(content)
