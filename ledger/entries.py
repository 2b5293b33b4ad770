"""The fields of the event by which a unit enters the ledger, from its line of the file.

An import makes each new unit's `Entered` event directly in stored form
(`ledger.created`); if a later line of the same file touches the unit (a sale, a
merger), the aggregate is rebuilt from the same values (`rebuilt_unit`), without
decoding the stored JSON. Nothing here checks a rule (that is `booking`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from ledger.created import rebuilt
from ledger.domain import Unit
from ledger.transactions import Transaction, UnitSpec


def unit_entry(spec: UnitSpec, tx: Transaction, mode: str) -> dict[str, Any]:
    """The fields of a unit's `Entered` (or `Reentered`) event."""
    return dict(
        unit_id=spec.unit_id,
        holder=tx["entity"],
        mode=mode,
        commune=spec.commune,
        zone=str(spec.zone),
        segment=str(spec.segment),
        financing=str(spec.financing) if spec.financing else None,
        rooms=spec.rooms,
        surface_m2=spec.surface_m2,
        year_built=spec.year_built,
        rpls_id=spec.rpls_id,
        transaction=tx.id,
        on=tx.date,
    )


def rebuilt_unit(
    key: UUID, timestamp: datetime, spec: UnitSpec, tx: Transaction, mode: str
) -> Unit:
    """The unit as the library rebuilds it from its stored `Entered` event."""
    unit: Unit = rebuilt(Unit, Unit.Entered, key, timestamp, **unit_entry(spec, tx, mode))
    return unit
