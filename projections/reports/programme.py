"""Progress of an acquisition programme against its target (e.g. the 2017 commitment to
acquire 100,000 intermediate units, logements locatifs intermédiaires, in five years).

It serves the programme dashboard that the group's board and its regional LLI entities
follow: units of the segment acquired each year, how many in tense zones (zones
tendues, `TENSE_ZONES` of `ledger.domain.values`: A bis, A, B1), the cumulative count
against a linear target, and who acquired.

Only `acquisition` transactions count (an opening balance, `register_units`, is not an
acquisition), of the flows of the programme's years (`periods.Year`: 2 January to the next
1 January) and not reversed as known at the position.
The unit's segment is that of the acquisition in force (a wrong one corrected by reversal
and re-acquisition counts corrected); its zone is its commune's class in the zoning
vintage in force on the acquisition's date (`projections/zones.py`; before the earliest
vintage, the zone the line declared), split into A bis, A, B1 and the others. `by_entity`
names the acquirer of record, even if it was later absorbed by a merger.

Must not: count units that entered by merger or purchase from another entity of the
ledger (they were already counted when first acquired).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, fields
from typing import Any

import projections.zones as zones
from ledger.storage.database import Connection
from projections.render import charts
from projections.render.formats import Document
from projections.reports import periods


@dataclass(frozen=True, slots=True)
class ProgrammeRow:
    year: int
    acquired: int
    in_tense_zones: int
    zone_abis: int
    zone_a: int
    zone_b1: int
    zone_other: int
    cumulative: int
    target_to_date: int

    @property
    def on_track(self) -> bool:
        return self.cumulative >= self.target_to_date

    def as_dict(self) -> dict[str, Any]:
        return {**{f.name: getattr(self, f.name) for f in fields(self)}, "on_track": self.on_track}


COLUMNS = (*(f.name for f in fields(ProgrammeRow)), "on_track")


@dataclass(frozen=True, slots=True)
class Programme:
    rows: tuple[ProgrammeRow, ...]
    by_entity: tuple[tuple[str, int], ...]


#: The programme's split of the acquisitions by zone (A bis, A, B1: the tense zones).
SPLIT = {"Abis": "zone_abis", "A": "zone_a", "B1": "zone_b1"}


def acquisitions(
    conn: Connection,
    start: int,
    years: int,
    segment: str,
    position: int,
    vintages: list[zones.Vintage] | None = None,
) -> list[tuple[int, str, str, int]]:
    """(year, acquirer, zone, units) of the segment's acquisitions, the zone in force on
    each acquisition's date; the year is the statements' (`periods.Year`: an acquisition
    dated 1 January counts in the year before, as the RPLS counts it)."""
    v_sql, v_params = periods.valid_movement("m", position)
    k_sql, k_params = periods.known("u", position)
    if vintages is None:
        vintages = zones.vintages(conn, position)
    zone = zones.zone_at("u", "m.date", vintages)
    rows = conn.query(
        f"SELECT m.date AS d, m.entity, {zone.zone} AS z, COUNT(*) "
        f"FROM hl_movements m JOIN hl_units u ON u.unit_key = m.unit_key AND {k_sql}{zone.join} "
        "WHERE m.kind = 'acquired' AND m.type = 'acquisition' AND m.date >= ? AND m.date <= ? "
        f"AND u.segment = ? AND {v_sql} GROUP BY d, m.entity, z",
        [
            *k_params,
            *zone.params,
            periods.Year(start).first_day,
            periods.Year(start + years - 1).last_day,
            segment,
            *v_params,
        ],
    )
    return [(periods.Year.of(day), entity, zone, int(n)) for day, entity, zone, n in rows]


def programme(
    conn: Connection,
    start: int,
    years: int,
    target: int,
    segment: str,
    position: int,
    vintages: list[zones.Vintage] | None = None,
) -> Programme:
    per_year: Counter[int] = Counter()
    split: dict[int, Counter[str]] = {}
    by_entity: Counter[str] = Counter()
    found = acquisitions(conn, start, years, segment, position, vintages)
    for year, entity, zone, units in found:
        per_year[year] += units
        split.setdefault(year, Counter())[SPLIT.get(zone, "zone_other")] += units
        by_entity[entity] += units
    rows, cumulative = [], 0
    for elapsed, year in enumerate(range(start, start + years), start=1):
        cumulative += per_year[year]
        by_zone = split.get(year, Counter())
        tense = sum(by_zone[name] for name in SPLIT.values())
        rows.append(
            ProgrammeRow(
                year,
                per_year[year],
                tense,
                by_zone["zone_abis"],
                by_zone["zone_a"],
                by_zone["zone_b1"],
                by_zone["zone_other"],
                cumulative,
                target * elapsed // years,
            )
        )
    return Programme(tuple(rows), tuple(sorted(by_entity.items())))


def statement(
    conn: Connection,
    start: int,
    years: int,
    target: int,
    segment: str = "intermediate",
    known_at: int | None = None,
) -> Document:
    position = periods.pin(conn, known_at)
    vintages = zones.vintages(conn, position)
    result = programme(conn, start, years, target, segment, position, vintages)
    chart = charts.bar_chart(
        f"Cumulative {segment} units acquired against the target of {target:,} in {years} years",
        [
            charts.Bar(
                str(r.year),
                r.cumulative,
                "good" if r.on_track else "bad",
                f"{r.cumulative:,} / {r.target_to_date:,}",
            )
            for r in result.rows
        ],
        {"good": "cumulative, on track", "bad": "cumulative, behind"},
        steps=[r.target_to_date for r in result.rows],
        target_label="target to date",
    )
    total = sum(r.acquired for r in result.rows)
    return Document(
        {
            "start": start,
            "years": years,
            "target": target,
            "segment": segment,
            "flows_from": periods.Year(start).first_day,
            "flows_to": periods.Year(start + years - 1).last_day,
            "position": position,
        },
        [r.as_dict() for r in result.rows],
        COLUMNS,
        extra={"by_entity": dict(result.by_entity), "zoning": [v.record() for v in vintages]},
        title=f"Acquisition programme {start}-{start + years - 1}: {target:,} {segment} units",
        figure=chart,
        totals={
            "year": "total",
            "acquired": total,
            "in_tense_zones": sum(r.in_tense_zones for r in result.rows),
            **{
                name: sum(getattr(r, name) for r in result.rows)
                for name in (*SPLIT.values(), "zone_other")
            },
            "cumulative": total,
            "target_to_date": target,
            "on_track": total >= target,
        },
    )
