"""The pure fold: stored events in, projection rows out. No database here.

Events arrive as decoded JSON states (`StoredRow`), in journal order. The events of one
ledger transaction are contiguous and end with its `RecordedTransaction.Recorded` event,
whose position is the transaction's journal position; `fold_transaction` takes them
together.

Rows are bitemporal (ledger/storage/schema.py): a change is a new row, never an edit. A
row once written only ever gets marks that a later transaction sets, each once:
`known_to` of the version it supersedes (`hl_periods`, `hl_units`, `hl_entities`,
`hl_businesses`), and, when it reverses a transaction, `reversed_at` and `reversed_by`
of that transaction's `hl_transactions` row and `voided_at` of its `hl_movements` rows.
The fold sets these marks on the rows of its own batch and lists them for the writer to
set on stored rows (`WorkingSet.superseded`, `WorkingSet.reversed_transactions`).

The events of each aggregate are folded by projections/fold/units.py (units) and
projections/fold/versions.py (entities, businesses); this module writes the journal's own
rows (`hl_transactions`, `hl_names`, the reversal marks) and routes every other event to
its handler (`HANDLERS`). Unknown topics raise: skipped, they would make a wrong
statement. Must not: import the database or anything of the project outside this package.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import orjson

from projections.fold import units, versions, zoning
from projections.fold.decoding import named_entities, plain
from projections.fold.rows import (
    PREFIX,
    RECORDED,
    STOCK_RIGHTS,
    Context,
    Row,
    StoredRow,
    WorkingSet,
)

#: What the engine and the tests read here (rows.py defines them).
__all__ = [
    "HANDLERS",
    "PREFIX",
    "RECORDED",
    "STOCK_RIGHTS",
    "Row",
    "StoredRow",
    "WorkingSet",
    "fold_transaction",
]


def transaction_reversed(ctx: Context, key: str, s: dict[str, Any]) -> None:
    """The reversed transaction's movements stop counting from this position on."""
    target = s["transaction_id"]
    for row in ctx.ws.batch_movements.get(target, []):
        row["voided_at"] = ctx.position
    in_batch = ctx.ws.batch_transactions.get(target)
    if in_batch is not None:
        in_batch["reversed_at"], in_batch["reversed_by"] = ctx.position, s["reversal"]
    ctx.ws.reversed_transactions.append((target, ctx.position, s["reversal"]))


Handler = Callable[[Context, str, dict[str, Any]], None]
HANDLERS: dict[str, Handler] = {
    PREFIX + "Unit.Entered": units.unit_entered,
    PREFIX + "Unit.Reentered": units.unit_entered,
    PREFIX + "Unit.Sold": units.unit_sold,
    PREFIX + "Unit.BareOwnershipTransferred": units.unit_dismembered,
    PREFIX + "Unit.UsufructExtinguished": units.unit_reunited,
    PREFIX + "Unit.RightsMerged": units.unit_merged,
    PREFIX + "Unit.UsufructExtended": units.unit_extended,
    PREFIX + "Unit.Reversed": units.unit_reversed,
    PREFIX + "Entity.Registered": versions.entity_registered,
    PREFIX + "Entity.Reregistered": versions.entity_registered,
    PREFIX + "Entity.Absorbed": versions.entity_absorbed,
    PREFIX + "Entity.Absorbing": lambda ctx, key, s: None,
    PREFIX + "Entity.MergerReversed": lambda ctx, key, s: None,
    PREFIX + "Entity.Reversed": versions.entity_reversed,
    PREFIX + "Entity.JoinedGroup": versions.entity_joined,
    PREFIX + "Entity.LeftGroup": versions.entity_left,
    PREFIX + "Entity.SharesTransferred": versions.entity_shares_transferred,
    PREFIX + "Business.Registered": versions.business_registered,
    PREFIX + "Business.Reregistered": versions.business_registered,
    PREFIX + "Business.Divested": versions.business_divested,
    PREFIX + "Business.Moved": versions.business_moved,
    PREFIX + "Business.Reversed": versions.business_reversed,
    PREFIX + "RecordedTransaction.Reversed": transaction_reversed,
    # The register of zoning vintages: what the rules read; the rows come from the
    # vintage's journal entry (projections/fold/zoning.py), its reversal from the mark.
    PREFIX + "ZoningRegister.Opened": lambda ctx, key, s: None,
    PREFIX + "ZoningRegister.VintageRecorded": lambda ctx, key, s: None,
    PREFIX + "ZoningRegister.VintageReversed": lambda ctx, key, s: None,
}


def fold_transaction(ws: WorkingSet, events: Sequence[StoredRow]) -> int:
    """Fold the events of one ledger transaction (the last is its Recorded event) and
    return the transaction's position."""
    recorded = events[-1]
    if recorded.topic != RECORDED:
        raise ValueError(
            f"position {recorded.position}: a transaction must end with its "
            f"Recorded event, found {recorded.topic}"
        )
    s = recorded.state
    ctx = Context(ws, recorded.position, s["transaction_id"], s["type"], plain(s["on"]))
    if ws.keeps("hl_transactions"):
        row = {
            "position": recorded.position,
            "id": s["transaction_id"],
            "type": s["type"],
            "date": ctx.date,
            "recorded_at": plain(s["timestamp"]),
            "content": s["content"],
            "reversed_at": None,
            "reversed_by": None,
        }
        ws.insert("hl_transactions", row)
        ws.batch_transactions[ctx.txn] = row
    content = orjson.loads(s["content"]) if ws.keeps("hl_names") or ws.keeps("hl_zonings") else {}
    if ws.keeps("hl_names"):
        for entity in named_entities(content):
            ws.insert("hl_names", {"entity": entity, "position": ctx.position, "txn": ctx.txn})
    if ctx.txn_type == "zoning_vintage" and ws.keeps("hl_zonings"):
        zoning.vintage_recorded(ctx, content)
    for event in events[:-1]:
        handler = HANDLERS.get(event.topic)
        if handler is None:
            raise ValueError(f"position {event.position}: unknown event topic {event.topic!r}")
        handler(ctx, event.key, event.state)
    return recorded.position
