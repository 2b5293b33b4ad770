"""The pure fold: stored events in, projection rows out. No database here.

Events arrive as decoded JSON states (`StoredRow`), in journal order. The events of one
ledger transaction are contiguous and end with its `RecordedTransaction.Recorded` event,
whose position is the transaction's journal position; `fold_transaction` takes them
together. Rows are bitemporal (see schema.py): nothing is ever updated but `known_to`.

`WorkingSet` holds the current rows of what a batch touches (loaded by the catch-up) and
collects what to write. Unknown topics raise: skipped, they would make a wrong statement.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from projections.fold.decoding import named_entities, plain

Row = dict[str, Any]
STOCK_RIGHTS = ("full_ownership", "usufruct")
PREFIX = "ledger.domain:"


@dataclass(frozen=True, slots=True)
class StoredRow:
    """One event as read from the journal: position, aggregate key (hex), topic, state."""

    position: int
    key: str
    topic: str
    state: dict[str, Any]


@dataclass
class WorkingSet:
    periods: dict[str, list[Row]] = field(default_factory=dict)
    units: dict[str, Row] = field(default_factory=dict)
    entities: dict[str, list[Row]] = field(default_factory=dict)
    businesses: dict[str, list[Row]] = field(default_factory=dict)
    new: dict[str, list[Row]] = field(default_factory=dict)
    superseded: dict[str, dict[int, int]] = field(default_factory=dict)
    #: The stored period rows this batch superseded (whole rows: the tally takes them off).
    ended_periods: list[Row] = field(default_factory=list)
    batch_transactions: dict[str, Row] = field(default_factory=dict)
    batch_movements: dict[str, list[Row]] = field(default_factory=dict)
    reversed_transactions: list[tuple[str, int, str]] = field(default_factory=list)
    #: The tables whose new rows it keeps (None: all): a replay's pass keeps some.
    keep: frozenset[str] | None = None

    def keeps(self, table: str) -> bool:
        return self.keep is None or table in self.keep

    def insert(self, table: str, row: Row) -> Row:
        row.setdefault("known_to", None)
        if self.keep is None or table in self.keep:
            self.new.setdefault(table, []).append(row)
        return row

    def supersede(self, table: str, row: Row, at: int) -> None:
        row["known_to"] = at
        if row.get("row_id") is not None:
            self.superseded.setdefault(table, {})[row["row_id"]] = at
            if table == "hl_periods":
                self.ended_periods.append(row)


@dataclass
class _Context:
    ws: WorkingSet
    position: int
    txn: str
    txn_type: str
    date: str


# --- units ----------------------------------------------------------------------------


def _dims(ctx: _Context, key: str) -> Row:
    unit = ctx.ws.units[key]
    return {
        "zone": unit["zone"],
        "segment": unit["segment"],
        "financing": unit["financing"] or "other",
        "commune": unit["commune"],
    }


def _open_rows(ctx: _Context, key: str) -> list[Row]:
    return [r for r in ctx.ws.periods.get(key, []) if r["to_date"] is None]


def _holders(rows: Sequence[Row]) -> set[tuple[str, str]]:
    return {(r["holder"], r["held_as"]) for r in rows}


def _set_holding(
    ctx: _Context, key: str, after: set[tuple[str, str]], usufruct_end: str | None
) -> set[tuple[str, str]]:
    """Close the open periods not in `after`, open those not yet open. Returns `before`."""
    open_rows = _open_rows(ctx, key)
    before = _holders(open_rows)
    current = ctx.ws.periods.setdefault(key, [])
    for row in open_rows:
        if (row["holder"], row["held_as"]) not in after:
            ctx.ws.supersede("hl_periods", row, ctx.position)
            current.remove(row)
            closed = {
                **row,
                "row_id": None,
                "to_date": ctx.date,
                "closed_by": ctx.txn,
                "known_from": ctx.position,
                "known_to": None,
            }
            current.append(ctx.ws.insert("hl_periods", closed))
    if after - before:
        dims = _dims(ctx, key)
        for holder, right in sorted(after - before):
            row = {
                "unit_key": key,
                "holder": holder,
                "held_as": right,
                "from_date": ctx.date,
                "to_date": None,
                "usufruct_end": usufruct_end if right != "full_ownership" else None,
                "opened_by": ctx.txn,
                "closed_by": None,
                "known_from": ctx.position,
                **dims,
            }
            current.append(ctx.ws.insert("hl_periods", row))
    return before


def _stock(pairs: set[tuple[str, str]]) -> set[str]:
    return {holder for holder, right in pairs if right in STOCK_RIGHTS}


def _move(ctx: _Context, key: str, entity: str, kind: str) -> None:
    row = {
        "position": ctx.position,
        "txn": ctx.txn,
        "type": ctx.txn_type,
        "date": ctx.date,
        "entity": entity,
        "unit_key": key,
        "kind": kind,
        "voided_at": None,
    }
    ctx.ws.insert("hl_movements", row)
    ctx.ws.batch_movements.setdefault(ctx.txn, []).append(row)


def _stock_movements(
    ctx: _Context,
    key: str,
    before: set[tuple[str, str]],
    after: set[tuple[str, str]],
    lost: str,
    gained: str,
) -> None:
    for entity in sorted(_stock(before) - _stock(after)):
        _move(ctx, key, entity, lost)
    for entity in sorted(_stock(after) - _stock(before)):
        _move(ctx, key, entity, gained)


def _touch(ctx: _Context, key: str, kind: str) -> None:
    ctx.ws.insert(
        "hl_touches", {"item_key": key, "kind": kind, "position": ctx.position, "txn": ctx.txn}
    )


def unit_entered(ctx: _Context, key: str, s: dict[str, Any]) -> None:
    ws = ctx.ws
    old = ws.units.get(key)
    if old is not None:
        ws.supersede("hl_units", old, ctx.position)
    ws.units[key] = ws.insert(
        "hl_units",
        {
            "unit_key": key,
            "unit_id": s["unit_id"],
            "commune": s["commune"],
            "zone": s["zone"],
            "segment": s["segment"],
            "financing": s["financing"],
            "rooms": s["rooms"],
            "surface_m2": plain(s["surface_m2"]),
            "year_built": s["year_built"],
            "rpls_id": s["rpls_id"],
            "mode": s["mode"],
            "entered_by": ctx.txn,
            "entered_on": ctx.date,
            "known_from": ctx.position,
        },
    )
    if ws.periods.get(key):
        _set_holding(ctx, key, {(s["holder"], "full_ownership")}, None)
    else:  # a unit never held before (the common case): what _set_holding does, directly
        ws.periods[key] = [
            ws.insert(
                "hl_periods",
                dict(
                    unit_key=key,
                    holder=s["holder"],
                    held_as="full_ownership",
                    from_date=ctx.date,
                    to_date=None,
                    usufruct_end=None,
                    opened_by=ctx.txn,
                    closed_by=None,
                    known_from=ctx.position,
                    zone=s["zone"],
                    segment=s["segment"],
                    financing=s["financing"] or "other",
                    commune=s["commune"],
                ),
            )
        ]
    _move(ctx, key, s["holder"], "registered" if s["mode"] == "registration" else "acquired")
    _touch(ctx, key, "unit")


def unit_sold(ctx: _Context, key: str, s: dict[str, Any]) -> None:
    after = {(s["buyer"], "full_ownership")} if s["buyer"] else set()
    before = _set_holding(ctx, key, after, None)
    _stock_movements(
        ctx, key, before, after, "sold" if not s["buyer"] else "transferred", "received"
    )
    _touch(ctx, key, "unit")


def unit_dismembered(ctx: _Context, key: str, s: dict[str, Any]) -> None:
    after = {(s["usufructuary"], "usufruct"), (s["bare_owner"], "bare_ownership")}
    _set_holding(ctx, key, after, plain(s["usufruct_end"]))
    _move(ctx, key, s["usufructuary"], "dismembered")
    _touch(ctx, key, "unit")


def unit_reunited(ctx: _Context, key: str, s: dict[str, Any]) -> None:
    after = {(s["bare_owner"], "full_ownership")}
    before = _set_holding(ctx, key, after, None)
    _stock_movements(ctx, key, before, after, "usufruct_ended", "reunited")
    _touch(ctx, key, "unit")


def unit_merged(ctx: _Context, key: str, s: dict[str, Any]) -> None:
    after: set[tuple[str, str]] = set()
    if s["full_owner"]:
        after.add((s["full_owner"], "full_ownership"))
    if s["usufructuary"]:
        after.add((s["usufructuary"], "usufruct"))
        after.add((s["bare_owner"], "bare_ownership"))
    ends = [r["usufruct_end"] for r in _open_rows(ctx, key) if r["usufruct_end"]]
    before = _set_holding(ctx, key, after, ends[0] if ends else None)
    _stock_movements(ctx, key, before, after, "transferred", "received")
    _touch(ctx, key, "unit")


def unit_reversed(ctx: _Context, key: str, s: dict[str, Any]) -> None:
    """Void what `reverses` did to the unit, on every date, from this position on."""
    target = s["reverses"]
    current = ctx.ws.periods.setdefault(key, [])
    for row in list(current):
        if row["opened_by"] == target:
            ctx.ws.supersede("hl_periods", row, ctx.position)
            current.remove(row)
        elif row["closed_by"] == target:
            ctx.ws.supersede("hl_periods", row, ctx.position)
            current.remove(row)
            reopened = {
                **row,
                "row_id": None,
                "to_date": None,
                "closed_by": None,
                "known_from": ctx.position,
                "known_to": None,
            }
            current.append(ctx.ws.insert("hl_periods", reopened))
    unit = ctx.ws.units.get(key)
    if unit is not None and unit["entered_by"] == target:
        ctx.ws.supersede("hl_units", unit, ctx.position)
        del ctx.ws.units[key]
    _touch(ctx, key, "unit")


# --- entities and businesses: one current version per key ------------------------------


def _new_version(ctx: _Context, table: str, versions: list[Row], changes: Row) -> None:
    current = versions[-1] if versions and versions[-1]["known_to"] is None else None
    if current is not None:
        ctx.ws.supersede(table, current, ctx.position)
    base = {k: v for k, v in (current or {}).items() if k != "row_id"}
    row = {
        **base,
        **changes,
        "changed_by": ctx.txn,
        "changed_at": ctx.position,
        "known_from": ctx.position,
        "known_to": None,
    }
    versions.append(ctx.ws.insert(table, row))


def _undo_version(ctx: _Context, table: str, versions: list[Row], target: str) -> None:
    """Supersede the version written by `target`; the version that `target` superseded
    (if any: a registration has none) becomes current again, as a new version.

    `changed_at` is the position of the change a version holds (kept when a version is
    restored), so the version before it is the one superseded at that position."""
    current = versions[-1]
    if current["changed_by"] != target or current["known_to"] is not None:
        raise ValueError(f"{table}: the current version was not written by {target}")
    ctx.ws.supersede(table, current, ctx.position)
    previous = [v for v in versions[:-1] if v["known_to"] == current["changed_at"]]
    if previous:
        restored = {k: v for k, v in previous[-1].items() if k != "row_id"}
        restored.update(known_from=ctx.position, known_to=None)
        versions.append(ctx.ws.insert(table, restored))


def entity_registered(ctx: _Context, key: str, s: dict[str, Any]) -> None:
    versions = ctx.ws.entities.setdefault(key, [])
    # A re-registration after a reversed one starts afresh (no previous version to restore).
    if versions and versions[-1]["known_to"] is None:
        raise ValueError(f"entity {s['entity_id']} registered twice")
    row = {
        "entity_key": key,
        "entity": s["entity_id"],
        "name": s["name"],
        "kind": s["kind"],
        "region": s["region"],
        "registered_on": ctx.date,
        "status": "active",
        "absorbed_into": None,
        "changed_by": ctx.txn,
        "changed_at": ctx.position,
        "known_from": ctx.position,
    }
    versions.append(ctx.ws.insert("hl_entities", row))


def entity_absorbed(ctx: _Context, key: str, s: dict[str, Any]) -> None:
    _new_version(
        ctx, "hl_entities", ctx.ws.entities[key], {"status": "absorbed", "absorbed_into": s["into"]}
    )


def entity_reversed(ctx: _Context, key: str, s: dict[str, Any]) -> None:
    versions = ctx.ws.entities[key]
    _undo_version(ctx, "hl_entities", versions, s["reverses"])


def business_registered(ctx: _Context, key: str, s: dict[str, Any]) -> None:
    versions = ctx.ws.businesses.setdefault(key, [])
    row = {
        "business_key": key,
        "business": s["business_id"],
        "owner": s["owner"],
        "name": s["name"],
        "sector": s["sector"],
        "headcount": s["headcount"],
        "status": "held",
        "changed_by": ctx.txn,
        "changed_at": ctx.position,
        "known_from": ctx.position,
    }
    versions.append(ctx.ws.insert("hl_businesses", row))
    _touch(ctx, key, "business")


def business_divested(ctx: _Context, key: str, s: dict[str, Any]) -> None:
    _new_version(ctx, "hl_businesses", ctx.ws.businesses[key], {"status": "divested"})
    _touch(ctx, key, "business")


def business_moved(ctx: _Context, key: str, s: dict[str, Any]) -> None:
    _new_version(ctx, "hl_businesses", ctx.ws.businesses[key], {"owner": s["into"]})
    _touch(ctx, key, "business")


def business_reversed(ctx: _Context, key: str, s: dict[str, Any]) -> None:
    _undo_version(ctx, "hl_businesses", ctx.ws.businesses[key], s["reverses"])
    _touch(ctx, key, "business")


def transaction_reversed(ctx: _Context, key: str, s: dict[str, Any]) -> None:
    """The reversed transaction's movements stop counting from this position on."""
    target = s["transaction_id"]
    for row in ctx.ws.batch_movements.get(target, []):
        row["voided_at"] = ctx.position
    in_batch = ctx.ws.batch_transactions.get(target)
    if in_batch is not None:
        in_batch["reversed_at"], in_batch["reversed_by"] = ctx.position, s["reversal"]
    ctx.ws.reversed_transactions.append((target, ctx.position, s["reversal"]))


