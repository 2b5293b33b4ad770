"""Where the demo story's units are: the communes of a zoning file, by region and zone.

Why: every unit of the story stands in a real commune, and its zone is the one that
commune has in the zoning file read (by default the July 2024 zoning shipped in
ledger/reference, see ledger/reference/README.md there). The zoning changes over time,
so the file is a vintage: the story is as true as the file it is given.

What it must not do: invent a commune or a zone (a zoning file given by path that is
missing is an error, never a silent fallback), or import anything but the standard
library and the story's cast.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ledger.demo.cast import CITY_SHARE, MAIN_CITIES, ZONES

#: The zoning in force since 5 July 2024, shipped with the package (ledger/reference/README.md).
DEFAULT_ZONING = Path(__file__).resolve().parents[1] / "reference" / "zonage-abc-2024-07.csv"

ByZone = dict[str, tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class Geography:
    """Communes by region and zone: every unit's zone is its commune's zone."""

    communes: dict[str, ByZone]  # region -> zone -> every commune code
    cities: dict[str, ByZone]  # region -> zone -> main cities' codes

    def pick(self, rng: random.Random, region: str, weights: dict[str, float]) -> tuple[str, str]:
        """A (commune, zone) in `region`, the zone drawn from `weights` among those it has."""
        zones = self.communes[region]
        names = [z for z in ZONES if z in zones]
        odds = [weights.get(z, 0.0) for z in names]
        zone = rng.choices(names, odds if sum(odds) > 0 else None)[0]
        pool = self.cities[region].get(zone) if rng.random() < CITY_SHARE else None
        return rng.choice(pool or zones[zone]), zone


def _group(rows: Iterable[tuple[str, str, str]]) -> dict[str, ByZone]:
    grouped: dict[str, dict[str, list[str]]] = {}
    for code, zone, region in rows:
        grouped.setdefault(region, {}).setdefault(zone, []).append(code)
    return {r: {z: tuple(c) for z, c in zs.items()} for r, zs in grouped.items()}


def _main_cities() -> list[tuple[str, str, str]]:
    """The built-in cities as (code, zone, region) rows, in the order they are listed."""
    text = MAIN_CITIES.replace("\n", "|")
    items = (item.split() for item in text.split("|") if item.strip())
    return [(code, zone, region) for code, zone, region, *_ in items]


def load_geography(path: str | Path | None = None) -> Geography:
    """The communes of a zoning file (zones as in its vintage; by default the one shipped).

    The file is `;`-separated with a header row: INSEE code first, region second, zone
    fifth (the layout of zonage-abc-2024-07.csv). The built-in cities keep their weight,
    with the zone and region read from the file, so the file's vintage always wins.
    """
    source = Path(path) if path is not None else DEFAULT_ZONING
    if not source.is_file():
        raise FileNotFoundError(f"zoning file {source} not found")
    with source.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, delimiter=";")
        next(reader, None)
        rows = [(r[0], r[4], r[1]) for r in reader if len(r) >= 5 and r[4] in ZONES]
    known = {code: (code, zone, region) for code, zone, region in rows}
    cities = [known[code] for code, _, _ in _main_cities() if code in known]
    return Geography(_group(rows), _group(cities))
