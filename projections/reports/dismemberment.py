"""Register of dismembered units (registre des démembrements): who holds the usufruct
(usufruit), who the bare ownership (nue-propriété), and when the usufructs end.

It serves the dismemberment register that the landlord keeps for its counterparties
(e.g. Foncière Logement and AGIRC-ARRCO since 2017) and its auditors: the calendar of
usufruct maturities, at which the bare owner becomes full owner (Civil Code art. 617),
and the usufructs past their term whose extinction nobody has recorded yet (`overdue`:
the law ended them, a deed is missing from the ledger).

`units` come from the usufruct holding periods open as of the date (without a date: the
latest date of the transactions, `projections.queries.latest_date`), each paired with
the unit's bare-ownership period open at the same time; `usufruct_end` is the one in
force then (set by the bare-ownership transfer or registration, moved by an extension;
a merger that moves one of the rights keeps it). A usufruct past its term is not
dismembered any more: the bare owner holds in full ownership (projections/fold/units.py).
`overdue` counts, per pair, the units of `units` whose term is before the judged date,
and the units that ended at term before it, not in `units`, that the bare owner still
holds since the term and whose extinction no effective transaction recorded.

Must not: read the clock. The date `overdue` is judged against is given by the caller
(the CLI passes today's local date when no `--as-of` is given).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from ledger.storage.database import Connection
from projections.queries import latest_date
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
    day = as_of if as_of is not None else latest_date(conn, position)
    if day is None:
        return Register([], [])
    found: dict[str, list[tuple[str, str | None]]] = {}
    bare_owners: dict[str, list[str]] = {}
    k_sql, k_params = periods.known("p", position)
    d_sql, d_params = periods.held_on("p", day)
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
    # Counted by (usufructuary, bare owner, year of the end, overdue) first: a few hundred
    # keys for tens of thousands of units, then summed each way.
    counted: Counter[tuple[str, str, str, bool]] = Counter()
    for key, usufructs in found.items():
        owners = bare_owners.get(key)
        if not owners:
            continue
        for usufructuary, end in usufructs:
            year, late = (end[:4], end < judged_on) if end else ("", False)
            for bare_owner in owners:
                counted[(usufructuary, bare_owner, year, late)] += 1
    units: Counter[tuple[str, str]] = Counter()
    overdue: Counter[tuple[str, str]] = Counter()
    maturities: dict[tuple[str, str], Counter[str]] = {}
    ending: Counter[str] = Counter()
    late_by_year: Counter[str] = Counter()
    for (usufructuary, bare_owner, year, late), n in counted.items():
        pair = (usufructuary, bare_owner)
        units[pair] += n
        overdue[pair] += n * late
        if pair not in maturities:
            maturities[pair] = Counter()
        maturities[pair][year] += n
        ending[year] += n
        late_by_year[year] += n * late
    for pair, end in _ended_unrecorded(conn, day, judged_on, position):
        units.setdefault(pair, 0)
        if pair not in maturities:
            maturities[pair] = Counter()
        overdue[pair] += 1
        ending[end[:4]] += 1
        late_by_year[end[:4]] += 1
    rows = [
        DismembermentRow(
            pair[0], pair[1], units[pair], tuple(sorted(maturities[pair].items())), overdue[pair]
        )
        for pair in sorted(units)
    ]
    return Register(rows, [(y, ending[y], late_by_year[y]) for y in sorted(ending)])


def _ended_unrecorded(
    conn: Connection, day: str, judged_on: str, position: int
) -> list[tuple[tuple[str, str], str]]:
    """((usufructuary, bare owner), usufruct_end) of each unit whose usufruct ended at
    term on or before `day` and before `judged_on`, still held by the bare owner on `day`
    in the full ownership the term gave it, with no effective extinction recorded (dated
    after the term, on or before `day`)."""
    k_sql, k_params = periods.known("p", position)
    ended: dict[str, dict[tuple[str, str], tuple[str, str]]] = {}
    for right in ("usufruct", "bare_ownership"):
        for key, holder, end, term in conn.query(  # (the right as a literal: a partial index)
            f"SELECT p.unit_key, p.holder, p.usufruct_end, p.to_date FROM hl_periods p "
            f"WHERE p.held_as = '{right}' AND {k_sql} AND p.closed_by IS NULL "
            "AND p.to_date IS NOT NULL AND p.to_date <= ? AND p.usufruct_end < ?",
            [*k_params, day, judged_on],
        ):
            ended.setdefault(key, {})[(right, term)] = (holder, end)
    if not ended:
        return []
    keys = sorted(ended)
    still: set[tuple[str, str, str]] = set()
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        # Read by unit only and the dates sorted out here (as the RPLS extract does): with
        # a condition on the dates, SQLite walks the as-of index over every current
        # period (1.3 s a chunk at a million units, against 8 ms by the unit's index).
        for key, holder, since, until in conn.query(
            "SELECT p.unit_key, p.holder, p.from_date, p.to_date FROM hl_periods p "
            f"WHERE p.held_as = 'full_ownership' AND {k_sql} "
            f"AND p.unit_key IN {conn.in_list(chunk)}",
            [*k_params, *chunk],
        ):
            if since <= day and (until is None or until > day):
                still.add((key, holder, since))
    # The extinctions recorded are few (one transaction a lot of units): all of them at
    # once, by the transactions' type, rather than the units' touches chunk by chunk.
    e_sql, e_params = periods.effective_transaction("t", position)
    recorded: dict[str, list[str]] = {}
    for key, when in conn.query(
        "SELECT h.item_key, t.date FROM hl_transactions t JOIN hl_touches h ON h.txn = t.id "
        f"WHERE t.type = 'usufruct_extinguished' AND {e_sql} AND t.date <= ?",
        [*e_params, day],
    ):
        if key in ended:
            recorded.setdefault(key, []).append(when)
    result = []
    for key, rights in ended.items():
        for (right, term), (usufructuary, end) in rights.items():
            bare = rights.get(("bare_ownership", term))
            if right != "usufruct" or bare is None or (key, bare[0], term) not in still:
                continue
            if any(when >= term for when in recorded.get(key, ())):
                continue
            result.append(((usufructuary, bare[0]), end))
    return result


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
