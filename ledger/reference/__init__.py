"""Reference data shipped with the ledger (see README.md here: sources and licences).

`SHIPPED` lists the zoning vintages this package ships (`vintages.csv`: file, effective
date, source), which `housing-ledger reference zoning --shipped` and the demo record.
Must not: compute anything from the data: the files are kept as published.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from pathlib import Path

#: The folder of the reference files.
FOLDER = Path(__file__).resolve().parent


@dataclass(frozen=True, slots=True)
class ShippedVintage:
    """A zoning file shipped here, the day it took effect, and its source."""

    path: Path
    effective: date
    source: str


def _shipped() -> tuple[ShippedVintage, ...]:
    with (FOLDER / "vintages.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter=";"))
    return tuple(
        ShippedVintage(FOLDER / r["file"], date.fromisoformat(r["effective"]), r["source"])
        for r in rows
    )


#: The shipped zoning vintages, by effective date.
SHIPPED = _shipped()
