"""The demo story, year by year: a seeded, streaming ledger of the 2017 Action Logement programme.

Why: tests, benchmarks, the tutorial and `housing-ledger demo` need a realistic
transaction file of any size (a few thousand units to a million) that respects every
rule of docs/transactions.md, so that an importer rejecting it is an importer bug.

The story: on 2017-01-01 the group, its HLM companies (ESH), its intermediate-housing
(LLI) companies, Foncière Logement (AFL) and the AGIRC-ARRCO pension fund are registered
with their opening stock; LLI companies buy new intermediate units in tense zones from
2017 to 2021 and merge into regional entities (In'li in 2018), whose shares pass from ALI
to In'li at the end of 2024 (no unit moves); HLM companies sell about 1% of their stock
a year, lot by lot to sitting tenants mostly, with a few blocks; from 2019 the national
sales operator (ONV) buys blocks from the ESH and resells them lot by lot; AFL gives the
bare ownership of most of its stock to AGIRC-ARRCO on 2017-07-01 with staggered usufruct
end dates; the two
competitive-sector businesses are divested without redundancy; one annulled sale and
one acquisition recorded with a wrong zone are reversed. That default story gives about
1.5 events per unit. The "scale" profile (`ledger.demo.profiles`, tables in
`ledger.demo.scale`) adds a real group's churn for benchmarks, 3 to 4 events per unit.

Every unit entering the ledger (opening stock on 2017-01-01, acquisitions) stands in a
commune that exists on that date, with the zone of the zoning vintage in force then (the
earliest shipped vintage, of 2022, for the dates before it: all of the story's entries).

The parts: `cast` (who, when, how much), `geography` (the communes existing on a date
and their zone in force), `units` (a unit's fields and value), `plan` (a year's events,
planned on 1 January), `profiles` (default or scale), and this module, which runs each
plan and builds each transaction.

What it must not do: import the rest of the project (it is a client of the input
format, like any other) or any third-party package (stdlib only), read the clock (same
seed, same file), or hold the ledger in memory. Its state is one byte per unit (the
zone, for prices) plus arrays of the unit indices each entity holds in full ownership;
transactions are built one at a time, in journal order. A merger moves its absorbed
entities' arrays whole.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from array import array
from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from itertools import chain
from pathlib import Path
from typing import IO, Any

from ledger.demo.cast import (
    ACQUISITION_MODES,
    ACQUISITION_YEARS,
    AFL,
    BARE_OWNERSHIP_SHARE,
    BUSINESSES,
    CAST,
    DEVELOPERS,
    DISCOUNT,
    ESH,
    HEAD,
    INSTITUTIONAL_BUYERS,
    LEDGER_END,
    LLI_2017,
    LLI_PRICE,
    LLI_ZONES,
    MARKET_PRICE,
    ONV,
    OPENING_SHARE,
    PENSION_FUND,
    SOCIAL_LANDLORDS,
    START,
    STORY_BATCHES,
    USUFRUCT_BATCHES,
    WRONG_ACQUISITION,
    WRONG_ZONE,
    Cast,
    DivestedBusiness,
    Extinction,
    Merger,
    ShareTransfer,
)
from ledger.demo.geography import Geography, load_geography
from ledger.demo.plan import Planned, Planner
from ledger.demo.profiles import PROFILES, Profile, load_profile
from ledger.demo.units import Building, Units, unit_id

__all__ = ["MIN_UNITS", "generate", "main", "write_jsonl"]

#: Units per opening `register_units` transaction.
OPENING_CHUNK = 500
#: The smallest ledger that tells the whole story.
MIN_UNITS = 100


def _money(euros: int) -> str:
    return f"{euros}.00"


def _split(total: int, weights: Sequence[float]) -> list[int]:
    """`total` split by `weights`, the rounding going to the last part."""
    parts = [int(total * w / sum(weights)) for w in weights]
    parts[-1] += total - sum(parts)
    return parts


class _Story:
    """The generator's compact state, and one `_do_*` method per kind of planned event.

    Every method runs in journal order and reads only this state, so a unit is sold only
    while its seller holds it in full ownership, and an entity is named only while active.
    """

    def __init__(self, units: int, seed: int, geography: Geography, profile: Profile) -> None:
        self.rng = random.Random(seed)
        self.cast = {**CAST, **{c.id: c for c in profile.later}}
        self.units = Units(self.rng, geography)
        self.total = units
        self.pools: dict[str, array[int]] = {}  # held in full ownership and for sale
        self.successor: dict[str, str] = {}
        self.deeds: dict[date, list[array[int]]] = {}  # dismembered units by usufruct_end
        self.acquisitions: dict[int, int] = {}  # units acquired by the LLI, by year
        self.planner = Planner(self.rng, profile, self.cast, self.pools, self.acquisitions)
        self.counters: dict[str, int] = {}
        self.headcount: dict[str, int] = {}
        self.pending: dict[str, Any] = {}  # transactions a later reversal refers to

    # ----------------------------------------------------------------- helpers

    def _next(self, key: str) -> int:
        self.counters[key] = self.counters.get(key, 0) + 1
        return self.counters[key]

    def _deed(self, year: int) -> str:
        return f"Acte {year}/{self._next(f'deed-{year}'):05d}"

    def _holder(self, entity: str) -> str:
        while entity in self.successor:
            entity = self.successor[entity]
        return entity

    # ----------------------------------------------------------------- 2017-01-01

    def opening(self) -> Iterator[dict[str, Any]]:
        """Entities, businesses and opening balances, all on 2017-01-01."""
        for cast in (*HEAD, *ESH, *LLI_2017):
            yield from self._do_entity(START, cast)
        for business in BUSINESSES:
            headcount = self.rng.randint(*business.headcount)
            self.headcount[business.id] = headcount
            yield {
                "id": f"BIZ-{business.id}",
                "type": "register_business",
                "date": START.isoformat(),
                "entity": business.owner,
                "business": business.id,
                "name": business.name,
                "sector": business.sector,
                "headcount": headcount,
            }
        n_hlm, n_afl, n_lli = (round(self.total * s) for s in OPENING_SHARE.values())
        acquired = self.total - n_hlm - n_afl - n_lli
        yearly = _split(acquired, list(ACQUISITION_YEARS.values()))
        self.acquisitions.update(zip(ACQUISITION_YEARS, yearly, strict=True))
        for cast, count in zip(ESH, _split(n_hlm, [c.share for c in ESH]), strict=True):
            yield from self._open(cast, count, "social")
        yield from self._open(self.cast[AFL], n_afl, "other")
        for cast, count in zip(LLI_2017, _split(n_lli, [c.share for c in LLI_2017]), strict=True):
            yield from self._open(cast, count, "intermediate")

    def _open(self, cast: Cast, count: int, segment: str) -> Iterator[dict[str, Any]]:
        first, chunk = self.units.next_index, []
        for building in self.units.buildings(cast.region, count, segment, START):
            for _ in range(building.size):
                chunk.append(self.units.new(building, segment))
                if len(chunk) == OPENING_CHUNK:
                    yield self._register_units(cast.id, chunk)
                    chunk = []
        if chunk:
            yield self._register_units(cast.id, chunk)
        self.pools[cast.id] = array("i", range(first, self.units.next_index))

    def _register_units(self, entity: str, units: list[dict[str, Any]]) -> dict[str, Any]:
        number = self._next(f"open-{entity}")
        return {
            "id": f"OPEN-{entity}-{number:03d}",
            "type": "register_units",
            "date": START.isoformat(),
            "entity": entity,
            "units": units,
            "reference": f"Bilan d'ouverture au 01/01/2017, état {number}",
        }

    # ----------------------------------------------------------------- a year

    def run(self, plan: list[Planned]) -> Iterator[dict[str, Any]]:
        """The planned events' transactions, in the plan's order."""
        for event in plan:
            yield from getattr(self, f"_do_{event.kind}")(event.day, *event.args)

    # ----------------------------------------------------------------- events

    def _do_entity(self, day: date, cast: Cast) -> Iterator[dict[str, Any]]:
        if cast.kind in ("hlm", "esh", "sales_company", "lli", "fonciere"):
            self.pools[cast.id] = array("i")
        tx: dict[str, Any] = {
            "id": f"ENT-{cast.id}",
            "type": "register_entity",
            "date": day.isoformat(),
            "entity": cast.id,
            "name": cast.name,
            "kind": cast.kind,
        }
        if cast.region:
            tx["region"] = cast.region
        if cast.parent:
            tx["parent"] = cast.parent
        yield tx

    def _do_share_transfer(self, day: date, transfer: ShareTransfer) -> Iterator[dict[str, Any]]:
        yield {
            "id": f"TIT-{day.year}-{transfer.entity}",
            "type": "share_transfer",
            "date": day.isoformat(),
            "entity": transfer.entity,
            "parent": transfer.parent,
            "reference": transfer.reference,
        }

    def _do_merger(self, day: date, merger: Merger) -> Iterator[dict[str, Any]]:
        into = self.pools.setdefault(merger.into, array("i"))
        for absorbed in merger.absorbed:
            into.extend(self.pools.pop(absorbed, array("i")))
            self.successor[absorbed] = merger.into
        yield {
            "id": f"MRG-{day.year}-{self._next(f'mrg-{day.year}'):02d}",
            "type": "merger",
            "date": day.isoformat(),
            "absorbed": list(merger.absorbed),
            "into": merger.into,
            "reference": merger.reference,
        }

    def _do_divestment(self, day: date, business: DivestedBusiness) -> Iterator[dict[str, Any]]:
        headcount = self.headcount[business.id]
        yield {
            "id": f"DIV-{day.year}-{business.id}",
            "type": "divestment",
            "date": day.isoformat(),
            "entity": business.owner,
            "business": business.id,
            "buyer": business.buyer,
            "price_eur": _money(self.rng.randint(*business.price) // 1000 * 1000),
            "employees_transferred": headcount,
            "no_redundancy": True,
            "reference": f"Cession de fonds, acte du {day.strftime('%d/%m/%Y')}",
        }

    def _acquisition(
        self,
        day: date,
        entity: str,
        size: int,
        mode: str,
    ) -> tuple[dict[str, Any], list[int]]:
        rng = self.rng
        _, _, built = ACQUISITION_MODES[mode]
        region = self.cast[entity].region or "11"
        commune, zone = self.units.geo.pick(rng, region, LLI_ZONES, day)
        year = min(day.year + rng.randint(*built), day.year + 5)
        first = self.units.next_index
        units = [
            self.units.new(Building(commune, zone, year, "PLI", size), "intermediate")
            for _ in range(size)
        ]
        indices = list(range(first, self.units.next_index))
        factor = 0.9 if mode == "existing" else 1.0
        tx = {
            "id": f"ACQ-{day.year}-{self._next(f'acq-{day.year}'):04d}",
            "type": "acquisition",
            "date": day.isoformat(),
            "entity": entity,
            "mode": mode,
            "seller": rng.choice(DEVELOPERS),
            "price_eur": _money(self.units.price(indices, LLI_PRICE, factor)),
            "reference": self._deed(day.year),
            "units": units,
        }
        return tx, indices

    def _do_acquisition(
        self,
        day: date,
        entity: str,
        size: int,
        mode: str,
    ) -> Iterator[dict[str, Any]]:
        tx, indices = self._acquisition(day, entity, size, mode)
        self.pools[entity].extend(indices)
        yield tx

    def _do_wrong_acquisition(self, day: date, entity: str, size: int) -> Iterator[dict[str, Any]]:
        """Recorded with the neighbouring zone; its units wait, untouched, for the correction."""
        tx, indices = self._acquisition(day, entity, size, "vefa")
        zone = tx["units"][0]["zone"]
        wrong = {**tx, "units": [{**u, "zone": WRONG_ZONE[zone]} for u in tx["units"]]}
        self.pending["wrong_acquisition"] = (tx, indices)
        yield wrong

    def _do_correct_acquisition(self, day: date) -> Iterator[dict[str, Any]]:
        """Reverse the wrong record, then record the same deed again (same date, same units)."""
        if "wrong_acquisition" not in self.pending:
            return
        tx, indices = self.pending.pop("wrong_acquisition")
        reason = WRONG_ACQUISITION.reason.format(zone=tx["units"][0]["zone"])
        yield self._reversal(day, tx["id"], reason)
        again = {
            **tx,
            "id": f"ACQ-{day.year}-{self._next(f'acq-{day.year}'):04d}",
            "note": f"Réenregistrement de {tx['id']} avec la zone corrigée",
        }
        self.pools[tx["entity"]].extend(indices)
        yield again

    def _reversal(self, day: date, reverses: str, reason: str) -> dict[str, Any]:
        number = self._next(f"rev-{day.year}")
        return {
            "id": f"REV-{day.year}-{number:04d}",
            "type": "reversal",
            "date": day.isoformat(),
            "reverses": reverses,
            "reason": reason,
        }

    def _do_reversal(self, day: date, key: str, reason: str) -> Iterator[dict[str, Any]]:
        if key in self.pending:
            yield self._reversal(day, self.pending.pop(key), reason)

    def _sale(
        self, day: date, seller: str, units: list[int], buyer: dict[str, str], factor: float
    ) -> dict[str, Any]:
        return {
            "id": f"SALE-{day.year}-{self._next(f'sale-{day.year}'):05d}",
            "type": "sale",
            "date": day.isoformat(),
            "entity": seller,
            "units": [unit_id(i) for i in sorted(units)],
            "buyer": buyer,
            "price_eur": _money(self.units.price(units, MARKET_PRICE, factor)),
            "reference": self._deed(day.year),
        }

    def _do_lot(self, day: date, seller: str, category: str) -> Iterator[dict[str, Any]]:
        """One unit, to its tenant mostly: swap-remove a random unit of the seller's pool."""
        seller = self._holder(seller)
        pool = self.pools.get(seller)
        if not pool:
            return
        at = self.rng.randrange(len(pool))
        unit = pool[at]
        pool[at] = pool[-1]
        pool.pop()
        factor = DISCOUNT["lli"] if self.cast[seller].kind == "lli" else DISCOUNT[category]
        yield self._sale(day, seller, [unit], {"category": category}, factor)

    def _take_block(self, seller: str, size: int) -> list[int]:
        """Neighbouring entries of the pool: mostly units of the same building."""
        pool = self.pools.get(seller)
        if pool is None or len(pool) < 2:
            return []
        size = min(size, len(pool))
        at = self.rng.randrange(len(pool) - size + 1)
        units = pool[at : at + size].tolist()
        del pool[at : at + size]
        return units

    def _do_block(
        self,
        day: date,
        seller: str,
        category: str,
        size: int,
    ) -> Iterator[dict[str, Any]]:
        seller = self._holder(seller)
        units = self._take_block(seller, size)
        if not units:
            return
        if category == ONV:
            buyer = {"category": "social_landlord", "name": self.cast[ONV].name, "entity": ONV}
            self.pools[ONV].extend(units)
        elif category == "institutional":
            buyer = {"category": category, "name": self.rng.choice(INSTITUTIONAL_BUYERS)}
        else:
            buyer = {"category": category, "name": self.rng.choice(SOCIAL_LANDLORDS)}
        yield self._sale(day, seller, units, buyer, DISCOUNT[category])

    def _do_annulled_sale(self, day: date, seller: str) -> Iterator[dict[str, Any]]:
        """A block whose deed is later annulled: its units never come back to the pool."""
        units = self._take_block(self._holder(seller), self.rng.randint(2, 5))
        if not units:
            return
        buyer = {"category": "social_landlord", "name": self.rng.choice(SOCIAL_LANDLORDS)}
        tx = self._sale(day, self._holder(seller), units, buyer, DISCOUNT["social_landlord"])
        self.pending["annulled_sale"] = tx["id"]
        yield tx

    def _do_bare_ownership(self, day: date) -> Iterator[dict[str, Any]]:
        """AFL gives the bare ownership of most of its stock, one deed per building."""
        rng, pool = self.rng, self.pools[AFL]
        count = round(len(pool) * BARE_OWNERSHIP_SHARE)
        given, self.pools[AFL] = pool[:count], pool[count:]
        largest, start = max(6, min(120, count // 12)), 0
        deeds: list[array[int]] = []
        while start < len(given):
            size = rng.randint(max(1, largest // 4), largest)
            deeds.append(given[start : start + size])
            start += size
        ends = [*STORY_BATCHES, *(end for end in USUFRUCT_BATCHES if end not in STORY_BATCHES)]
        batches = ends[: len(deeds)] + rng.choices(
            ends, list(USUFRUCT_BATCHES.values()), k=max(0, len(deeds) - len(ends))
        )
        rng.shuffle(batches)
        for deed, end in zip(deeds, batches, strict=True):
            self.deeds.setdefault(end, []).append(deed)
            number = self._next("bot")
            yield {
                "id": f"BOT-{day.year}-AFL-{number:04d}",
                "type": "bare_ownership_transfer",
                "date": day.isoformat(),
                "entity": AFL,
                "bare_owner": PENSION_FUND,
                "units": [unit_id(i) for i in deed],
                "usufruct_end": end.isoformat(),
                "consideration": "gratuitous",
                "reference": f"Convention AFL / AGIRC-ARRCO du 27/04/2017, acte {number}",
            }

    def _do_extinction(self, day: date, extinction: Extinction) -> Iterator[dict[str, Any]]:
        deeds = self.deeds.get(extinction.batch, [])
        share = extinction.share
        count = len(deeds) if share >= 1 else max(1, round(len(deeds) * share))
        chosen = sorted(self.rng.sample(range(len(deeds)), min(count, len(deeds))))
        for at in reversed(chosen):
            deed = deeds.pop(at)
            number = self._next(f"ext-{day.year}")
            yield {
                "id": f"EXT-{day.year}-AFL-{number:03d}",
                "type": "usufruct_extinguished",
                "date": day.isoformat(),
                "units": [unit_id(i) for i in deed],
                "reference": extinction.reference,
            }


def generate(
    units: int = 3000,
    seed: int = 2017,
    zoning_path: str | Path | None = None,
    profile: str = "default",
) -> Iterator[dict[str, Any]]:
    """Yield the demo ledger's transactions, in journal order, as JSONL-ready dicts.

    `units` is the number of units that ever enter the ledger (opening stock plus LLI
    acquisitions). Same arguments and zoning files, same transactions. Without
    `zoning_path`, zones are read from the shipped vintages by date; a `zoning_path` is
    one vintage for every date (ledger.demo.geography). Every size from
    MIN_UNITS is valid; the proportions of the story (sitting tenants the majority of
    sales, several usufructs overdue) settle from about a thousand units. `profile`
    "scale" adds the ELAN regroupings and more ONV sales: 3 to 4 events per unit.
    """
    if units < MIN_UNITS:
        raise ValueError(f"units must be at least {MIN_UNITS} to tell the whole story")
    story = _Story(units, seed, load_geography(zoning_path), load_profile(profile))
    return _stream(story)


def _stream(story: _Story) -> Iterator[dict[str, Any]]:
    yield from story.opening()
    for year in range(START.year, LEDGER_END.year + 1):
        yield from story.run(story.planner.plan(year))


def write_jsonl(
    path_or_file: str | Path | IO[str],
    units: int = 3000,
    seed: int = 2017,
    zoning_path: str | Path | None = None,
    profile: str = "default",
) -> int:
    """Write one compact JSON object per line; return the number of transactions.

    Bad arguments (a missing zoning file, an unknown profile, too few units) raise before
    a file is opened, so no empty or partial file is left behind."""
    transactions = generate(units, seed, zoning_path, profile)
    first = next(transactions, None)
    lines = chain([first] if first is not None else [], transactions)
    if isinstance(path_or_file, (str, Path)):
        with Path(path_or_file).open("w", encoding="utf-8", newline="\n") as handle:
            return _write(handle, lines)
    return _write(path_or_file, lines)


def _write(handle: IO[str], transactions: Iterable[dict[str, Any]]) -> int:
    count = 0
    for tx in transactions:
        handle.write(json.dumps(tx, ensure_ascii=False, separators=(", ", ": ")) + "\n")
        count += 1
    return count


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m ledger.demo [FILE|-] [--units N] [--seed S] [--zoning CSV] [--profile P]`:
    write a demo."""
    parser = argparse.ArgumentParser(prog="python -m ledger.demo", description=main.__doc__)
    parser.add_argument("output", nargs="?", default="-", help="file to write, or - (stdout)")
    parser.add_argument("--units", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=2017)
    parser.add_argument(
        "--zoning",
        default=None,
        help="one zonage-abc CSV (with a REG column) for every date (default: the vintages "
        "shipped in ledger/reference, each from its effective date)",
    )
    parser.add_argument(
        "--profile",
        choices=PROFILES,
        default="default",
        help="scale: ELAN mergers and more ONV sales, 3-4 events per unit",
    )
    args = parser.parse_args(argv)
    target = sys.stdout if args.output == "-" else args.output
    try:
        count = write_jsonl(target, args.units, args.seed, args.zoning, args.profile)
    except (FileNotFoundError, ValueError) as e:
        parser.error(str(e))
    print(f"{count} transactions", file=sys.stderr)
    return 0


if __name__ == "__main__":  # `python -m ledger.demo` is the entry point to document
    raise SystemExit(main())
