"""The fold of a unit's events: its description (`hl_units`), who holds it and by which
right over which dates (`hl_periods`), and the stock movements they make (`hl_movements`).

A unit's fold reads only that unit's rows and the transaction it is in, which is what
lets a replay fold the units in passes by key range (projections/engine/passes.py).

The law is written here, so that every query follows it (docs/decisions/0008): a
usufruct ends at its term (Civil Code arts. 617, 619). A dismemberment with
`usufruct_end` E is stored as its usufruct and bare-ownership periods ending on E+1
with no `closed_by` (the rule that tells a term from a transaction's closure), the bare
owner's full-ownership period from E+1, opened by the transaction that set the term, and
the term's movements dated E+1 (`usufruct_ended`, `reunited`, of type `TERM`) at that
transaction's position. A transaction works on the periods open on its date; when it
changes a dismemberment before its term (early extinction, extension, merger, reversal),
`_reconcile` replaces what the old term scheduled: the full ownership superseded, the
movements voided (`WorkingSet.void_term`), new ones written.

Must not: read another unit's rows, or anything outside the `WorkingSet`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from projections.fold.decoding import plain
from projections.fold.rows import STOCK_RIGHTS, Context, Row, touch


def _dims(ctx: Context, key: str) -> Row:
    unit = ctx.ws.units[key]
    return {
        "zone": unit["zone"],
        "segment": unit["segment"],
        "financing": unit["financing"] or "other",
        "commune": unit["commune"],
    }


#: The `type` of the term's movements in `hl_movements` (no transaction has this type).
TERM = "usufruct_term"
DISMEMBERED = ("usufruct", "bare_ownership")


def day_after(day: str) -> str:
    return (date.fromisoformat(day) + timedelta(days=1)).isoformat()


def _open_rows(ctx: Context, key: str) -> list[Row]:
    """The unit's periods open on the transaction's date (a scheduled full ownership at
    term is not yet open; a usufruct past its term no longer is)."""
    day = ctx.date
    return [
        r
        for r in ctx.ws.periods.get(key, [])
        if r["from_date"] <= day and (r["to_date"] is None or r["to_date"] > day)
    ]


def ends_at_term(row: Row) -> bool:
    """A usufruct or bare-ownership period that its term ends (no transaction closed it)."""
    return row["held_as"] in DISMEMBERED and row["to_date"] is not None and row["closed_by"] is None


def _terms(rows: Sequence[Row]) -> set[tuple[str, str, str]]:
    """(usufructuary, bare owner, day after the term) of each dismemberment of the unit
    that ends at its term."""
    usufructs: dict[str, str] = {}
    bare: dict[str, str] = {}
    for r in rows:  # ends_at_term, inlined: this runs for every event of a unit
        held = r["held_as"]
        if held in DISMEMBERED and r["to_date"] is not None and r["closed_by"] is None:
            (usufructs if held == "usufruct" else bare)[r["to_date"]] = r["holder"]
    if not usufructs:
        return set()
    return {(u, bare[day], day) for day, u in usufructs.items() if day in bare}


def _reconcile(ctx: Context, key: str, before: set[tuple[str, str, str]]) -> None:
    """Make what the terms schedule match the unit's dismemberments: for a term gone, its
    full ownership superseded and its movements voided; for a new one, the bare owner's
    full ownership from the day after the term, and the term's movements."""
    current = ctx.ws.periods.setdefault(key, [])
    after = _terms(current)
    if not before and not after:  # the common case: no dismemberment, before or after
        return
    for _, bare_owner, day in sorted(before - after):
        for row in list(current):
            if row["held_as"] == "full_ownership" and row["from_date"] == day:
                if row["holder"] == bare_owner and row["to_date"] is None:
                    ctx.ws.supersede("hl_periods", row, ctx.position)
                    current.remove(row)
        ctx.ws.void_term(key, day, ctx.position)
    for usufructuary, bare_owner, day in sorted(after - before):
        row = {
            "unit_key": key,
            "holder": bare_owner,
            "held_as": "full_ownership",
            "from_date": day,
            "to_date": None,
            "usufruct_end": None,
            "opened_by": ctx.txn,
            "closed_by": None,
            "known_from": ctx.position,
            **_dims(ctx, key),
        }
        current.append(ctx.ws.insert("hl_periods", row))
        _move(ctx, key, usufructuary, "usufruct_ended", day=day)
        _move(ctx, key, bare_owner, "reunited", day=day)


