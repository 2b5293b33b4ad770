"""A seeded, streaming demo ledger telling the story of the 2017 Action Logement programme.

Why: tests, benchmarks, the tutorial and `housing-ledger demo` need a realistic
transaction file of any size (a few thousand units to a million) that respects every
rule of `spec/transactions.md`, so that an importer rejecting it is an importer bug.

The story (see `DOMAIN.md` sections 1, 5, 6, 7): on 2017-01-01 the group, its HLM
companies (ESH), its intermediate-housing (LLI) companies, Foncière Logement (AFL) and
the AGIRC-ARRCO pension fund are registered with their opening stock; LLI companies buy
new intermediate units in tense zones from 2017 to 2021 and merge into regional entities
(In'li in 2018, then everything into In'li in 2025); HLM companies sell about 1% of their
stock a year, lot by lot to sitting tenants mostly, with a few blocks; from 2019 the
national sales operator (ONV) buys blocks from the ESH and resells them lot by lot; AFL
gives the bare ownership of most of its stock to AGIRC-ARRCO on 2017-07-01 with staggered
usufruct end dates; the two competitive-sector businesses are divested without
redundancy; one annulled sale and one acquisition recorded with a wrong zone are reversed.
That default story gives about 1.5 events per unit. The "scale" profile (`profile=
"scale"`, tables in `ledger/demo/scale.py`) adds a real group's churn for benchmarks, 3 to
4 events per unit: the ELAN regroupings of the ESH into regional (2021), inter-regional
(2024) and national (2026) companies, each new company registered before it absorbs;
about 1.5% of the ESH stock sold to ONV a year and resold lot by lot; faster LLI resales.

What it must not do: import the rest of the project (but `ledger.demo.scale`, its own
tables) or any third-party package (stdlib only), read the clock (same seed, same file),
or hold the ledger in memory. Its state is one byte per unit (the zone, for prices) plus
arrays of the unit indices each entity holds in full ownership; transactions are built
one at a time, in journal order. A merger moves its absorbed entities' arrays whole.
"""

from __future__ import annotations

import csv
import json
import random
import sys
from array import array
from bisect import bisect
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import accumulate
from pathlib import Path
from typing import IO, Any, Generic, NamedTuple, TypeVar

# --------------------------------------------------------------------------- the cast

START = date(2017, 1, 1)
#: The story's "today": nothing is dated later, so overdue usufructs show as overdue.
LEDGER_END = date(2026, 11, 27)
ZONES = ("Abis", "A", "B1", "B2", "C")
K = TypeVar("K")
#: The zoning in force since 5 July 2024, shipped with the package (ledger/reference/README.md).
DEFAULT_ZONING = Path(__file__).resolve().parents[1] / "reference" / "zonage-abc-2024-07.csv"


@dataclass(frozen=True, slots=True)
class Cast:
    """An entity of the story; `share` is its part of its family's opening stock."""

    id: str
    name: str
    kind: str
    region: str | None
    registered: date = START
    share: float = 0.0


class Odds(Generic[K]):
    """Weighted choices drawn with one random number (the story draws millions of them)."""

    __slots__ = ("weights", "_keys", "_cumulative")

    def __init__(self, weights: dict[K, float]) -> None:
        self.weights = weights
        self._keys = tuple(weights)
        self._cumulative = tuple(accumulate(weights.values()))

    def draw(self, rng: random.Random) -> K:
        return self._keys[bisect(self._cumulative, rng.random() * self._cumulative[-1])]


GROUP = "AL-GROUPE"
AFL = "AFL"
PENSION_FUND = "AGIRC-ARRCO"
ONV = "ONV"
INLI = "INLI"

