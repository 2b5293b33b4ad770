"""Prototype (not wired into the CLI): holdings from a small pre-aggregated table.

    python -m bench.holdings_agg URL [--dates 40]

Issue 5 wants holdings as of a date under 200 ms at 1M units; the hand-written query on a
plain table of the current periods already takes 0.26-0.86 s there, so it needs another
read model. This one is `hl_holding_days`: per (day, holder, right, zone, segment,
financing, commune), the net change in units held that day: +1 on a current period's
`from_date`, -1 on its `to_date`. Holdings as of D are the sums over `day <= D`:
#(from_date <= D) - #(to_date <= D) is exactly the periods with `from_date <= D` and
(`to_date` NULL or > D), because a unit's dates never go back (spec/transactions.md), so
`to_date >= from_date`. Without `--as-of`, every day counts: closed periods sum to 0.
It answers the current ledger (`--known-at` keeps the bitemporal query on `hl_periods`).

It is derived from `hl_periods` rows by one statement, `DERIVE`, for any step of the
projections from position `a` to position `b` (a row counts +1 if it is current at b and
not at a, -1 if the reverse): the catch-up would run it once per batch, in the batch's
database transaction, with a = the position before the batch and b = the new position
(a = 0 for a rebuild, after emptying the table). This script derives the table at a
position of the stored ledger, steps it to the end, checks it against a full derivation
and every answer against `projections.queries.holdings`, and times both.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from functools import partial
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from projections import queries  # noqa: E402
from projections.database import Connection, Database  # noqa: E402

TABLE = "hl_holding_days"
KEY = "day, holder, held_as, zone, segment, financing, commune"
DDL = (
    f"CREATE TABLE {TABLE} (day VARCHAR(10) NOT NULL, holder VARCHAR(80) NOT NULL, "
    "held_as VARCHAR(16) NOT NULL, zone VARCHAR(4) NOT NULL, segment VARCHAR(16) NOT NULL, "
    "financing VARCHAR(8) NOT NULL, commune VARCHAR(5) NOT NULL, units BIGINT NOT NULL, "
    f"PRIMARY KEY ({KEY}))"
)

#: Current at position x: the bitemporal filter of projections/queries.py.
_CURRENT = "(known_from <= {x} AND (known_to IS NULL OR known_to > {x}))"
_SIGN = (
    f"(CASE WHEN {_CURRENT.format(x='?')} THEN 1 ELSE 0 END) - "
    f"(CASE WHEN {_CURRENT.format(x='?')} THEN 1 ELSE 0 END)"
)
#: Rows whose currency changed between a and b: written after a, or superseded after a.
#: (In the catch-up: `row_id > <last row_id before the batch> OR known_to > a`, two
#: index ranges: the primary key and hl_periods_asof.)
_CHANGED = "FROM hl_periods WHERE (known_from > ? OR known_to > ?)"

DERIVE = (
    f"INSERT INTO {TABLE} AS h ({KEY}, units) "
    f"SELECT {KEY}, SUM(d) FROM ("
    f"SELECT from_date AS day, holder, held_as, zone, segment, financing, commune, "
    f"{_SIGN} AS d {_CHANGED} "
    "UNION ALL "
    f"SELECT to_date, holder, held_as, zone, segment, financing, commune, "
    f"-({_SIGN}) {_CHANGED} AND to_date IS NOT NULL"
    f") x WHERE d <> 0 GROUP BY {KEY} "
    f"ON CONFLICT ({KEY}) DO UPDATE SET units = h.units + excluded.units"
)


def derive(conn: Connection, a: int, b: int) -> None:
    """Step the table from the projections at position a to those at position b."""
    step = [b, b, a, a, a, a]  # the two signs' positions, then the changed rows'
    conn.execute(DERIVE, [*step, *step])


def holdings(
    conn: Connection, as_of: str | None = None, entity: str | None = None, by: str | None = None
) -> list[queries.HoldingRow]:
    """`projections.queries.holdings` of the current ledger, from the aggregate."""
    where, params = "1 = 1", []
    if as_of is not None:
        where += " AND h.day <= ?"
        params.append(as_of)
    if entity is not None:
        where += " AND h.holder = ?"
        params.append(entity)
    join = ""
    if by is None:
        key_sql = "NULL"
    elif by == "tense":
        key_sql = queries.TENSE_SQL.replace("p.", "h.")
    elif by == "region":
        join = " LEFT JOIN hl_entities e ON e.entity = h.holder AND e.known_to IS NULL"
        key_sql = "e.region"
    else:
        key_sql = f"h.{by}"
    rows = conn.query(
        f"SELECT h.holder, {key_sql} AS k, "
        "SUM(CASE WHEN h.held_as = 'full_ownership' THEN h.units ELSE 0 END), "
        "SUM(CASE WHEN h.held_as = 'usufruct' THEN h.units ELSE 0 END), "
        "SUM(CASE WHEN h.held_as = 'bare_ownership' THEN h.units ELSE 0 END) "
        f"FROM {TABLE} h{join} WHERE {where} GROUP BY h.holder, k",
        params,
    )
    result = [
        queries.HoldingRow(holder, bool(k) if by == "tense" else k, int(f), int(u), int(b))
        for holder, k, f, u, b in rows
        if f or u or b
    ]
    return sorted(result, key=lambda r: (r.entity, r.key is not None, r.key))


def median_ms(fn: Any, runs: int = 7) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m bench.holdings_agg",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("url", help="a ledger whose projections are current (it is not changed)")
    p.add_argument("--dates", type=int, default=40, help="as-of dates checked")
    args = p.parse_args(argv)
    conn = Database(args.url).connect()
    conn.begin()  # everything below is rolled back
    try:
        head = queries.position_at(conn, None)
        middle = int(
            conn.scalar(
                "SELECT MAX(position) FROM hl_transactions WHERE position <= ?", (head * 2 // 3,)
            )
            or 0
        )
        conn.execute(DDL)
        started = time.perf_counter()
        derive(conn, 0, middle)
        first = time.perf_counter() - started
        started = time.perf_counter()
        derive(conn, middle, head)
        step = time.perf_counter() - started
        stepped = conn.query(f"SELECT {KEY}, units FROM {TABLE} WHERE units <> 0")
        conn.execute(f"DELETE FROM {TABLE}")
        derive(conn, 0, head)
        full = conn.query(f"SELECT {KEY}, units FROM {TABLE} WHERE units <> 0")
        assert sorted(stepped) == sorted(full), "stepping 0 -> middle -> head != 0 -> head"
        days = [d for (d,) in conn.query("SELECT DISTINCT from_date FROM hl_periods ORDER BY 1")]
        every = max(1, len(days) // args.dates)
        dates: list[str | None] = [None, "2020-12-31", *days[::every]]
        entities = [e for (e,) in conn.query("SELECT DISTINCT holder FROM hl_periods")][:5]
        checked = 0
        for as_of in dates:
            for by in (None, *queries.DIMENSIONS):
                for entity in (None, *entities):
                    ours = queries.holdings(conn, as_of, entity, by)
                    assert holdings(conn, as_of, entity, by) == ours, (as_of, by, entity)
                    checked += 1
        periods = int(conn.scalar("SELECT COUNT(*) FROM hl_periods") or 0)
        print(
            f"{TABLE}: {len(full):,} rows for {periods:,} hl_periods rows; derived to "
            f"position {middle:,} in {first:.2f} s, stepped to {head:,} in {step:.2f} s; "
            f"{checked:,} answers identical to projections.queries.holdings"
        )
        top = conn.scalar(
            "SELECT holder FROM hl_periods WHERE known_to IS NULL "
            "GROUP BY holder ORDER BY COUNT(*) DESC LIMIT 1"
        )
        for name, entity, by in (
            ("whole group", None, None),
            (f"one entity ({top})", top, None),
            ("--by zone", None, "zone"),
        ):
            now = median_ms(partial(queries.holdings, conn, "2020-12-31", entity, by))
            agg = median_ms(partial(holdings, conn, "2020-12-31", entity, by))
            print(
                f"holdings as of 2020-12-31, {name}: hl_periods {now:.1f} ms, "
                f"{TABLE} {agg:.1f} ms ({now / agg:.1f}x faster)"
            )
    finally:
        conn.rollback()
        conn.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
