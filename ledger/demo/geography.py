"""Where the demo story's units are: the communes that exist on a date, with the zone in force.

Why: every unit of the story stands in a real commune, and its zone is the class that
commune has in the zoning vintage in force on the date the unit enters the ledger. The
A/B/C zoning is revised from time to time, so a zone is a fact as of a date; and communes
merge, split and change code, so a commune is drawn only on dates it exists. By default
the geography knows the vintages shipped in ledger/reference (`vintages.csv`, their
effective dates) and INSEE's movements of communes since 2017 (see
ledger/reference/README.md):

- the vintage in force on a date is the latest one whose effective date is on or before
  it; before the earliest, the earliest one (the closest known: the ledger does not check
  zones there);
- a commune may be drawn on a date if the vintage in force lists it, its region is known
  (the vintages with a `REG` column give it: the July 2024 one), it was not created as the
  commune of its code after that date and it has not ceased to be a commune since
  (`Lifespan`). So Évry-Courcouronnes (91228, a commune nouvelle of 2019-01-01) is never
  drawn in 2017 or 2018, and Annecy (74010, of 2017-01-01) is from 2017-01-01.

A zoning file given by path (`--zoning FILE`) is one vintage for every date: the zone of
a commune does not change with the date then, but the movements still decide which
communes exist.

The communes and main cities of each region and zone are grouped once per period (the
dates between two consecutive boundaries: the vintages' effective dates and the dates a
listed commune begins or ceases), lazily, so a story of a million units groups them a few
dozen times at most.

What it must not do: invent a commune or a zone (a file given by path that is missing is
an error, never a silent fallback; a commune whose region is unknown is never drawn), or
import anything but the standard library and the story's cast.
"""

from __future__ import annotations

import csv
import random
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

from ledger.demo.cast import CITY_SHARE, MAIN_CITIES, ZONES

REFERENCE = Path(__file__).resolve().parents[1] / "reference"
#: The shipped vintages: `file;effective;source`, one row per zoning file of ledger/reference.
VINTAGES = REFERENCE / "vintages.csv"
#: INSEE's movements of communes dated 2017-01-01 or later (ledger/reference/README.md).
MOVEMENTS = REFERENCE / "mouvements-communes-2017.csv"
#: The latest shipped vintage (in force since 5 July 2024), the one that gives the regions.
DEFAULT_ZONING = REFERENCE / "zonage-abc-2024-07.csv"

#: Movements that make a code the commune it is in the vintages: creation (20),
#: rétablissement (21), commune nouvelle (32), code changes (41, 50).
CREATIONS = frozenset({"20", "21", "32", "41", "50"})
MOVEMENT_COLUMNS = ("MOD", "DATE_EFF", "TYPECOM_AV", "COM_AV", "TYPECOM_AP", "COM_AP")