HEAD = (
    Cast(GROUP, "Action Logement Groupe", "group", None),
    Cast("ALI", "Action Logement Immobilier", "other", "11"),
    Cast(AFL, "Foncière Logement", "fonciere", "11"),
    Cast(PENSION_FUND, "Fédération AGIRC-ARRCO", "pension_fund", None),
)
ESH = (
    Cast("ESH-IDF", "ESH Île-de-France", "hlm", "11", share=0.24),
    Cast("ESH-IDF-EST", "ESH Est francilien", "hlm", "11", share=0.06),
    Cast("ESH-HDF", "ESH Hauts-de-France", "hlm", "32", share=0.13),
    Cast("ESH-ARA", "ESH Auvergne-Rhône-Alpes", "hlm", "84", share=0.13),
    Cast("ESH-ALPES", "ESH des Alpes", "hlm", "84", share=0.04),
    Cast("ESH-GE", "ESH Grand Est", "hlm", "44", share=0.10),
    Cast("ESH-NAQ", "ESH Nouvelle-Aquitaine", "hlm", "75", share=0.08),
    Cast("ESH-OCC", "ESH Occitanie", "hlm", "76", share=0.08),
    Cast("ESH-PACA", "ESH Provence-Alpes-Côte d'Azur", "hlm", "93", share=0.08),
    Cast("ESH-NOR", "ESH Normandie", "hlm", "28", share=0.06),
)
LLI_2017 = (
    Cast("LLI-IDF-NORD", "LLI Île-de-France Nord", "lli", "11", share=0.28),
    Cast("LLI-IDF-OUEST", "LLI Île-de-France Ouest", "lli", "11", share=0.24),
    Cast("LLI-IDF-SUD", "LLI Île-de-France Sud", "lli", "11", share=0.18),
    Cast("LLI-LYON", "LLI Lyon Métropole", "lli", "84", share=0.12),
    Cast("LLI-ALPES", "LLI Alpes", "lli", "84", share=0.06),
    Cast("LLI-BORDEAUX", "LLI Bordeaux Atlantique", "lli", "75", share=0.12),
)
#: Registered during the story, each before its first use.
LATER = (
    Cast(INLI, "In'li", "lli", "11", date(2017, 10, 2)),
    Cast("INLI-ARA", "In'li Auvergne-Rhône-Alpes", "lli", "84", date(2017, 10, 2)),
    Cast("INLI-SO", "In'li Sud-Ouest", "lli", "75", date(2018, 10, 1)),
    Cast("INLI-PACA", "In'li PACA", "lli", "93", date(2019, 1, 2)),
    Cast(ONV, "Opérateur national de vente", "hlm", None, date(2019, 3, 1)),
)
CAST = {c.id: c for c in (*HEAD, *ESH, *LLI_2017, *LATER)}


class Merger(NamedTuple):
    day: date
    absorbed: tuple[str, ...]
    into: str
    reference: str


MERGERS = (
    Merger(
        date(2018, 1, 1),
        ("LLI-IDF-NORD", "LLI-IDF-OUEST", "LLI-IDF-SUD"),
        INLI,
        "Traité de fusion du 14/11/2017",
    ),
    Merger(
        date(2018, 1, 1), ("LLI-LYON", "LLI-ALPES"), "INLI-ARA", "Traité de fusion du 21/11/2017"
    ),
    Merger(date(2019, 1, 1), ("LLI-BORDEAUX",), "INLI-SO", "Traité de fusion du 12/11/2018"),
    Merger(date(2019, 7, 1), ("ESH-ALPES",), "ESH-ARA", "Traité de fusion du 28/05/2019"),
    Merger(date(2020, 1, 1), ("ESH-IDF-EST",), "ESH-IDF", "Traité de fusion du 19/11/2019"),
    Merger(
        date(2025, 1, 1),
        ("INLI-ARA", "INLI-SO", "INLI-PACA"),
        INLI,
        "Traité de fusion du 18/11/2024 (décision ALI de septembre 2024)",
    ),
)
ABSORBED_ON = {a: m.day for m in MERGERS for a in m.absorbed}


class Business(NamedTuple):
    id: str
    owner: str
    name: str
    sector: str
    headcount: tuple[int, int]
    divested: date
    buyer: str
    price: tuple[int, int]


BUSINESSES = (
    Business(
        "ADB-1",
        GROUP,
        "Administration de biens (filiale)",
        "property_management",
        (320, 480),
        date(2017, 12, 14),
        "Groupe Gestion Immobilière Associée",
        (30_000_000, 42_000_000),
    ),
    Business(
        "PP-1",
        "ALI",
        "Promotion privée (filiale)",
        "private_development",
        (150, 320),
        date(2018, 6, 28),
        "Horizon Promotion Holding",
        (18_000_000, 29_000_000),
    ),
)

# --------------------------------------------------------------------------- the plot

