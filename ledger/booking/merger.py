"""Booking a merger: the absorbed entities' rights and businesses pass to `into`.

Separate from `booking` because a merger reads what the absorbed entities hold from the
projections (corrected by this import's own changes) and has date rules of its own:
dates never go back for the entities it names, and it cannot be dated before an absorbed
entity gave up a right (otherwise "as of" its date it would have moved that right).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from operator import itemgetter
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from ledger.booking.book import Book, Booked
from ledger.booking.created import Stamped, Unstored
from ledger.booking.entries import Moves, merge_fields
from ledger.booking.transactions import Transaction
from ledger.domain import Business, Entity, Unit, business_key, unit_key
from ledger.domain.values import merger_family
from ledger.errors import RuleViolation


def book_merger(book: Book, tx: Transaction, booked: Booked) -> list[Aggregate | Unstored]:
    absorbed, into = tx["absorbed"], tx["into"]
    if into in absorbed:
        raise RuleViolation("merger_into_absorbed", f"into {into} is also in absorbed")
    entities = [book.entity(e, tx.date, "absorbed entity") for e in absorbed]
    target = book.entity(into, tx.date, "into")
    for entity in entities:
        _check_same_family(entity, target)
    book.has_merger = True
    held = book.index.units_held_by(absorbed, tx.date.isoformat())
    units = _current(book, held, unit_key, Unit, absorbed, tx.date)
    businesses = _current(
        book, book.index.businesses_held_by(absorbed), business_key, Business, absorbed, tx.date
    )
    # The units of `book.entries` are moved in stored form, unless a rule fails: then
    # every one of them becomes an aggregate, so that `check_date` below says which.
    if any(e.last_date > tx.date for _, e in book.entered_units(absorbed)):
        keys = [k for k, _ in book.entered_units(absorbed)]
        units = sorted([*units, *(book._get(k) for k in keys)], key=lambda u: u.unit_id)
    for unit in units:
        unit.check_date(tx.date)
    for business in businesses:
        business.check_date(tx.date)
    for name in [*absorbed, into]:
        check_latest_naming(book, name, tx.date)
    _check_no_later_release(book, absorbed, tx.date)
    moving = frozenset(absorbed)
    for unit in units:
        unit.merge(moving, into, tx.id, tx.date)
    moves = Moves(
        Stamped(book.mapper, Unit.RightsMerged, **merge_fields(into, tx.id, tx.date)),
        Unit.RightsMerged.create_timestamp(),
    )
    moved: list[tuple[str, Unit | Unstored]] = [
        (entry.unit_id, entry.merged(moves, key)) for key, entry in book.entered_units(absorbed)
    ]
    book.move_entered(absorbed, into)
    for business in businesses:
        business.move(into, tx.id, tx.date)
    for entity in entities:
        entity.absorb_into(into, tx.id, tx.date)
    target.absorbing(tx.id, tx.date)
    # In unit id order, as if every unit were an aggregate.
    moved.extend((u.unit_id, u) for u in units)
    moved.sort(key=itemgetter(0))
    booked.units.extend(unit_id for unit_id, _ in moved)
    booked.businesses.extend(b.business_id for b in businesses)
    return [*(m for _, m in moved), *businesses, *entities, target]


def _check_same_family(absorbed: Entity, into: Entity) -> None:
    """A merger joins entities of the same family (`MERGER_FAMILIES`): a pension fund
    cannot absorb an HLM body, nor an HLM body a pension fund."""
    family, into_family = merger_family(absorbed.kind), merger_family(into.kind)
    if family != into_family:
        raise RuleViolation(
            "merger_family",
            f"{absorbed.entity_id} ({family}) cannot be absorbed by "
            f"{into.entity_id} ({into_family}): a merger joins entities of the same family",
        )


def check_latest_naming(book: Book, entity: str, on: date, what: str = "a merger") -> None:
    """For an entity named by a merger (or by a change of the group perimeter: `what`),
    dates never go back: the transaction cannot be dated before the latest transaction
    (not reversed) that named the entity."""
    in_file = [
        (t, book.booked[t].tx.date.isoformat())
        for t in book.named.get(entity, [])
        if not book.booked[t].reversed
    ]
    namings = [*book.index.latest_namings(entity), *in_file]
    for txn, when in namings:
        if txn not in book.reversed_here and when > on.isoformat():
            raise RuleViolation(
                "date_goes_back",
                f"entity {entity} is named by {txn} dated {when}; {what} naming it "
                f"cannot be dated {on}",
            )


def _check_no_later_release(book: Book, absorbed: Sequence[str], on: date) -> None:
    """A merger cannot be dated before a transaction by which an absorbed entity gave up a
    right in a unit: "as of" its date the merger would have moved that right."""
    holders = frozenset(absorbed)
    for key in [k for k, e in book.entries.items() if e.last_date > on and e.merges]:
        book._get(key)  # a unit moved by a later-dated merger: look at it as an aggregate
    found = [
        (u, d)
        for u, d in book.index.released_after(absorbed, on.isoformat())
        if unit_key(u) not in book.touched
    ]
    for agg in book.touched.values():
        if isinstance(agg, Unit) and agg.is_present and agg.last_date and agg.last_date > on:
            released = agg.released_after(holders, on)
            if released is not None:
                found.append((agg.unit_id, released.isoformat()))
    if found:
        unit_id, day = sorted(found, key=lambda f: f[1])[-1]
        raise RuleViolation(
            "date_goes_back",
            f"an absorbed entity gave up its right in unit {unit_id} on {day}, after the "
            f"merger's date {on}: the merger must be dated on or after it",
        )


def _current(
    book: Book,
    from_index: list[str],
    key: Callable[[str], UUID],
    kind: type,
    holders: Sequence[str],
    on: date,
) -> list[Any]:
    """Aggregates held by `holders` on `on` (a unit in law: after a usufruct's term, by its
    bare owner only): the index's list, corrected by this import's changes (but not the
    units of `book.entries`: `Book.entered_units`)."""
    for item in from_index:
        book.labels.setdefault(key(item), f"{kind.__name__.lower()} {item}")
    book._load(key(i) for i in from_index)
    held = set(holders)
    result: list[Any] = []
    candidates = {key(i): book._get(key(i)) for i in from_index}
    candidates.update((k, a) for k, a in book.touched.items() if isinstance(a, kind))
    for agg in candidates.values():
        if agg is None:
            continue
        if isinstance(agg, Unit):
            h = agg.holding_on(on)
            if agg.status == Unit.HELD and (
                h.full_owner in held or h.usufructuary in held or h.bare_owner in held
            ):
                result.append(agg)
        elif isinstance(agg, Business) and agg.status == Business.HELD and agg.owner in held:
            result.append(agg)
    return sorted(result, key=lambda a: a.unit_id if isinstance(a, Unit) else a.business_id)