def _holders(rows: Sequence[Row]) -> set[tuple[str, str]]:
    return {(r["holder"], r["held_as"]) for r in rows}


def _set_holding(
    ctx: Context,
    key: str,
    after: set[tuple[str, str]],
    usufruct_end: str | None,
    open_rows: list[Row] | None = None,
) -> set[tuple[str, str]]:
    """Close the periods open on the date that are not in `after`, open those not yet
    open (a usufruct or bare ownership until the day after `usufruct_end`), then what
    the terms schedule. Returns `before`. `open_rows`: the unit's periods open on the
    date, if the caller has them already (`_open_rows`)."""
    if open_rows is None:
        open_rows = _open_rows(ctx, key)
    before = _holders(open_rows)
    current = ctx.ws.periods.setdefault(key, [])
    terms = _terms(current)
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
            term = usufruct_end if right != "full_ownership" else None
            row = {
                "unit_key": key,
                "holder": holder,
                "held_as": right,
                "from_date": ctx.date,
                "to_date": day_after(term) if term is not None else None,
                "usufruct_end": term,
                "opened_by": ctx.txn,
                "closed_by": None,
                "known_from": ctx.position,
                **dims,
            }
            current.append(ctx.ws.insert("hl_periods", row))
    _reconcile(ctx, key, terms)
    return before


def _stock(pairs: set[tuple[str, str]]) -> set[str]:
    return {holder for holder, right in pairs if right in STOCK_RIGHTS}


def _move(
    ctx: Context,
    key: str,
    entity: str,
    kind: str,
    price: str | None = None,
    net_proceeds: str | None = None,
    day: str | None = None,
) -> None:
    """A movement of the transaction, or (given `day`) of the term it schedules."""
    row = {
        "position": ctx.position,
        "txn": ctx.txn,
        "type": ctx.txn_type if day is None else TERM,
        "date": ctx.date if day is None else day,
        "entity": entity,
        "unit_key": key,
        "kind": kind,
        "voided_at": None,
        "price_eur": price,
        "net_proceeds_eur": net_proceeds,
        "known_to": None,
    }
    ws = ctx.ws
    ws.insert("hl_movements", row)
    moved = ws.batch_movements.get(ctx.txn)
    if moved is None:
        ws.batch_movements[ctx.txn] = [row]
    else:
        moved.append(row)
    if day is not None:
        ctx.ws.term_movements.setdefault(key, []).append(row)


def _stock_movements(
    ctx: Context,
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


def unit_entered(ctx: Context, key: str, s: dict[str, Any]) -> None:
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
            "rpls": s.get("rpls"),  # a version 1 state has no `rpls` (nor `bare_owner`)
        },
    )
    if s.get("bare_owner"):  # registered in usufruct: as after a bare-ownership transfer
        after = {(s["holder"], "usufruct"), (s["bare_owner"], "bare_ownership")}
        _set_holding(ctx, key, after, plain(s["usufruct_end"]))
    elif ws.periods.get(key):
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
    touch(ctx, key, "unit")


def unit_sold(ctx: Context, key: str, s: dict[str, Any]) -> None:
    """The seller's `sold` (or `transferred`) movement carries the unit's shares of the
    lot's price and net proceeds; a version 1 state has neither key (NULL: the reports
    split the journal's price instead)."""
    after = {(s["buyer"], "full_ownership")} if s["buyer"] else set()
    before = _set_holding(ctx, key, after, None)
    kind = "sold" if not s["buyer"] else "transferred"
    price, net = plain(s.get("price_eur")), plain(s.get("net_proceeds_eur"))
    for entity in sorted(_stock(before) - _stock(after)):  # the seller, full owner
        _move(ctx, key, entity, kind, price, net)
    for entity in sorted(_stock(after) - _stock(before)):
        _move(ctx, key, entity, "received")
    touch(ctx, key, "unit")


