"""Register of dismembered units (registre des démembrements): who holds the usufruct
(usufruit), who the bare ownership (nue-propriété), and when the usufructs end.

It serves the dismemberment register that the landlord keeps for its counterparties
(e.g. Foncière Logement and AGIRC-ARRCO since 2017) and its auditors: the calendar of
usufruct maturities, at which the bare owner becomes full owner (Civil Code art. 617),
and the usufructs past their end date that nobody has recorded as extinguished yet
(`overdue`: a deed or a correction is missing).

Rows come from the usufruct holding periods open as of the date, each paired with the
unit's bare-ownership period open at the same time; `usufruct_end` is the one set by
the bare-ownership transfer (a merger that moves one of the rights keeps it).

Must not: read the clock. The date `overdue` is judged against is given by the caller
(the CLI passes today's local date when no `--as-of` is given).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from ledger.storage.database import Connection
from projections.render import charts
from projections.render.formats import Document
from projections.reports import periods


@dataclass(frozen=True, slots=True)
class DismembermentRow:
    usufructuary: str
    bare_owner: str
    units: int
    maturities: tuple[tuple[str, int], ...]
    overdue: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "usufructuary": self.usufructuary,
            "bare_owner": self.bare_owner,
            "units": self.units,
            "maturities": dict(self.maturities),
            "overdue": self.overdue,
        }


@dataclass(frozen=True, slots=True)
class Register:
    rows: list[DismembermentRow]
    #: (year of usufruct_end, units, of which overdue), every counterparty together
    by_year: list[tuple[str, int, int]]


def register(conn: Connection, as_of: str | None, judged_on: str, position: int) -> Register:
    """One row per (usufructuary, bare owner), sorted by both. The usufruct and the
    bare-ownership periods are read apart (each through its partial index, which holds
    only the dismembered periods) and paired by unit here: SQLite, without statistics,
    plans the self-join as a scan of every current period."""
    found: dict[str, list[tuple[str, str | None]]] = {}
    bare_owners: dict[str, list[str]] = {}
    k_sql, k_params = periods.known("p", position)
    d_sql, d_params = periods.held_on("p", as_of)
    for right in ("usufruct", "bare_ownership"):
        for key, holder, end in conn.query(  # (the right as a literal: a partial index)
            f"SELECT p.unit_key, p.holder, p.usufruct_end FROM hl_periods p "
            f"WHERE p.held_as = '{right}' AND {k_sql} AND {d_sql}",
            [*k_params, *d_params],
        ):
            if right == "usufruct":
                found.setdefault(key, []).append((holder, end))
            else:
                bare_owners.setdefault(key, []).append(holder)
    units: Counter[tuple[str, str]] = Counter()
    overdue: Counter[tuple[str, str]] = Counter()
    maturities: dict[tuple[str, str], Counter[str]] = {}
    ending: Counter[str] = Counter()
    late_by_year: Counter[str] = Counter()
    for key, usufructs in found.items():
        for usufructuary, end in usufructs:
            for bare_owner in bare_owners.get(key, ()):
                pair, year = (usufructuary, bare_owner), end[:4] if end else ""
                late = int(end is not None and end < judged_on)
                units[pair] += 1
                overdue[pair] += late
                maturities.setdefault(pair, Counter())[year] += 1
                ending[year] += 1
                late_by_year[year] += late
    rows = [
        DismembermentRow(
            pair[0], pair[1], units[pair], tuple(sorted(maturities[pair].items())), overdue[pair]
        )
        for pair in sorted(units)
    ]
    return Register(rows, [(y, ending[y], late_by_year[y]) for y in sorted(ending)])


def _tone(units: int, late: int) -> str:
    return "bad" if late == units else "warn" if late else "neutral"


def statement(
    conn: Connection, as_of: str | None, judged_on: str, known_at: int | None = None
) -> Document:
    """`as_of` None: after every transaction; `overdue` counts usufruct ends before
    `judged_on` (the as-of date, or today)."""
    position = periods.pin(conn, known_at)
    found = register(conn, as_of, judged_on, position)
    rows = found.rows
    chart = charts.bar_chart(
        "Usufruct maturities by year (units whose usufruct ends that year)",
        [
            charts.Bar(
                year,
                units,
                _tone(units, late),
                f"{units:,}" + (f" ({late:,} overdue)" if late and late < units else ""),
            )
            for year, units, late in found.by_year
        ],
        {
            "bad": f"overdue: ended before {judged_on}, not extinguished",
            "warn": "partly overdue",
            "neutral": "not yet due",
        },
    )
    years = [year for year, _, _ in found.by_year]
    return Document(
        {"as_of": as_of, "overdue_before": judged_on, "position": position},
        [r.as_dict() for r in rows],
        ("usufructuary", "bare_owner", "units", *(f"maturities.{y}" for y in years), "overdue"),
        title="Dismembered units (usufruit / nue-propriété)",
        figure=chart,
        totals={
            "usufructuary": "total",
            "bare_owner": "",
            "units": sum(r.units for r in rows),
            "maturities": {y: n for y, n, _ in found.by_year},
            "overdue": sum(r.overdue for r in rows),
        }
        if rows
        else None,
    )
