"""The cost of reading the zone in force (issue 14), side by side in one process.

    python -m bench.zones sqlite:///demo-100000.db     (a ledger from `demo --units 100000`)

Each query runs with the zoning vintages the ledger holds (the zone in force on the date:
a join to `hl_zone_classes`) and again with none (the declared zones, no join), best of
3 runs each, on the same connection; it prints both times and their ratio.
docs/performance.md ("Zones by date") quotes a run.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any
from unittest import mock

import projections.zones as zones
from ledger.storage.database import Database
from projections import queries, register
from projections.reports import programme


def best(fn: Callable[[], Any], runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main(url: str) -> None:
    conn = Database(url).connect()
    position = queries.position_at(conn, None)
    cases: dict[str, Callable[[], Any]] = {
        "holdings --by zone (the tally)": lambda: queries.holdings(conn, "2025-12-31", by="zone"),
        "holdings --by tense --known-at (the periods)": lambda: queries.holdings(
            conn, "2025-12-31", by="tense", known_at=position
        ),
        "units (every row)": lambda: sum(1 for _ in register.units(conn, position, "2025-12-31")),
        "report programme 2017, 5 years": lambda: programme.statement(conn, 2017, 5, 100_000),
    }
    print(f"vintages in force: {len(zones.vintages(conn))}")
    for name, fn in cases.items():
        fn()  # warm the cache
        in_force = best(fn)
        with mock.patch.object(zones, "vintages", lambda conn, known_at=None: []):
            declared = best(fn)
        print(
            f"{name:46s} zone in force {in_force * 1000:8.1f} ms   declared "
            f"{declared * 1000:8.1f} ms   {in_force / declared:5.2f}x"
        )


if __name__ == "__main__":
    main(sys.argv[1])