ByZone = dict[str, tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class Lifespan:
    """When a code is the commune the vintages list: from `start`, its latest creation
    (`date.min` if the movements create none), until `end`, the first day after it on
    which it ceased to be a commune (`date.max` if it did not)."""

    start: date
    end: date

    def covers(self, day: date) -> bool:
        return self.start <= day < self.end


@dataclass(frozen=True, slots=True)
class Vintage:
    """One zoning file: the class of each commune it lists, in force from `effective`."""

    name: str
    effective: date
    zones: dict[str, str]  # commune -> zone


@dataclass(frozen=True, slots=True)
class Pools:
    """The communes that may be drawn in one period: region -> zone -> codes."""

    communes: dict[str, ByZone]
    cities: dict[str, ByZone]  # the main cities among them


class Geography:
    """The zoning vintages, the communes' regions and lifespans: every unit's zone is its
    commune's class in the vintage in force on the unit's date."""

    __slots__ = ("vintages", "regions", "lifespans", "cities", "_bounds", "_split", "_pools")

    def __init__(
        self,
        vintages: Sequence[Vintage],
        regions: dict[str, str],
        lifespans: dict[str, Lifespan],
        cities: Sequence[str] = (),
    ) -> None:
        if not vintages:
            raise ValueError("a geography needs at least one zoning vintage")
        self.vintages = tuple(sorted(vintages, key=lambda v: v.effective))
        self.regions = regions
        self.lifespans = lifespans
        self.cities = tuple(cities)
        listed = {code for v in self.vintages for code in v.zones}
        changes = {v.effective for v in self.vintages[1:]}
        for code in listed & lifespans.keys():
            changes |= {lifespans[code].start, lifespans[code].end}
        self._bounds = sorted(changes - {date.min, date.max})
        self._split = [self._static(v) for v in self.vintages]
        self._pools: dict[int, Pools] = {}

    # --------------------------------------------------------------- by date

    def vintage(self, day: date) -> Vintage:
        """The vintage in force on `day`: the latest effective on or before it, else the
        earliest (the closest known)."""
        found = self.vintages[0]
        for vintage in self.vintages[1:]:
            if vintage.effective <= day:
                found = vintage
        return found

    def zone(self, commune: str, day: date) -> str | None:
        """The class of `commune` in the vintage in force on `day` (None: not listed)."""
        return self.vintage(day).zones.get(commune)

    def exists(self, commune: str, day: date) -> bool:
        """May `commune` be drawn on `day`: listed in force, its region known, a commune then."""
        life = self.lifespans.get(commune)
        return (
            commune in self.vintage(day).zones
            and commune in self.regions
            and (life is None or life.covers(day))
        )

    def pools(self, day: date) -> Pools:
        """The communes that may be drawn on `day`, grouped once per period."""
        period = bisect_right(self._bounds, day)
        found = self._pools.get(period)
        if found is None:
            found = self._pools[period] = self._group(day)
        return found

    def pick(
        self, rng: random.Random, region: str, weights: dict[str, float], day: date
    ) -> tuple[str, str]:
        """A (commune, zone) of `region` existing on `day`, the zone in force then, drawn
        from `weights` among the zones the region has on that day."""
        pools = self.pools(day)
        zones = pools.communes.get(region)
        if not zones:
            raise ValueError(f"no commune of region {region} exists on {day} in the zoning")
        names = [z for z in ZONES if z in zones]
        odds = [weights.get(z, 0.0) for z in names]
        zone = rng.choices(names, odds if sum(odds) > 0 else None)[0]
        pool = pools.cities.get(region, {}).get(zone) if rng.random() < CITY_SHARE else None
        return rng.choice(pool or zones[zone]), zone

    # --------------------------------------------------------------- grouping

    def _static(self, vintage: Vintage) -> tuple[dict[str, dict[str, list[str]]], list[str]]:
        """The vintage's drawable communes without movements, grouped; the others, in order."""
        grouped: dict[str, dict[str, list[str]]] = {}
        moving = []
        for code, zone in vintage.zones.items():
            region = self.regions.get(code)
            if region is None:
                continue
            if code in self.lifespans:
                moving.append(code)
            else:
                grouped.setdefault(region, {}).setdefault(zone, []).append(code)
        return grouped, moving

    def _group(self, day: date) -> Pools:
        at = self.vintages.index(self.vintage(day))
        fixed, moving = self._split[at]
        zones = self.vintages[at].zones
        grouped = {r: {z: list(codes) for z, codes in zs.items()} for r, zs in fixed.items()}
        for code in moving:
            if self.lifespans[code].covers(day):
                grouped.setdefault(self.regions[code], {}).setdefault(zones[code], []).append(code)
        cities = ((c, zones[c], self.regions[c]) for c in self.cities if self.exists(c, day))
        return Pools(_freeze(grouped), _by_region(cities))


def _freeze(grouped: dict[str, dict[str, list[str]]]) -> dict[str, ByZone]:
    return {r: {z: tuple(c) for z, c in zs.items()} for r, zs in grouped.items()}


def _by_region(rows: Iterable[tuple[str, str, str]]) -> dict[str, ByZone]:
    grouped: dict[str, dict[str, list[str]]] = {}
    for code, zone, region in rows:
        grouped.setdefault(region, {}).setdefault(zone, []).append(code)
    return _freeze(grouped)


def main_cities() -> list[str]:
    """The codes of the built-in cities (`cast.MAIN_CITIES`), in the order they are listed."""
    text = MAIN_CITIES.replace("\n", "|")
    return [item.split()[0] for item in text.split("|") if item.strip()]


# ------------------------------------------------------------------- the files


def _rows(path: Path, delimiter: str, kind: str) -> Iterator[list[str]]:
    """The rows of a CSV file; a missing file is an error naming its `kind` and path."""
    if not path.is_file():
        raise FileNotFoundError(f"{kind} {path} not found")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        yield from csv.reader(handle, delimiter=delimiter)


def read_zoning(path: Path) -> tuple[dict[str, str], dict[str, str]]:
    """(commune -> zone, commune -> region) of a zoning file.

    `;`-separated, a header row, the commune code first, the zone in the column named
    `zone` or starting with `Zone`, the region (if the file gives it) in the column `REG`.
    Rows with another zone than Abis, A, B1, B2 or C are left out (no commune is guessed).
    """
    rows = _rows(path, ";", "zoning file")
    header = [h.strip() for h in next(rows, [])]
    at = [i for i, h in enumerate(header) if h.lower() == "zone" or h.startswith("Zone")]
    if len(at) != 1:
        raise ValueError(f"zoning file {path}: no single zone column in its header {header}")
    zone_at = at[0]
    region_at = header.index("REG") if "REG" in header else None
    zones: dict[str, str] = {}
    regions: dict[str, str] = {}
    for row in rows:
        if len(row) > zone_at and row[zone_at] in ZONES:
            zones[row[0]] = row[zone_at]
            if region_at is not None and len(row) > region_at and row[region_at]:
                regions[row[0]] = row[region_at]
    return zones, regions


def read_vintages(path: Path = VINTAGES) -> list[tuple[Path, date]]:
    """The zoning files a vintages file lists (`file;effective;source`), with their
    effective dates."""
    rows = _rows(path, ";", "vintages file")
    header = next(rows, [])
    if header[:2] != ["file", "effective"]:
        raise ValueError(f"vintages file {path}: header {header}, expected file;effective;...")
    found = []
    for number, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue
        try:
            found.append((path.parent / row[0], date.fromisoformat(row[1])))
        except (IndexError, ValueError):
            raise ValueError(f"vintages file {path}:{number}: bad row {row}") from None
    if not found:
        raise ValueError(f"vintages file {path} lists no zoning file")
    return found


def read_movements(path: Path = MOVEMENTS) -> dict[str, Lifespan]:
    """The lifespan of every code the movements create or end as a commune (others: always).

    A code is created on a date by a movement of type 20, 21, 32, 41 or 50 that makes it a
    commune (`TYPECOM_AP` COM); it ceases on a date where it was a commune before a
    movement (`TYPECOM_AV` COM) and no movement of that date leaves it one (merged away,
    made a commune déléguée or associée, given another code).
    """
    rows = _rows(path, ",", "movements file")
    header = next(rows, [])
    missing = [c for c in MOVEMENT_COLUMNS if c not in header]
    if missing:
        raise ValueError(f"movements file {path}: no column {', '.join(missing)}")
    mod, day, type_av, av, type_ap, ap = (header.index(c) for c in MOVEMENT_COLUMNS)
    created: dict[str, date] = {}
    before: set[tuple[str, date]] = set()
    after: set[tuple[str, date]] = set()
    for number, row in enumerate(rows, start=2):
        try:
            when = date.fromisoformat(row[day])
            if row[type_ap] == "COM":
                after.add((row[ap], when))
                if row[mod] in CREATIONS:
                    created[row[ap]] = max(when, created.get(row[ap], when))
            if row[type_av] == "COM":
                before.add((row[av], when))
        except (IndexError, ValueError):
            raise ValueError(f"movements file {path}:{number}: bad row {row}") from None
    ended: dict[str, list[date]] = {}
    for code, when in before - after:
        ended.setdefault(code, []).append(when)
    lifespans = {}
    for code in created.keys() | ended.keys():
        start = created.get(code, date.min)
        end = min((d for d in ended.get(code, ()) if d > start), default=date.max)
        lifespans[code] = Lifespan(start, end)
    return lifespans


def load_geography(
    path: str | Path | None = None,
    vintages: str | Path = VINTAGES,
    movements: str | Path = MOVEMENTS,
) -> Geography:
    """The geography of the story: the shipped vintages by date, or the zoning file `path`
    as one vintage for every date; with the communes' movements either way.

    A commune's region comes from the vintages that give one (a later vintage wins); a
    file given alone must give it (a `REG` column).
    """
    if path is not None:
        source = Path(path)
        zones, regions = read_zoning(source)
        if not regions:
            raise ValueError(f"zoning file {source}: no REG column, the communes' regions")
        found = [Vintage(source.name, date.min, zones)]
        return Geography(found, regions, read_movements(Path(movements)), main_cities())
    return _shipped(Path(vintages), Path(movements))


@cache
def _shipped(vintages: Path, movements: Path) -> Geography:
    """Read once per process: the files are shipped data and the geography only groups
    them lazily (the same communes whatever the order of the stories that ask)."""
    found: list[Vintage] = []
    regions: dict[str, str] = {}
    for path, effective in sorted(read_vintages(vintages), key=lambda v: v[1]):
        zones, given = read_zoning(path)
        found.append(Vintage(path.name, effective, zones))
        regions.update(given)
    if not regions:
        raise ValueError(f"vintages file {vintages}: no zoning file gives the regions (REG)")
    return Geography(found, regions, read_movements(movements), main_cities())
