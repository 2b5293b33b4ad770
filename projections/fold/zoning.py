"""The fold of a zoning vintage: its `hl_zonings` row and the class of every commune.

A `zoning_vintage` transaction's journal entry holds the vintage as filed (its effective
date is the transaction's date, its classes the `zones` object); the fold writes one
`hl_zonings` row at the transaction's position and one `hl_zone_classes` row per commune,
plus one per arrondissement of Paris, Lyon and Marseille with its city's class, so that
a unit's commune code finds its class by equality in SQL. A reversal needs no row here:
the vintage's `hl_transactions` row is marked. Must not: import the database or
anything of the project outside this package.
"""

from __future__ import annotations

from typing import Any

from projections.fold.rows import Context

#: (first, last) arrondissement code and the commune they belong to; the same table as
#: ledger/booking/zoning.py's (tests/unit/test_zoning_vintages.py checks they agree).
ARRONDISSEMENTS = (
    (75101, 75120, "75056"),  # Paris
    (69381, 69389, "69123"),  # Lyon
    (13201, 13216, "13055"),  # Marseille
)


def classes(zones: dict[str, str]) -> dict[str, str]:
    """Every commune's class, an arrondissement always its city's, as the booking reads it
    (an arrondissement the file lists itself is read as its city, and without its city
    it has no class)."""
    found = dict(zones)
    for first, last, city in ARRONDISSEMENTS:
        zone = zones.get(city)
        for number in range(first, last + 1):
            if zone is None:
                found.pop(str(number), None)
            else:
                found[str(number)] = zone
    return found


def vintage_recorded(ctx: Context, content: dict[str, Any]) -> None:
    ws = ctx.ws
    zones: dict[str, str] = content["zones"]
    ws.insert(
        "hl_zonings",
        {
            "position": ctx.position,
            "id": ctx.txn,
            "effective": ctx.date,
            "sha256": content["sha256"],
            "source": content["source"],
            "file": content.get("file"),
            "communes": len(zones),
        },
    )
    if ws.keeps("hl_zone_classes"):
        for commune, zone in classes(zones).items():
            ws.insert(
                "hl_zone_classes", {"position": ctx.position, "commune": commune, "zone": zone}
            )
