"""The cast of the demo story and its tables: who is in it, when things happen, how much.

Why: the story's facts (the entities, their mergers, the businesses divested, the rates
of sale, the prices, the usufruct batches, the built-in cities) are data the generator
in `ledger.demo.story` reads; kept apart, they can be read and changed without reading
the generator, and the "scale" profile (`ledger.demo.scale`) adds to them.

What it must not do: draw random numbers or hold state (it is read only, so the same
seed always tells the same story), or import anything but the standard library.
"""

from __future__ import annotations

import random
from bisect import bisect
from dataclasses import dataclass
from datetime import date
from itertools import accumulate
from typing import Generic, NamedTuple, TypeVar

# --------------------------------------------------------------------------- the cast

#: The story's first day: the group and its opening stock are registered on it.
START = date(2017, 1, 1)
#: The story's "today": nothing is dated later, so overdue usufructs show as overdue.
LEDGER_END = date(2026, 11, 27)
#: The A/B/C zones, from the tensest market; a unit's zone is stored as its index here.
ZONES = ("Abis", "A", "B1", "B2", "C")
K = TypeVar("K")


@dataclass(frozen=True, slots=True)
class Cast:
    """An entity of the story; `share` is its part of its family's opening stock, `parent`
    the group entity holding its shares (ALI for the real-estate subsidiaries)."""

    id: str
    name: str
    kind: str
    region: str | None
    registered: date = START
    share: float = 0.0
    parent: str | None = None


class Odds(Generic[K]):
    """Weighted choices, each drawn with one random number: the story draws one per unit or sale."""

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
ALI = "ALI"
#: The kinds of the HLM bodies in the story (the ESH; `hlm` is an HLM body of unstated
#: form): they sell under the HLM rules and to the 1% target.
HLM_KINDS = ("hlm", "esh")


def family(kind: str) -> str:
    """The family the story's rates are given by: `hlm` for every HLM body."""
    return "hlm" if kind in HLM_KINDS else kind


HEAD = (
    Cast(GROUP, "Action Logement Groupe", "group", None),
    Cast(ALI, "Action Logement Immobilier", "other", "11"),
    Cast(AFL, "Foncière Logement", "fonciere", "11"),
    Cast(PENSION_FUND, "Fédération AGIRC-ARRCO", "pension_fund", None),
)
ESH = (
    Cast("ESH-IDF", "ESH Île-de-France", "esh", "11", share=0.24, parent=ALI),
    Cast("ESH-IDF-EST", "ESH Est francilien", "esh", "11", share=0.06, parent=ALI),
    Cast("ESH-HDF", "ESH Hauts-de-France", "esh", "32", share=0.13, parent=ALI),
    Cast("ESH-ARA", "ESH Auvergne-Rhône-Alpes", "esh", "84", share=0.13, parent=ALI),
    Cast("ESH-ALPES", "ESH des Alpes", "esh", "84", share=0.04, parent=ALI),
    Cast("ESH-GE", "ESH Grand Est", "esh", "44", share=0.10, parent=ALI),
    Cast("ESH-NAQ", "ESH Nouvelle-Aquitaine", "esh", "75", share=0.08, parent=ALI),
    Cast("ESH-OCC", "ESH Occitanie", "esh", "76", share=0.08, parent=ALI),
    Cast("ESH-PACA", "ESH Provence-Alpes-Côte d'Azur", "esh", "93", share=0.08, parent=ALI),
    Cast("ESH-NOR", "ESH Normandie", "esh", "28", share=0.06, parent=ALI),
)
LLI_2017 = (
    Cast("LLI-IDF-NORD", "LLI Île-de-France Nord", "lli", "11", share=0.28, parent=ALI),
    Cast("LLI-IDF-OUEST", "LLI Île-de-France Ouest", "lli", "11", share=0.24, parent=ALI),
    Cast("LLI-IDF-SUD", "LLI Île-de-France Sud", "lli", "11", share=0.18, parent=ALI),
    Cast("LLI-LYON", "LLI Lyon Métropole", "lli", "84", share=0.12, parent=ALI),
    Cast("LLI-ALPES", "LLI Alpes", "lli", "84", share=0.06, parent=ALI),
    Cast("LLI-BORDEAUX", "LLI Bordeaux Atlantique", "lli", "75", share=0.12, parent=ALI),
)
#: Registered during the story, each before its first use.
LATER = (
    Cast(INLI, "In'li", "lli", "11", date(2017, 10, 2), parent=ALI),
    Cast("INLI-ARA", "In'li Auvergne-Rhône-Alpes", "lli", "84", date(2017, 10, 2), parent=ALI),
    Cast("INLI-SO", "In'li Sud-Ouest", "lli", "75", date(2018, 10, 1), parent=ALI),
    Cast("INLI-PACA", "In'li PACA", "lli", "93", date(2019, 1, 2), parent=ALI),
    Cast(ONV, "Opérateur national de vente", "sales_company", None, date(2019, 3, 1), parent=ALI),
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
)
ABSORBED_ON = {a: m.day for m in MERGERS for a in m.absorbed}


class ShareTransfer(NamedTuple):
    """A group entity's shares pass to another (`share_transfer`): no unit moves."""

    day: date
    entity: str
    parent: str
    reference: str


#: The In'li case (DOMAIN.md §7): in September 2024 ALI decided to transfer the regional
#: companies' shares to In'li, effective at the end of 2024; no unit moved, no company
#: disappeared.
SHARE_TRANSFERS = tuple(
    ShareTransfer(
        date(2024, 12, 31), entity, INLI, "Décision ALI de septembre 2024, cession des titres"
    )
    for entity in ("INLI-ARA", "INLI-SO", "INLI-PACA")
)


class DivestedBusiness(NamedTuple):
    """A competitive-sector business: registered at the opening, sold without redundancy."""

    id: str
    owner: str
    name: str
    sector: str
    headcount: tuple[int, int]
    divested: date
    buyer: str
    price: tuple[int, int]


BUSINESSES = (
    DivestedBusiness(
        "ADB-1",
        GROUP,
        "Administration de biens (filiale)",
        "property_management",
        (320, 480),
        date(2017, 12, 14),
        "Groupe Gestion Immobilière Associée",
        (30_000_000, 42_000_000),
    ),
    DivestedBusiness(
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


class ScriptedBlock(NamedTuple):
    day: date
    seller: str
    category: str
    size: int


#: Blocks the story always tells, beside the drawn ones: in 2022 ESH Île-de-France sells a
#: block to the group's own sales company, which resells it lot by lot (a sale inside the
#: group, which the group's line of `report sales` leaves out).
SCRIPTED_BLOCKS = (ScriptedBlock(date(2022, 6, 15), "ESH-IDF", ONV, 10),)
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

# --------------------------------------------------------------------------- the main cities

#: Real communes (INSEE code, zone of the July 2024 zoning, region): the "main cities"
#: where most of the stock is. Only their codes count: the geography reads a city's zone
#: from the vintage in force on each date (Nantes is B1 in 2022, A from 2024-07-05) and
#: its region from the zoning files, and a city is left out on dates its commune does not
#: exist (Évry-Courcouronnes, 91228, a commune nouvelle of 2019-01-01: not before then).
MAIN_CITIES = """
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

# --------------------------------------------------------------------------- the units

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