Handler = Callable[[_Context, str, dict[str, Any]], None]
HANDLERS: dict[str, Handler] = {
    PREFIX + "Unit.Entered": unit_entered,
    PREFIX + "Unit.Reentered": unit_entered,
    PREFIX + "Unit.Sold": unit_sold,
    PREFIX + "Unit.BareOwnershipTransferred": unit_dismembered,
    PREFIX + "Unit.UsufructExtinguished": unit_reunited,
    PREFIX + "Unit.RightsMerged": unit_merged,
    PREFIX + "Unit.Reversed": unit_reversed,
    PREFIX + "Entity.Registered": entity_registered,
    PREFIX + "Entity.Reregistered": entity_registered,
    PREFIX + "Entity.Absorbed": entity_absorbed,
    PREFIX + "Entity.Absorbing": lambda ctx, key, s: None,
    PREFIX + "Entity.MergerReversed": lambda ctx, key, s: None,
    PREFIX + "Entity.Reversed": entity_reversed,
    PREFIX + "Business.Registered": business_registered,
    PREFIX + "Business.Reregistered": business_registered,
    PREFIX + "Business.Divested": business_divested,
    PREFIX + "Business.Moved": business_moved,
    PREFIX + "Business.Reversed": business_reversed,
    PREFIX + "RecordedTransaction.Reversed": transaction_reversed,
}
RECORDED = PREFIX + "RecordedTransaction.Recorded"


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
    ctx = _Context(ws, recorded.position, s["transaction_id"], s["type"], plain(s["on"]))
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
    if ws.keeps("hl_names"):
        for entity in named_entities(orjson.loads(s["content"])):
            ws.insert("hl_names", {"entity": entity, "position": ctx.position, "txn": ctx.txn})
    for event in events[:-1]:
        handler = HANDLERS.get(event.topic)
        if handler is None:
            raise ValueError(f"position {event.position}: unknown event topic {event.topic!r}")
        handler(ctx, event.key, event.state)
    return recorded.position