def unit_dismembered(ctx: Context, key: str, s: dict[str, Any]) -> None:
    after = {(s["usufructuary"], "usufruct"), (s["bare_owner"], "bare_ownership")}
    _set_holding(ctx, key, after, plain(s["usufruct_end"]))
    _move(ctx, key, s["usufructuary"], "dismembered")
    touch(ctx, key, "unit")


def unit_reunited(ctx: Context, key: str, s: dict[str, Any]) -> None:
    """Before the term, the usufruct ends early; after it, the extinction confirms the
    end at term: the bare owner already holds in full ownership (no change)."""
    after = {(s["bare_owner"], "full_ownership")}
    before = _set_holding(ctx, key, after, None)
    _stock_movements(ctx, key, before, after, "usufruct_ended", "reunited")
    touch(ctx, key, "unit")


def unit_merged(ctx: Context, key: str, s: dict[str, Any]) -> None:
    after: set[tuple[str, str]] = set()
    if s["full_owner"]:
        after.add((s["full_owner"], "full_ownership"))
    if s["usufructuary"]:
        after.add((s["usufructuary"], "usufruct"))
        after.add((s["bare_owner"], "bare_ownership"))
    open_rows = _open_rows(ctx, key)
    ends = [r["usufruct_end"] for r in open_rows if r["usufruct_end"]]
    before = _set_holding(ctx, key, after, ends[0] if ends else None, open_rows)
    _stock_movements(ctx, key, before, after, "transferred", "received")
    touch(ctx, key, "unit")


def unit_extended(ctx: Context, key: str, s: dict[str, Any]) -> None:
    """The term moves: the dismemberment's periods end on the extension's date and go on
    from it to the new term (so "as of" an earlier date still shows the term then in
    force, and a reversal reopens the old ones), and the term's schedule follows."""
    current = ctx.ws.periods.setdefault(key, [])
    terms = _terms(current)
    end = plain(s["usufruct_end"])
    for row in _open_rows(ctx, key):
        if row["held_as"] not in DISMEMBERED:
            continue
        ctx.ws.supersede("hl_periods", row, ctx.position)
        current.remove(row)
        fresh = {"row_id": None, "known_from": ctx.position, "known_to": None}
        closed = {**row, **fresh, "to_date": ctx.date, "closed_by": ctx.txn}
        current.append(ctx.ws.insert("hl_periods", closed))
        extended = {**row, **fresh, "from_date": ctx.date, "to_date": day_after(end)}
        extended.update(usufruct_end=end, opened_by=ctx.txn, closed_by=None)
        current.append(ctx.ws.insert("hl_periods", extended))
    _reconcile(ctx, key, terms)
    touch(ctx, key, "unit")


def unit_reversed(ctx: Context, key: str, s: dict[str, Any]) -> None:
    """Void what `reverses` did to the unit, on every date, from this position on."""
    target = s["reverses"]
    current = ctx.ws.periods.setdefault(key, [])
    terms = _terms(current)
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
                # Open again: a usufruct or bare ownership until its term, as before.
                "to_date": day_after(row["usufruct_end"]) if row["usufruct_end"] else None,
                "closed_by": None,
                "known_from": ctx.position,
                "known_to": None,
            }
            current.append(ctx.ws.insert("hl_periods", reopened))
    _reconcile(ctx, key, terms)
    unit = ctx.ws.units.get(key)
    if unit is not None and unit["entered_by"] == target:
        ctx.ws.supersede("hl_units", unit, ctx.position)
        del ctx.ws.units[key]
    touch(ctx, key, "unit")
