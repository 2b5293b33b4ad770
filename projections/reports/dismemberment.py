"""Register of dismembered units (registre des démembrements): who holds the usufruct
(usufruit), who the bare ownership (nue-propriété), and when the usufructs end.

It serves the dismemberment register that the landlord keeps for its counterparties
(e.g. Foncière Logement and AGIRC-ARRCO since 2017) and its auditors: the calendar of
usufruct maturities, at which the bare owner becomes full owner (Civil Code art. 617),
and the usufructs past their end date that nobody has recorded as extinguished yet
(`overdue`: a deed or a correction is missing).

Rows come from the usufruct holding periods open as of the date, each joined with the
unit's bare-ownership period open at the same time; `usufruct_end` is the one set by
the bare-ownership transfer (a merger that moves one of the rights keeps it).

Must not: read the clock. The date `overdue` is judged against is given by the caller
(the CLI passes today's local date when no `--as-of` is given).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from projections.database import Connection
from projections.render import Document
from projections.reports import charts, periods


@dataclass(frozen=True, slots=True)
class DismembermentRow:
    usufructuary: str
    bare_owner: str
    units: int
    maturities: tuple[tuple[str, int], ...]
    overdue: int

    def as_dict(self) -> dict[str, Any]:
        return {"usufructuary": self.usufructuary, "bare_owner": self.bare_owner,
                "units": self.units, "maturities": dict(self.maturities),
                "overdue": self.overdue}


@dataclass(frozen=True, slots=True)
class Register:
    rows: list[DismembermentRow]
    #: (year of usufruct_end, units, of which overdue), every counterparty together
    by_year: list[tuple[str, int, int]]


def register(conn: Connection, as_of: str | None, judged_on: str, position: int) -> Register:
    """One row per (usufructuary, bare owner), sorted by both."""
    ku_sql, ku_params = periods.known("u", position)
    kb_sql, kb_params = periods.known("b", position)
    du_sql, du_params = periods.held_on("u", as_of)
    db_sql, db_params = periods.held_on("b", as_of)
    found = conn.query(
        "SELECT u.holder, b.holder, substr(u.usufruct_end, 1, 4) AS y, COUNT(*), "
        "SUM(CASE WHEN u.usufruct_end < ? THEN 1 ELSE 0 END) "
        "FROM hl_periods u JOIN hl_periods b ON b.unit_key = u.unit_key "
        f"AND b.held_as = 'bare_ownership' AND {kb_sql} AND {db_sql} "
        f"WHERE u.held_as = 'usufruct' AND {ku_sql} AND {du_sql} "
        "GROUP BY u.holder, b.holder, y",
        [judged_on, *kb_params, *db_params, *ku_params, *du_params],
    )
    units: Counter[tuple[str, str]] = Counter()
    overdue: Counter[tuple[str, str]] = Counter()
    maturities: dict[tuple[str, str], dict[str, int]] = {}
    ending: Counter[str] = Counter()
    late_by_year: Counter[str] = Counter()
    for usufructuary, bare_owner, year, count, late in found:
        pair = (usufructuary, bare_owner)
        units[pair] += int(count)
        overdue[pair] += int(late)
        maturities.setdefault(pair, {})[year] = int(count)
        ending[year] += int(count)
        late_by_year[year] += int(late)
    rows = [DismembermentRow(pair[0], pair[1], units[pair],
                             tuple(sorted(maturities[pair].items())), overdue[pair])
            for pair in sorted(units)]
    return Register(rows, [(y, ending[y], late_by_year[y]) for y in sorted(ending)])


def dismemberment_rows(conn: Connection, as_of: str | None, judged_on: str,
                       position: int) -> list[DismembermentRow]:
    return register(conn, as_of, judged_on, position).rows


def _tone(units: int, late: int) -> str:
    return "bad" if late == units else "warn" if late else "neutral"


def statement(conn: Connection, as_of: str | None, judged_on: str,
              known_at: int | None = None) -> Document:
    """`as_of` None: after every transaction; `overdue` counts usufruct ends before
    `judged_on` (the as-of date, or today)."""
    position = periods.pin(conn, known_at)
    found = register(conn, as_of, judged_on, position)
    rows = found.rows
    chart = charts.bar_chart(
        "Usufruct maturities by year (units whose usufruct ends that year)",
        [charts.Bar(year, units, _tone(units, late),
                    f"{units:,}" + (f" ({late:,} overdue)" if late and late < units else ""))
         for year, units, late in found.by_year],
        {"bad": f"overdue: ended before {judged_on}, not extinguished",
         "warn": "partly overdue", "neutral": "not yet due"},
    )
    years = [year for year, _, _ in found.by_year]
    return Document(
        {"as_of": as_of, "overdue_before": judged_on, "position": position},
        [r.as_dict() for r in rows],
        ("usufructuary", "bare_owner", "units", *(f"maturities.{y}" for y in years), "overdue"),
        title="Dismembered units (usufruit / nue-propriété)", figure=chart,
        totals={"usufructuary": "total", "bare_owner": "", "units": sum(r.units for r in rows),
                "maturities": {y: n for y, n, _ in found.by_year},
                "overdue": sum(r.overdue for r in rows)} if rows else None,
    )
