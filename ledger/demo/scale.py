"""The story tables of the demo generator's "scale" profile (see `ledger.demo.profiles`).

Why: benchmarks need a ledger with 3 to 4 events per unit over ten years, as a real
group's ledger has, where the default demo has about 1.5. The churn added here is the
group's reorganisation, told with the same transaction types and rules as the rest:

- Loi ELAN (2018) obliged HLM bodies with fewer than 12,000 units to join a group by
  2021, and Action Logement regrouped its ESH by region. On 2021-01-01 five regional
  companies, registered in the autumn of 2020, absorb the eight remaining 2017 ESH
  (ESH-ALPES and ESH-IDF-EST were absorbed in 2019 and 2020, as in the default story);
  on 2024-01-01 two inter-regional companies, registered in the autumn of 2023, absorb
  the five; on 2026-07-01 a national company, registered in March, absorbs the two.
  Each merger moves every unit its absorbed companies still hold, one event per unit,
  so a social unit still held in 2026 has changed holder three times: the ESH stock is
  two thirds of the units, so each wave adds about 0.6 events per unit.
- The national sales operator (ONV) buys more: blocks of about 1.5% a year of the ESH
  stock from 2019, which it resells lot by lot, a quarter of its stock a year.
- In'li resells intermediate units to their tenants faster than in the default story.
- The rest (opening stock, acquisitions, HLM lot sales, AFL's usufructs, corrections)
  follows the default story's tables: the same cast and programme, more history.

What it must not do: import anything, of the project or outside the standard library.
Plain tuples only: `ledger.demo.profiles` builds its `Cast` and `Merger` rows from them.
"""

from __future__ import annotations

from datetime import date

#: (id, name, kind, region, registration date): each registered before it absorbs; ALI
#: holds their shares (`ledger.demo.profiles`).
ENTITIES = (
    ("ALH-IDF", "Action Logement Habitat Île-de-France", "esh", "11", date(2020, 10, 1)),
    (
        "ALH-NORD",
        "Action Logement Habitat Hauts-de-France Normandie",
        "esh",
        "32",
        date(2020, 10, 1),
    ),
    ("ALH-EST", "Action Logement Habitat Grand Est", "esh", "44", date(2020, 10, 1)),
    ("ALH-SO", "Action Logement Habitat Sud-Ouest", "esh", "75", date(2020, 10, 1)),
    ("ALH-SE", "Action Logement Habitat Sud-Est", "esh", "84", date(2020, 10, 1)),
    ("ALH-NORD-EST", "Action Logement Habitat Nord et Est", "esh", "11", date(2023, 10, 2)),
    ("ALH-SUD", "Action Logement Habitat Sud", "esh", "84", date(2023, 10, 2)),
    ("ALH", "Action Logement Habitat", "esh", "11", date(2026, 3, 2)),
)

#: (date, absorbed, into, reference): the three waves.
MERGERS = (
    (date(2021, 1, 1), ("ESH-IDF",), "ALH-IDF", "Traité de fusion du 20/11/2020 (loi ELAN)"),
    (
        date(2021, 1, 1),
        ("ESH-HDF", "ESH-NOR"),
        "ALH-NORD",
        "Traité de fusion du 20/11/2020 (loi ELAN)",
    ),
    (date(2021, 1, 1), ("ESH-GE",), "ALH-EST", "Traité de fusion du 20/11/2020 (loi ELAN)"),
    (
        date(2021, 1, 1),
        ("ESH-NAQ", "ESH-OCC"),
        "ALH-SO",
        "Traité de fusion du 20/11/2020 (loi ELAN)",
    ),
    (
        date(2021, 1, 1),
        ("ESH-ARA", "ESH-PACA"),
        "ALH-SE",
        "Traité de fusion du 20/11/2020 (loi ELAN)",
    ),
    (
        date(2024, 1, 1),
        ("ALH-IDF", "ALH-NORD", "ALH-EST"),
        "ALH-NORD-EST",
        "Traité de fusion du 17/11/2023 (regroupement interrégional)",
    ),
    (
        date(2024, 1, 1),
        ("ALH-SO", "ALH-SE"),
        "ALH-SUD",
        "Traité de fusion du 17/11/2023 (regroupement interrégional)",
    ),
    (
        date(2026, 7, 1),
        ("ALH-NORD-EST", "ALH-SUD"),
        "ALH",
        "Traité de fusion du 12/05/2026 (société nationale)",
    ),
)

#: Blocks sold by the ESH to ONV each year, as a share of their full-ownership stock.
ONV_BLOCK_RATE = 0.015
#: Lot-by-lot sales, as a share of the seller's stock on 1 January (default: cast.py).
LOT_RATES = {"fonciere": 0.02, "lli": 0.015, "ONV": 0.25}