#: Parts of `units` registered on 2017-01-01 by family; LLI acquisitions make the rest.
OPENING_SHARE = {"hlm": 0.66, "fonciere": 0.08, "lli": 0.08}
ACQUISITION_YEARS = {2017: 0.15, 2018: 0.22, 2019: 0.23, 2020: 0.19, 2021: 0.21}
LLI_REGIONS = {"11": 0.62, "84": 0.15, "75": 0.11, "93": 0.12}
AFL_REGIONS = Odds(
    {"11": 0.45, "84": 0.12, "93": 0.10, "76": 0.08, "75": 0.07, "32": 0.08, "44": 0.05, "52": 0.05}
)
#: Zone weights (renormalised over the zones a region has): LLI buy in tense zones.
HLM_ZONES = {"Abis": 0.06, "A": 0.22, "B1": 0.30, "B2": 0.24, "C": 0.18}
AFL_ZONES = {"Abis": 0.10, "A": 0.35, "B1": 0.35, "B2": 0.15, "C": 0.05}
LLI_ZONES = {"Abis": 0.22, "A": 0.45, "B1": 0.29, "B2": 0.04, "C": 0.0}
CITY_SHARE = 0.55  # share of units in the region's main cities rather than any commune

#: Lot-by-lot sales, as a share of the seller's full-ownership stock on 1 January.
HLM_LOT_RATE = {
    2017: 0.006,
    2018: 0.007,
    2019: 0.009,
    2020: 0.008,
    2021: 0.010,
    2022: 0.011,
    2023: 0.010,
    2024: 0.010,
    2025: 0.010,
    2026: 0.010,
}
LOT_RATE_BY_KIND = {"fonciere": 0.02, "lli": 0.004, ONV: 0.20}
LOT_SALES_FROM = {"hlm": 2017, "fonciere": 2018, "lli": 2020, ONV: 2020}
LOT_BUYERS = {
    "hlm": Odds({"sitting_tenant": 0.74, "tenant": 0.14, "individual": 0.12}),
    ONV: Odds({"sitting_tenant": 0.60, "tenant": 0.20, "individual": 0.20}),
    "fonciere": Odds({"sitting_tenant": 0.80, "individual": 0.20}),  # CCH L443-15-2-3
    "lli": Odds({"sitting_tenant": 0.80, "individual": 0.20}),
}
#: Blocks sold by the ESH, as a share of their yearly lot sales: (first year, share).
BLOCKS = {"institutional": (2017, 0.03), "social_landlord": (2017, 0.05), ONV: (2019, 0.15)}
BLOCK_SIZE = (10, 80)
FORCED_BLOCKS = {("institutional", 2018), ("social_landlord", 2019), (ONV, 2019)}
INSTITUTIONAL_BUYERS = (
    "Foncière Résidentielle Alpha",
    "SCPI Pierre Habitat",
    "Mutuelle Patrimoine Immobilier",
    "Fonds Résidentiel Europe",
)
SOCIAL_LANDLORDS = (
    "OPH 77",
    "Habitat Public Nord",
    "Office métropolitain de l'habitat",
    "SA HLM Littoral Habitat",
)
DEVELOPERS = (
    "Promoteur Horizon",
    "Les Bâtisseurs du Val",
    "Résidences Nouvelles SA",
    "Atlantique Promotion",
    "Rhône Immobilier Neuf",
    "Méditerranée Construction",
)

#: Euros per unit, (low, high) by zone; sales apply a discount by buyer category.
MARKET_PRICE = {
    "Abis": (290_000, 430_000),
    "A": (200_000, 310_000),
    "B1": (135_000, 215_000),
    "B2": (95_000, 150_000),
    "C": (60_000, 110_000),
}
LLI_PRICE = {
    "Abis": (250_000, 300_000),
    "A": (205_000, 280_000),
    "B1": (150_000, 215_000),
    "B2": (140_000, 180_000),
    "C": (120_000, 150_000),
}
DISCOUNT = {
    "sitting_tenant": 0.62,
    "tenant": 0.68,
    "individual": 0.78,
    "institutional": 0.60,
    "social_landlord": 0.50,
    ONV: 0.55,
    "lli": 0.85,
}

BARE_OWNERSHIP_DATE = date(2017, 7, 1)
BARE_OWNERSHIP_SHARE = 0.92  # of AFL's stock; the rest stays in full ownership
#: Usufruct end dates by batch (the loans' repayment), with each batch's share.
USUFRUCT_BATCHES = {
    date(2020, 12, 31): 0.05,
    date(2022, 12, 31): 0.06,
    date(2024, 6, 30): 0.06,
    date(2026, 6, 30): 0.05,
    date(2029, 12, 31): 0.10,
    date(2032, 12, 31): 0.14,
    date(2035, 12, 31): 0.14,
    date(2038, 12, 31): 0.14,
    date(2042, 6, 30): 0.16,
    date(2047, 6, 30): 0.10,
}

