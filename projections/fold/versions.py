"""The fold of entities' and businesses' events: one current version per key.

A change supersedes the current version and inserts the next one; a reversal supersedes
the version the reversed transaction wrote and restores, as a new version, the one it
had superseded. Must not: edit a version in place (only its `known_to` is set).
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


def entity_absorbed(ctx: Context, key: str, s: dict[str, Any]) -> None:
    _new_version(
        ctx, "hl_entities", ctx.ws.entities[key], {"status": "absorbed", "absorbed_into": s["into"]}
    )


def entity_reversed(ctx: Context, key: str, s: dict[str, Any]) -> None:
    versions = ctx.ws.entities[key]
    _undo_version(ctx, "hl_entities", versions, s["reverses"])


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
