"""The fold of entities' and businesses' events: one current version per key, and the
entities' membership of the group (`hl_memberships`: one row per period of membership).

A change supersedes the current version and inserts the next one; a reversal supersedes
the version the reversed transaction wrote and restores, as a new version, the one it
had superseded. A membership period is opened by a registration in the group or a
`group_entry`, closed by a `group_exit` or the merger absorbing the entity, and a
`share_transfer` closes it and opens the next with the new parent. Must not: edit a
version in place (only its `known_to` is set).
"""

from __future__ import annotations

from typing import Any

from projections.fold.rows import Context, Row, touch


def _new_version(ctx: Context, table: str, versions: list[Row], changes: Row) -> None:
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


def _undo_version(ctx: Context, table: str, versions: list[Row], target: str) -> None:
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


def entity_registered(ctx: Context, key: str, s: dict[str, Any]) -> None:
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
    group = s.get("group")
    if group is None:  # version 1: its kinds are the first six, all members but a fund
        group = s["kind"] != "pension_fund"
    if group:
        _open_membership(ctx, key, s["entity_id"], s.get("parent"), stated="group" in s)


def entity_absorbed(ctx: Context, key: str, s: dict[str, Any]) -> None:
    _new_version(
        ctx, "hl_entities", ctx.ws.entities[key], {"status": "absorbed", "absorbed_into": s["into"]}
    )
    _close_membership(ctx, key, stated=None)  # absorbed: out of the perimeter


def entity_reversed(ctx: Context, key: str, s: dict[str, Any]) -> None:
    target = s["reverses"]
    versions = ctx.ws.entities[key]
    # A change of the perimeter writes membership rows only; anything else reversed
    # wrote the entity's current version (`_undo_version` says so when it did not).
    perimeter_only = versions[-1]["changed_by"] != target and any(
        target in (r["opened_by"], r["closed_by"]) for r in ctx.ws.memberships.get(key, [])
    )
    if not perimeter_only:
        _undo_version(ctx, "hl_entities", versions, target)
    _undo_memberships(ctx, key, target)


def entity_joined(ctx: Context, key: str, s: dict[str, Any]) -> None:
    entity = ctx.ws.entities[key][-1]["entity"]
    _open_membership(ctx, key, entity, s["parent"], stated=True)


def entity_left(ctx: Context, key: str, s: dict[str, Any]) -> None:
    _close_membership(ctx, key, stated=True)


def entity_shares_transferred(ctx: Context, key: str, s: dict[str, Any]) -> None:
    closed = _close_membership(ctx, key, stated=True)
    _open_membership(ctx, key, closed["entity"], s["parent"], stated=True)


def _open_membership(ctx: Context, key: str, entity: str, parent: str | None, stated: bool) -> None:
    row = {
        "entity_key": key,
        "entity": entity,
        "parent": parent,
        "from_date": ctx.date,
        "to_date": None,
        "opened_by": ctx.txn,
        "closed_by": None,
        "known_from": ctx.position,
        "known_to": None,
        "stated": int(stated),
    }
    ctx.ws.memberships.setdefault(key, []).append(ctx.ws.insert("hl_memberships", row))


def _close_membership(ctx: Context, key: str, stated: bool | None) -> Row:
    """Close the entity's open membership period on the transaction's date (`stated`
    None: the flag of the period closed). Returns the closed version; an entity absorbed
    outside the group has none to close: an empty row."""
    rows = ctx.ws.memberships.setdefault(key, [])
    current = [r for r in rows if r["known_to"] is None and r["to_date"] is None]
    if not current:
        if stated is None:
            return {}
        raise ValueError(f"entity {key}: no membership of the group to close")
    (row,) = current
    ctx.ws.supersede("hl_memberships", row, ctx.position)
    closed = {k: v for k, v in row.items() if k != "row_id"}
    closed.update(to_date=ctx.date, closed_by=ctx.txn, known_from=ctx.position, known_to=None)
    if stated is not None:
        closed["stated"] = int(stated)
    rows.append(ctx.ws.insert("hl_memberships", closed))
    return closed


def _undo_memberships(ctx: Context, key: str, target: str) -> None:
    """Supersede the membership versions `target` wrote; a period it closed is open
    again, as a new version of the one it superseded."""
    rows = ctx.ws.memberships.get(key, [])
    for row in [r for r in rows if r["known_to"] is None]:
        if row["closed_by"] == target:
            ctx.ws.supersede("hl_memberships", row, ctx.position)
            before = [
                v
                for v in rows
                if v["known_to"] == row["known_from"] and v["opened_by"] == row["opened_by"]
            ]
            restored = {k: v for k, v in before[-1].items() if k != "row_id"}
            restored.update(known_from=ctx.position, known_to=None)
            rows.append(ctx.ws.insert("hl_memberships", restored))
        elif row["opened_by"] == target:
            ctx.ws.supersede("hl_memberships", row, ctx.position)


def business_registered(ctx: Context, key: str, s: dict[str, Any]) -> None:
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
    touch(ctx, key, "business")


def business_divested(ctx: Context, key: str, s: dict[str, Any]) -> None:
    _new_version(ctx, "hl_businesses", ctx.ws.businesses[key], {"status": "divested"})
    touch(ctx, key, "business")


def business_moved(ctx: Context, key: str, s: dict[str, Any]) -> None:
    _new_version(ctx, "hl_businesses", ctx.ws.businesses[key], {"owner": s["into"]})
    touch(ctx, key, "business")


def business_reversed(ctx: Context, key: str, s: dict[str, Any]) -> None:
    _undo_version(ctx, "hl_businesses", ctx.ws.businesses[key], s["reverses"])
    touch(ctx, key, "business")