#: Batches every ledger has, even a tiny one: overdue today, extinguished early, at term.
STORY_BATCHES = (date(2026, 6, 30), date(2042, 6, 30), date(2020, 12, 31))


class Extinction(NamedTuple):
    day: date
    batch: date  # usufruct_end of the batch
    share: float  # of the batch's deeds
    reference: str


EXTINCTIONS = (
    Extinction(
        date(2019, 9, 30),
        date(2042, 6, 30),
        0.04,
        "Extinction anticipée: prêts de construction remboursés par anticipation",
    ),
    Extinction(date(2020, 12, 31), date(2020, 12, 31), 1.0, "Extinction au terme"),
    Extinction(date(2022, 12, 31), date(2022, 12, 31), 1.0, "Extinction au terme"),
    Extinction(date(2024, 6, 30), date(2024, 6, 30), 0.5, "Extinction au terme"),
    # the rest of the 2024 batch and the 2026 batch are left overdue on LEDGER_END
)


class Correction(NamedTuple):
    """A transaction recorded on `day` by `entity`, reversed `delay` days later."""

    day: date
    entity: str
    delay: int
    reason: str


#: A block sale whose deed is annulled (its seller is never absorbed, so it can be undone).
ANNULLED_SALE = Correction(
    date(2020, 3, 10), "ESH-HDF", 24, "Acte annulé: condition suspensive de financement non levée"
)
#: An acquisition recorded with the wrong zone, reversed and recorded again (same deed).
WRONG_ACQUISITION = Correction(
    date(2018, 3, 15), INLI, 20, "Zone erronée à l'enregistrement: la commune est en zone {zone}"
)
FRENCH_FIXED_HOLIDAYS = ("01-01", "05-01", "05-08", "07-14", "08-15", "11-01", "11-11", "12-25")

# --------------------------------------------------------------------------- geography

#: Real communes (INSEE code, zone of the July 2024 zoning, region) used when the
#: zoning file is absent, and as the "main cities" where most stock is.
FALLBACK_COMMUNES = """
75056 Abis 11 Paris|92012 Abis 11 Boulogne-Billancourt|92050 Abis 11 Nanterre
92026 Abis 11 Courbevoie|93066 Abis 11 Saint-Denis|93048 Abis 11 Montreuil
93005 A 11 Aulnay-sous-Bois|94028 A 11 Créteil|94081 A 11 Vitry-sur-Seine
78646 Abis 11 Versailles|95018 A 11 Argenteuil|91228 A 11 Évry-Courcouronnes
77288 A 11 Melun|77284 A 11 Meaux|91377 A 11 Massy|77333 B1 11 Nemours
77305 B1 11 Montereau-Fault-Yonne|69123 A 84 Lyon|69266 A 84 Villeurbanne
38185 B1 84 Grenoble|42218 B2 84 Saint-Étienne|63113 B1 84 Clermont-Ferrand
74010 A 84 Annecy|73065 B1 84 Chambéry|01053 B1 84 Bourg-en-Bresse
03185 B2 84 Montluçon|43157 C 84 Le Puy-en-Velay|15014 C 84 Aurillac
59350 A 32 Lille|59512 B1 32 Roubaix|59599 B1 32 Tourcoing|80021 B1 32 Amiens
59183 B1 32 Dunkerque|62041 B1 32 Arras|02691 B2 32 Saint-Quentin|59392 B2 32 Maubeuge
33063 A 75 Bordeaux|33281 A 75 Mérignac|17300 A 75 La Rochelle|86194 B1 75 Poitiers
87085 B1 75 Limoges|64445 B2 75 Pau|24322 B2 75 Périgueux|47001 B2 75 Agen
19272 C 75 Tulle|23096 C 75 Guéret|31555 A 76 Toulouse|34172 A 76 Montpellier
30189 B1 76 Nîmes|66136 B1 76 Perpignan|81004 B2 76 Albi|65440 B2 76 Tarbes
46042 C 76 Cahors|09122 C 76 Foix|13055 A 93 Marseille|06088 A 93 Nice|83137 A 93 Toulon
13001 A 93 Aix-en-Provence|84007 B1 93 Avignon|05061 B1 93 Gap|04070 C 93 Digne-les-Bains
67482 A 44 Strasbourg|57463 B1 44 Metz|54395 B1 44 Nancy|51454 B1 44 Reims
68224 B1 44 Mulhouse|08105 B2 44 Charleville-Mézières|88160 B2 44 Épinal
52121 C 44 Chaumont|55545 C 44 Verdun|44109 A 52 Nantes|49007 B1 52 Angers
72181 B1 52 Le Mans|53130 B1 52 Laval|35238 A 53 Rennes|29019 B1 53 Brest
29232 B1 53 Quimper|76540 B1 28 Rouen|76351 B1 28 Le Havre|14118 B1 28 Caen
27229 B1 28 Évreux|50502 B2 28 Saint-Lô|61001 C 28 Alençon|45234 B1 24 Orléans
37261 B1 24 Tours|28085 B1 24 Chartres|18033 B2 24 Bourges|21231 B1 27 Dijon
25056 B1 27 Besançon|71270 B2 27 Mâcon|58194 B2 27 Nevers|2A004 A 94 Ajaccio
2B033 B1 94 Bastia
"""

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


