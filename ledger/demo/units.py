"""The units of the demo story: their fields when they enter the ledger, and their value.

Why: a unit is described once, when it is registered or acquired, and afterwards only
its zone matters (for prices); keeping one byte per unit lets the story reach a million
units without holding the ledger in memory.

What it must not do: own a random generator (it draws from the story's, in the story's
order, so the same seed gives the same units), remember a unit's fields after yielding
them, or import anything but the standard library and the story's tables.
"""

from __future__ import annotations

import random
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from ledger.demo.cast import (
    AFL_REGIONS,
    AFL_ZONES,
    BUILDING_SIZE,
    HLM_ZONES,
    LLI_ZONES,
    PRESENCE,
    ROOMS,
    SOCIAL_DECADES,
    SOCIAL_FINANCING,
    SURFACE,
    ZONES,
)
from ledger.demo.geography import Geography


def unit_id(index: int) -> str:
    return f"U-{index:07d}"


def rpls_id(index: int) -> str:
    """10 digits, unique: a bijection of the unit index modulo 10**10."""
    return f"{(index * 7_919_371 + 1_234_567_891) % 10**10:010d}"


@dataclass(frozen=True, slots=True)
class Building:
    """Where and when a group of units was built: they share its commune, zone and year."""

    commune: str
    zone: str
    year_built: int
    financing: str | None
    size: int


class Units:
    """Every unit that has entered the ledger, by index: the zone of each, nothing more."""

    __slots__ = ("rng", "geo", "next_index", "zone")

    def __init__(self, rng: random.Random, geography: Geography) -> None:
        self.rng = rng
        self.geo = geography
        self.next_index = 1
        self.zone = array("B", [0])  # zone per unit index (index 0 unused)

    def buildings(
        self, region: str | None, count: int, segment: str, day: date
    ) -> Iterator[Building]:
        """Buildings of `segment` holding `count` units in all, in `region` (AFL: anywhere),
        entering the ledger on `day`: in communes existing then, with the zone in force."""
        rng = self.rng
        while count > 0:
            size = min(count, rng.randint(*BUILDING_SIZE[segment]))
            count -= size
            if segment == "other":  # AFL built everywhere, from 2002
                home = AFL_REGIONS.draw(rng)
                commune, zone = self.geo.pick(rng, home, AFL_ZONES, day)
                yield Building(commune, zone, rng.randint(2003, 2016), None, size)
            elif segment == "social":
                commune, zone = self.geo.pick(rng, region or "11", HLM_ZONES, day)
                decade = SOCIAL_DECADES.draw(rng)
                financing = SOCIAL_FINANCING.draw(rng)
                year = min(decade + rng.randint(0, 9), 2016)
                yield Building(commune, zone, year, financing, size)
            else:
                commune, zone = self.geo.pick(rng, region or "11", LLI_ZONES, day)
                yield Building(commune, zone, rng.randint(1995, 2016), "PLI", size)

    def new(self, building: Building, segment: str) -> dict[str, Any]:
        """The next unit's fields, as the input format writes them; optional ones may be absent."""
        rng, index = self.rng, self.next_index
        self.next_index += 1
        self.zone.append(ZONES.index(building.zone))
        odds = PRESENCE[segment]
        unit: dict[str, Any] = {
            "unit_id": unit_id(index),
            "commune": building.commune,
            "zone": building.zone,
            "segment": segment,
        }
        financing = building.financing
        if segment == "social" and rng.random() < 0.25:  # mixed programmes
            financing = SOCIAL_FINANCING.draw(rng)
        if financing and rng.random() < odds[0]:
            unit["financing"] = financing
        rooms = ROOMS.draw(rng)
        if rng.random() < odds[1]:
            unit["rooms"] = rooms
        if rng.random() < odds[2]:
            unit["surface_m2"] = f"{round(rng.uniform(*SURFACE[rooms]) * 2) / 2:.2f}"
        if rng.random() < odds[3]:
            unit["year_built"] = building.year_built
        if rng.random() < odds[4]:
            unit["rpls_id"] = rpls_id(index)
        return unit

    def price(self, units: Iterable[int], table: dict[str, tuple[int, int]], factor: float) -> int:
        """Euros for `units`, each drawn from `table` by its zone, times `factor`, to 500."""
        total = sum(self.rng.randint(*table[ZONES[self.zone[i]]]) for i in units)
        return int(total * factor / 500) * 500
