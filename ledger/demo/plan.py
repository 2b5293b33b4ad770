"""A year of the demo story, planned on 1 January: what happens on which day, by whom.

Why: the story is told one year at a time, so its state stays small. The plan is a
sorted list of small tuples (a day, a kind, a few arguments); which units a sale takes
is decided only when the story runs it, from the pools as they are on that day.

What it must not do: change the story's state (it reads the pools, never moves a
unit), or draw from any random generator but the story's, in this order (the same seed
must give the same plan); it imports nothing but the standard library and the demo's
own modules.
"""

from __future__ import annotations

import random
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, NamedTuple

from ledger.demo.cast import (
    ABSORBED_ON,
    ACQUISITION_MODES,
    ANNULLED_SALE,
    BARE_OWNERSHIP_DATE,
    BLOCK_SIZE,
    BLOCKS,
    BUSINESSES,
    CAST,
    EXTINCTIONS,
    FORCED_BLOCKS,
    FRENCH_FIXED_HOLIDAYS,
    HLM_LOT_RATE,
    LEDGER_END,
    LLI_REGIONS,
    LOT_BUYERS,
    LOT_SALES_FROM,
    ONV,
    SCRIPTED_BLOCKS,
    SHARE_TRANSFERS,
    START,
    WRONG_ACQUISITION,
    Cast,
    family,
)
from ledger.demo.profiles import Profile


class Planned(NamedTuple):
    """One planned event: the story runs `_do_<kind>(day, *args)`."""

    day: date
    priority: int  # registrations, then mergers, then everything else
    seq: int
    kind: str
    args: tuple[Any, ...]


Adder = Callable[..., None]


def business_days(year: int) -> list[date]:
    """The working days of `year` inside the story (not weekends nor fixed holidays)."""
    day, last = date(year, 1, 2), min(date(year, 12, 31), LEDGER_END)
    days = []
    while day <= last:
        if day.weekday() < 5 and day.strftime("%m-%d") not in FRENCH_FIXED_HOLIDAYS:
            days.append(day)
        day += timedelta(days=1)
    return days


def year_part(year: int) -> float:
    """The part of `year` inside the story: the last year stops at LEDGER_END."""
    first, last = date(year, 1, 1), date(year, 12, 31)
    return ((min(last, LEDGER_END) - first).days + 1) / ((last - first).days + 1)


def active(entity: str, day: date) -> bool:
    """From the static cast: registered on or before `day` and not absorbed yet."""
    return CAST[entity].registered <= day < ABSORBED_ON.get(entity, date.max)