def _fallback_rows() -> list[tuple[str, str, str]]:
    text = FALLBACK_COMMUNES.replace("\n", "|")
    items = (item.split() for item in text.split("|") if item.strip())
    return [(code, zone, region) for code, zone, region, *_ in items]


def load_geography(path: str | Path | None = None) -> Geography:
    """The communes of a zoning file (zones as in its vintage; by default the one shipped).

    The built-in cities keep their weight, with the zone and region read from the file,
    so the file's vintage always wins.
    """
    fallback = _fallback_rows()
    source = Path(path) if path is not None else DEFAULT_ZONING
    if not source.is_file():
        raise FileNotFoundError(f"zoning file {source} not found")
    with source.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, delimiter=";")
        next(reader, None)
        rows = [(r[0], r[4], r[1]) for r in reader if len(r) >= 5 and r[4] in ZONES]
    known = {code: (code, zone, region) for code, zone, region in rows}
    cities = [known[code] for code, _, _ in fallback if code in known]
    return Geography(_group(rows), _group(cities))


# --------------------------------------------------------------------------- small helpers


def _money(euros: int) -> str:
    return f"{euros}.00"


def _unit_id(index: int) -> str:
    return f"U-{index:07d}"


def _rpls_id(index: int) -> str:
    """10 digits, unique: a bijection of the unit index modulo 10**10."""
    return f"{(index * 7_919_371 + 1_234_567_891) % 10**10:010d}"


def _business_days(year: int) -> list[date]:
    day, last = date(year, 1, 2), min(date(year, 12, 31), LEDGER_END)
    days = []
    while day <= last:
        if day.weekday() < 5 and day.strftime("%m-%d") not in FRENCH_FIXED_HOLIDAYS:
            days.append(day)
        day += timedelta(days=1)
    return days


def _year_part(year: int) -> float:
    """The part of `year` inside the story: the last year stops at LEDGER_END."""
    first, last = date(year, 1, 1), date(year, 12, 31)
    return ((min(last, LEDGER_END) - first).days + 1) / ((last - first).days + 1)


def _active(entity: str, day: date) -> bool:
    """From the static cast: registered on or before `day` and not absorbed yet."""
    return CAST[entity].registered <= day < ABSORBED_ON.get(entity, date.max)


def _split(total: int, weights: Sequence[float]) -> list[int]:
    """`total` split by `weights`, the rounding going to the last part."""
    parts = [int(total * w / sum(weights)) for w in weights]
    parts[-1] += total - sum(parts)
    return parts


Adder = Callable[..., None]


class Planned(NamedTuple):
    day: date
    priority: int  # registrations, then mergers, then everything else
    seq: int
    kind: str
    args: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Building:
    commune: str
    zone: str
    year_built: int
    financing: str | None
    size: int


