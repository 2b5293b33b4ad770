"""What every statement asks of the projections: one pinned journal position, statement
years, stock as of a date, and the movements and transactions valid at the position.

Years follow one convention (`Year`): the stock on 1 January is taken as of that day.
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


#: The statements' year convention, in words: the header of every statement says it.
CONVENTION = (
    "stock on 1 January: as of that day, its transactions included; a year's flows: "
    "from 2 January to the next 1 January included (the RPLS reading)"
)


@dataclass(frozen=True, slots=True)
class Year:
    """A statement year under the RPLS reading of "stock on 1 January" (spec rpls.md §6.2,
    docs/statements.md "The year"): the stock on 1 January Y is the holdings **as of**
    Y-01-01, that day's transactions included, and the year's flows are those dated from
    2 January Y to 1 January Y+1 included. So the opening balances registered as of
    1 January Y are year Y's opening stock, an entity absorbed on 1 January Y files no
    stock for Y, and opening(Y) + flows(Y) = closing(Y) = opening(Y+1) = the stock on
    1 January Y+1. All dates are ISO strings (they sort as dates)."""

    year: int

    @property
    def opening_day(self) -> str:
        """The stock on 1 January: holdings as of this day."""
        return f"{self.year:04d}-01-01"

    @property
    def first_day(self) -> str:
        """The first day of the year's flows (2 January)."""
        return f"{self.year:04d}-01-02"

    @property
    def last_day(self) -> str:
        """The last day of the year's flows, and the closing day (the next 1 January)."""
        return f"{self.year + 1:04d}-01-01"

    @property
    def closing_day(self) -> str:
        return self.last_day

    def header(self) -> dict[str, str]:
        """The dates a statement of the year states in its header (JSON keys too)."""
        return {
            "opening_on": self.opening_day,
            "flows_from": self.first_day,
            "flows_to": self.last_day,
        }

    @staticmethod
    def of(day: str) -> int:
        """The statement year whose flows a transaction dated `day` belongs to."""
        year = int(day[:4])
        return year - 1 if day[5:] == "01-01" else year


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
