"""The demo story: a seeded transaction file of the 2017 Action Logement programme.

A client of the input format (docs/transactions.md), not part of the ledger: it imports
nothing of the project outside this package and only the standard library, so whatever
it writes, the importer checks like any other file.

- `story`: the generator, year by year (`generate`, `write_jsonl`, `main`);
- `cast`: the entities, the scripted events, the weights and prices, the main cities;
- `geography`: the communes existing on a date and their zone in the vintage in force
  (`load_geography`, the shipped `VINTAGES` and `MOVEMENTS`);
- `units`: a unit's fields when it enters the ledger, and its value;
- `plan`: a year's events, planned on 1 January;
- `profiles` and `scale`: the default story, or the "scale" one with a real group's churn.

`python -m ledger.demo --units 3000 OUT` writes a story (`-` or nothing: stdout).
"""

from ledger.demo.cast import LEDGER_END, MAIN_CITIES, START
from ledger.demo.geography import (
    DEFAULT_ZONING,
    MOVEMENTS,
    VINTAGES,
    Geography,
    load_geography,
)
from ledger.demo.profiles import PROFILES, load_profile
from ledger.demo.story import MIN_UNITS, generate, main, write_jsonl

__all__ = [
    "DEFAULT_ZONING",
    "MAIN_CITIES",
    "MOVEMENTS",
    "LEDGER_END",
    "MIN_UNITS",
    "PROFILES",
    "START",
    "VINTAGES",
    "Geography",
    "generate",
    "load_geography",
    "load_profile",
    "main",
    "write_jsonl",
]