#: Unit profiles by segment: presence of optional fields, building sizes and ages.
PRESENCE = {  # financing, rooms, surface_m2, year_built, rpls_id
    "social": (0.97, 0.92, 0.75, 0.88, 0.85),
    "other": (0.0, 0.90, 0.70, 0.95, 0.80),
    "intermediate": (0.70, 0.95, 0.85, 1.0, 0.0),
}
BUILDING_SIZE = {"social": (8, 120), "other": (10, 80), "intermediate": (10, 60)}
SOCIAL_FINANCING = Odds({"PLUS": 0.62, "PLAI": 0.18, "PLS": 0.15, "other": 0.05})
SOCIAL_DECADES = Odds(
    {1950: 0.08, 1960: 0.22, 1970: 0.25, 1980: 0.15, 1990: 0.12, 2000: 0.10, 2010: 0.08}
)
ROOMS = Odds({1: 0.08, 2: 0.20, 3: 0.35, 4: 0.27, 5: 0.08, 6: 0.02})
SURFACE = {1: (22, 35), 2: (38, 52), 3: (55, 70), 4: (68, 86), 5: (80, 102), 6: (95, 125)}
#: Acquisition programmes: mode -> (odds, size range, years after the deed it is built).
ACQUISITION_MODES = {
    "vefa": (0.60, (12, 60), (1, 3)),
    "new_build": (0.25, (8, 45), (0, 0)),
    "existing": (0.15, (1, 20), (-25, -2)),
}
WRONG_ZONE = {"Abis": "A", "A": "B1", "B1": "B2", "B2": "B1", "C": "B2"}
OPENING_CHUNK = 500
MIN_UNITS = 100