@dataclass(frozen=True, slots=True)
class Planner:
    """Plans each year from the story's state; shares its random generator and its pools.

    `pools` (units each entity holds in full ownership and for sale) and `acquisitions`
    (units the LLI companies acquire, by year) are the story's own dicts, read only here.
    """

    rng: random.Random
    profile: Profile
    cast: dict[str, Cast]
    pools: dict[str, array[int]]
    acquisitions: dict[int, int]

    def plan(self, year: int) -> list[Planned]:
        """The year's events as small tuples, in date order; units are chosen when run."""
        plan: list[Planned] = []

        def add(day: date, priority: int, kind: str, *args: Any) -> None:
            plan.append(Planned(day, priority, len(plan), kind, args))

        days = business_days(year)
        for cast in self.profile.later:
            if cast.registered.year == year:
                add(cast.registered, 0, "entity", cast)
        for merger in self.profile.mergers:
            if merger.day.year == year:
                add(merger.day, 1, "merger", merger)
        for transfer in SHARE_TRANSFERS:
            if transfer.day.year == year:
                add(transfer.day, 1, "share_transfer", transfer)
        for business in BUSINESSES:
            if business.divested.year == year:
                add(business.divested, 2, "divestment", business)
        if BARE_OWNERSHIP_DATE.year == year:
            add(BARE_OWNERSHIP_DATE, 2, "bare_ownership")
        for extinction in EXTINCTIONS:
            if extinction.day.year == year:
                add(extinction.day, 2, "extinction", extinction)
        for block in SCRIPTED_BLOCKS:
            if block.day.year == year:
                add(block.day, 2, "block", block.seller, block.category, block.size)
        if ANNULLED_SALE.day.year == year:
            day, seller, delay, reason = ANNULLED_SALE
            add(day, 2, "annulled_sale", seller)
            add(day + timedelta(days=delay), 2, "reversal", "annulled_sale", reason)
        self._acquisitions(year, days, add)
        self._lots(year, days, add)
        self._blocks(year, days, add)
        return sorted(plan, key=lambda p: (p.day, p.priority, p.seq))

    def _round(self, expected: float) -> int:
        """Stochastic rounding, so small expectations still happen now and then."""
        whole = int(expected)
        return whole + (self.rng.random() < expected - whole)

    def _acquisitions(self, year: int, days: list[date], add: Adder) -> None:
        rng, remaining = self.rng, self.acquisitions.get(year, 0)
        if WRONG_ACQUISITION.day.year == year and remaining >= 2:
            day, entity, delay, _ = WRONG_ACQUISITION
            size = min(remaining, rng.randint(2, 12))
            remaining -= size
            add(day, 2, "wrong_acquisition", entity, size)
            add(day + timedelta(days=delay), 2, "correct_acquisition")
        modes = list(ACQUISITION_MODES)
        odds = [m[0] for m in ACQUISITION_MODES.values()]
        while remaining > 0:
            mode = rng.choices(modes, odds)[0]
            size = min(remaining, rng.randint(*ACQUISITION_MODES[mode][1]))
            remaining -= size
            day = rng.choice(days)
            buyers = [c for c in CAST.values() if c.kind == "lli" and active(c.id, day)]
            regions = sorted({c.region for c in buyers if c.region in LLI_REGIONS})
            region = rng.choices(regions, [LLI_REGIONS[r] for r in regions])[0]
            entity = rng.choice([c.id for c in buyers if c.region == region])
            add(day, 2, "acquisition", entity, size, mode)

    def _lots(self, year: int, days: list[date], add: Adder) -> None:
        rng = self.rng
        part = year_part(year)
        for entity, pool in self.pools.items():
            rates_of = ONV if entity == ONV else family(self.cast[entity].kind)
            if year < LOT_SALES_FROM.get(rates_of, 9999) or not pool:
                continue
            rate = HLM_LOT_RATE[year] if rates_of == "hlm" else self.profile.lot_rates[rates_of]
            buyers = LOT_BUYERS[rates_of]
            for _ in range(self._round(rate * len(pool) * part)):
                category = buyers.draw(rng)
                add(rng.choice(days), 2, "lot", entity, category)

    def _blocks(self, year: int, days: list[date], add: Adder) -> None:
        rng = self.rng
        sellers = [
            (e, len(p))
            for e, p in self.pools.items()
            if family(self.cast[e].kind) == "hlm" and e != ONV and len(p) >= 2
        ]
        if not sellers:
            return
        stock = sum(n for _, n in sellers)
        mean = sum(BLOCK_SIZE) / 2
        for category, (first, share) in BLOCKS.items():
            if year < first:
                continue
            rate = share * HLM_LOT_RATE[year]
            if category == ONV and self.profile.onv_block_rate:
                rate = self.profile.onv_block_rate * year_part(year)
            count = self._round(rate * stock / mean)
            if (category, year) in FORCED_BLOCKS:
                count = max(count, 1)
            opens = self.cast[ONV].registered if category == ONV else START
            window = [d for d in days if d > opens]
            for _ in range(count):
                seller, held = rng.choices(sellers, [n for _, n in sellers])[0]
                size = max(2, min(rng.randint(*BLOCK_SIZE), held // 5))
                add(rng.choice(window), 2, "block", seller, category, size)
