"""The holdings tally: `hl_holding_days`, kept in step with the current holding periods.

Holdings as of a date counted from `hl_periods` read every current period. The tally
holds, per day, holder, right (`held_as`) and unit dimensions, the net change in units
held that day: +1 on a current period's `from_date`, -1 on its `to_date`. Held on D = the
sum over days <= D (a unit's dates never go back, so a period never ends before it
starts); with no date, the sum over every day. It has a few rows per day and holder.

Each catch-up batch adds the periods it made current and takes off the stored ones it
superseded, in the batch's database transaction. `derive` writes it again from
`hl_periods` with the tally's defining query, which lives beside its table in
ledger/storage/schema.py (a rebuild; a database of an older schema gets it there);
`difference` compares the two (`replay --check`).

Must not: be written outside the transaction that moves the projections' position, or
count anything but the current periods.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from ledger.storage import layout
from ledger.storage.database import Connection
from projections.fold.rows import STOCK_RIGHTS, Row, WorkingSet

# Plain data (layout.py), not the SQLAlchemy schema: a statement reads the tally quickly.
TABLE = layout.HOLDING_DAYS_TABLE
DIMENSIONS = layout.HOLDING_DIMENSIONS
KEY = layout.HOLDING_KEY
_UPSERT = (
    f"INSERT INTO {TABLE} AS t ({', '.join(KEY)}, units) "
    f"VALUES ({', '.join('?' * (len(KEY) + 1))}) "
    f"ON CONFLICT ({', '.join(KEY)}) DO UPDATE SET units = t.units + excluded.units"
)
#: The rights held in the stock (projections/fold/rows.py), as an SQL list.
STOCK_IN = "(" + ", ".join(f"'{right}'" for right in STOCK_RIGHTS) + ")"


def changes(ws: WorkingSet) -> dict[tuple[Any, ...], int]:
    """The batch's net change to the tally, per key (keys that cancel out left out)."""
    delta: Counter[tuple[Any, ...]] = Counter()
    _count(delta, (r for r in ws.new.get("hl_periods", ()) if r["known_to"] is None), 1)
    _count(delta, ws.ended_periods, -1)
    return {key: n for key, n in delta.items() if n}


def _count(delta: Counter[tuple[Any, ...]], rows: Iterable[Row], sign: int) -> None:
    for row in rows:
        dims = tuple(row[d] for d in DIMENSIONS)
        delta[(row["from_date"], *dims)] += sign
        if row["to_date"] is not None:
            delta[(row["to_date"], *dims)] -= sign


def add(conn: Connection, ws: WorkingSet) -> None:
    """Add a folded batch to the tally (in the caller's database transaction)."""
    delta = changes(ws)
    if delta:
        conn.executemany(_UPSERT, [(*key, n) for key, n in sorted(delta.items())])


def derive(conn: Connection) -> None:
    """Compute the whole tally again from the current periods."""
    for statement in layout.DERIVE_HOLDING_DAYS:
        conn.execute(statement)


def stock(conn: Connection, day: str) -> list[tuple[Any, ...]]:
    """(holder, units) held in a stock right on `day`, by the tally: of the current
    ledger only."""
    return conn.query(
        f"SELECT holder, SUM(units) FROM {TABLE} "
        f"WHERE held_as IN {STOCK_IN} AND day <= ? GROUP BY holder",
        [day],
    )


def rows(conn: Connection) -> list[tuple[Any, ...]]:
    """The tally's rows that count, sorted."""
    return sorted(conn.query(f"SELECT {', '.join(KEY)}, units FROM {TABLE} WHERE units <> 0"))


def difference(conn: Connection) -> str | None:
    """None if the tally equals the one derived from the current periods, else the first
    key where they differ (`replay --check`)."""
    kept = {tuple(r[:-1]): int(r[-1]) for r in rows(conn)}
    derived = {tuple(r[:-1]): int(r[-1]) for r in conn.query(layout.HOLDING_DAYS_QUERY)}
    wrong = sorted(k for k in kept.keys() | derived.keys() if kept.get(k) != derived.get(k))
    if not wrong:
        return None
    key = wrong[0]
    return f"{TABLE} {key}: {kept.get(key, 0)} units kept, {derived.get(key, 0)} derived"