class _Story:
    """The generator's compact state, and one `_do_*` method per kind of planned event.

    Every method runs in journal order and reads only this state, so a unit is sold only
    while its seller holds it in full ownership, and an entity is named only while active.
    """

    def __init__(self, units: int, seed: int, geography: Geography, profile: Profile) -> None:
        self.rng = random.Random(seed)
        self.profile = profile
        self.cast = {**CAST, **{c.id: c for c in profile.later}}
        self.geo = geography
        self.total = units
        self.next_index = 1
        self.zone = array("B", [0])  # zone per unit index (index 0 unused)
        self.pools: dict[str, array[int]] = {}  # held in full ownership and for sale
        self.successor: dict[str, str] = {}
        self.deeds: dict[date, list[array[int]]] = {}  # dismembered units by usufruct_end
        self.acquisitions: dict[int, int] = {}
        self.counters: dict[str, int] = {}
        self.headcount: dict[str, int] = {}
        self.pending: dict[str, Any] = {}  # transactions a later reversal refers to

    # ----------------------------------------------------------------- helpers

    def _next(self, key: str) -> int:
        self.counters[key] = self.counters.get(key, 0) + 1
        return self.counters[key]

    def _deed(self, year: int) -> str:
        return f"Acte {year}/{self._next(f'deed-{year}'):05d}"

    def _round(self, expected: float) -> int:
        """Stochastic rounding, so small expectations still happen now and then."""
        whole = int(expected)
        return whole + (self.rng.random() < expected - whole)

    def _holder(self, entity: str) -> str:
        while entity in self.successor:
            entity = self.successor[entity]
        return entity

    def _price(self, units: Iterable[int], table: dict[str, tuple[int, int]], factor: float) -> str:
        total = sum(self.rng.randint(*table[ZONES[self.zone[i]]]) for i in units)
        return _money(int(total * factor / 500) * 500)

    # ----------------------------------------------------------------- units

    def _buildings(self, region: str | None, count: int, segment: str) -> Iterator[Building]:
        rng = self.rng
        while count > 0:
            size = min(count, rng.randint(*BUILDING_SIZE[segment]))
            count -= size
            if segment == "other":  # AFL built everywhere, from 2002
                home = AFL_REGIONS.draw(rng)
                commune, zone = self.geo.pick(rng, home, AFL_ZONES)
                yield Building(commune, zone, rng.randint(2003, 2016), None, size)
            elif segment == "social":
                commune, zone = self.geo.pick(rng, region or "11", HLM_ZONES)
                decade = SOCIAL_DECADES.draw(rng)
                financing = SOCIAL_FINANCING.draw(rng)
                year = min(decade + rng.randint(0, 9), 2016)
                yield Building(commune, zone, year, financing, size)
            else:
                commune, zone = self.geo.pick(rng, region or "11", LLI_ZONES)
                yield Building(commune, zone, rng.randint(1995, 2016), "PLI", size)

    def _unit(self, building: Building, segment: str) -> dict[str, Any]:
        rng, index = self.rng, self.next_index
        self.next_index += 1
        self.zone.append(ZONES.index(building.zone))
        odds = PRESENCE[segment]
        unit: dict[str, Any] = {
            "unit_id": _unit_id(index),
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
            unit["rpls_id"] = _rpls_id(index)
        return unit

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
        self.acquisitions = dict(zip(ACQUISITION_YEARS, yearly, strict=True))
        for cast, count in zip(ESH, _split(n_hlm, [c.share for c in ESH]), strict=True):
            yield from self._open(cast, count, "social")
        yield from self._open(self.cast[AFL], n_afl, "other")
        for cast, count in zip(LLI_2017, _split(n_lli, [c.share for c in LLI_2017]), strict=True):
            yield from self._open(cast, count, "intermediate")

    def _open(self, cast: Cast, count: int, segment: str) -> Iterator[dict[str, Any]]:
        first, chunk = self.next_index, []
        for building in self._buildings(cast.region, count, segment):
            for _ in range(building.size):
                chunk.append(self._unit(building, segment))
                if len(chunk) == OPENING_CHUNK:
                    yield self._register_units(cast.id, chunk)
                    chunk = []
        if chunk:
            yield self._register_units(cast.id, chunk)
        self.pools[cast.id] = array("i", range(first, self.next_index))

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

    # ----------------------------------------------------------------- a year's plan

    def plan(self, year: int) -> list[Planned]:
        """The year's events as small tuples, in date order; units are chosen when run."""
        plan: list[Planned] = []

        def add(day: date, priority: int, kind: str, *args: Any) -> None:
            plan.append(Planned(day, priority, len(plan), kind, args))

        days = _business_days(year)
        for cast in self.profile.later:
            if cast.registered.year == year:
                add(cast.registered, 0, "entity", cast)
        for merger in self.profile.mergers:
            if merger.day.year == year:
                add(merger.day, 1, "merger", merger)
        for business in BUSINESSES:
            if business.divested.year == year:
                add(business.divested, 2, "divestment", business)
        if BARE_OWNERSHIP_DATE.year == year:
            add(BARE_OWNERSHIP_DATE, 2, "bare_ownership")
        for extinction in EXTINCTIONS:
            if extinction.day.year == year:
                add(extinction.day, 2, "extinction", extinction)
        if ANNULLED_SALE.day.year == year:
            day, seller, delay, reason = ANNULLED_SALE
            add(day, 2, "annulled_sale", seller)
            add(day + timedelta(days=delay), 2, "reversal", "annulled_sale", reason)
        self._plan_acquisitions(year, days, add)
        self._plan_lots(year, days, add)
        self._plan_blocks(year, days, add)
        return sorted(plan, key=lambda p: (p.day, p.priority, p.seq))

    def _plan_acquisitions(self, year: int, days: list[date], add: Adder) -> None:
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
            buyers = [c for c in CAST.values() if c.kind == "lli" and _active(c.id, day)]
            regions = sorted({c.region for c in buyers if c.region in LLI_REGIONS})
            region = rng.choices(regions, [LLI_REGIONS[r] for r in regions])[0]
            entity = rng.choice([c.id for c in buyers if c.region == region])
            add(day, 2, "acquisition", entity, size, mode)

    def _plan_lots(self, year: int, days: list[date], add: Adder) -> None:
        rng = self.rng
        part = _year_part(year)
        for entity, pool in self.pools.items():
            family = ONV if entity == ONV else self.cast[entity].kind
            if year < LOT_SALES_FROM.get(family, 9999) or not pool:
                continue
            rate = HLM_LOT_RATE[year] if family == "hlm" else self.profile.lot_rates[family]
            buyers = LOT_BUYERS[family]
            for _ in range(self._round(rate * len(pool) * part)):
                category = buyers.draw(rng)
                add(rng.choice(days), 2, "lot", entity, category)

    def _plan_blocks(self, year: int, days: list[date], add: Adder) -> None:
        rng = self.rng
        sellers = [
            (e, len(p))
            for e, p in self.pools.items()
            if self.cast[e].kind == "hlm" and e != ONV and len(p) >= 2
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
                rate = self.profile.onv_block_rate * _year_part(year)
            count = self._round(rate * stock / mean)
            if (category, year) in FORCED_BLOCKS:
                count = max(count, 1)
            opens = self.cast[ONV].registered if category == ONV else START
            window = [d for d in days if d > opens]
            for _ in range(count):
                seller, held = rng.choices(sellers, [n for _, n in sellers])[0]
                size = max(2, min(rng.randint(*BLOCK_SIZE), held // 5))
                add(rng.choice(window), 2, "block", seller, category, size)

    def run(self, plan: list[Planned]) -> Iterator[dict[str, Any]]:
        for event in plan:
            yield from getattr(self, f"_do_{event.kind}")(event.day, *event.args)

    # ----------------------------------------------------------------- events

    def _do_entity(self, day: date, cast: Cast) -> Iterator[dict[str, Any]]:
        if cast.kind in ("hlm", "lli", "fonciere"):
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
        yield tx

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

    def _do_divestment(self, day: date, business: Business) -> Iterator[dict[str, Any]]:
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
        commune, zone = self.geo.pick(rng, self.cast[entity].region or "11", LLI_ZONES)
        year = min(day.year + rng.randint(*built), day.year + 5)
        first = self.next_index
        units = [
            self._unit(Building(commune, zone, year, "PLI", size), "intermediate")
            for _ in range(size)
        ]
        indices = list(range(first, self.next_index))
        factor = 0.9 if mode == "existing" else 1.0
        tx = {
            "id": f"ACQ-{day.year}-{self._next(f'acq-{day.year}'):04d}",
            "type": "acquisition",
            "date": day.isoformat(),
            "entity": entity,
            "mode": mode,
            "seller": rng.choice(DEVELOPERS),
            "price_eur": self._price(indices, LLI_PRICE, factor),
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
            "units": [_unit_id(i) for i in sorted(units)],
            "buyer": buyer,
            "price_eur": self._price(units, MARKET_PRICE, factor),
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
                "units": [_unit_id(i) for i in deed],
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
                "units": [_unit_id(i) for i in deed],
                "reference": extinction.reference,
            }


# --------------------------------------------------------------------------- profiles


class Profile(NamedTuple):
    """What a profile changes in the story: who is registered later, who merges, how much sells.

    `onv_block_rate` is the ESH stock sold to ONV a year (0: ONV blocks as in BLOCKS). A
    profile adds no LLI company: the LLI buyers are drawn from the static cast (`_active`).
    """

    later: tuple[Cast, ...]
    mergers: tuple[Merger, ...]
    lot_rates: dict[str, float]
    onv_block_rate: float


PROFILES = ("default", "scale")


def load_profile(name: str) -> Profile:
    """The default story, or the "scale" one: the ELAN mergers and more ONV sales on top."""
    if name == "default":
        return Profile(LATER, MERGERS, LOT_RATE_BY_KIND, 0.0)
    if name != "scale":
        raise ValueError(f"unknown profile {name!r}: choose one of {', '.join(PROFILES)}")
    from ledger.demo import scale  # the scale story's tables, stdlib only

    later = tuple(Cast(i, n, k, r, day) for i, n, k, r, day in scale.ENTITIES)
    mergers = tuple(Merger(*m) for m in scale.MERGERS)
    merged = tuple(sorted((*MERGERS, *mergers), key=lambda m: m.day))
    return Profile((*LATER, *later), merged, scale.LOT_RATES, scale.ONV_BLOCK_RATE)


# --------------------------------------------------------------------------- public API


def generate(
    units: int = 3000,
    seed: int = 2017,
    zoning_path: str | Path | None = None,
    profile: str = "default",
) -> Iterator[dict[str, Any]]:
    """Yield the demo ledger's transactions, in journal order, as JSONL-ready dicts.

    `units` is the number of units that ever enter the ledger (opening stock plus LLI
    acquisitions). Same arguments and zoning file, same transactions. Every size from
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
        yield from story.run(story.plan(year))


def write_jsonl(
    path_or_file: str | Path | IO[str],
    units: int = 3000,
    seed: int = 2017,
    zoning_path: str | Path | None = None,
    profile: str = "default",
) -> int:
    """Write one compact JSON object per line; return the number of transactions."""
    if isinstance(path_or_file, (str, Path)):
        with Path(path_or_file).open("w", encoding="utf-8", newline="\n") as handle:
            return write_jsonl(handle, units, seed, zoning_path, profile)
    count = 0
    for tx in generate(units, seed, zoning_path, profile):
        path_or_file.write(json.dumps(tx, ensure_ascii=False, separators=(", ", ": ")) + "\n")
        count += 1
    return count


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m ledger.demo.story [FILE|-] [--units N] [--seed S] [--profile P]`: write a demo."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("output", nargs="?", default="-")
    parser.add_argument("--units", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=2017)
    parser.add_argument(
        "--zoning",
        default=None,
        help="zonage-abc CSV (default: the July 2024 zoning shipped in ledger/reference)",
    )
    parser.add_argument(
        "--profile",
        choices=PROFILES,
        default="default",
        help="scale: ELAN mergers and more ONV sales, 3-4 events per unit",
    )
    args = parser.parse_args(argv)
    target = sys.stdout if args.output == "-" else args.output
    count = write_jsonl(target, args.units, args.seed, args.zoning, args.profile)
    print(f"{count} transactions", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
