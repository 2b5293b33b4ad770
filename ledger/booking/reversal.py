"""Booking a reversal: the journal is never edited, a wrong transaction is voided.

A reversal is allowed only while nothing recorded after the reversed transaction (and not
itself reversed) touches what it touched, so undoing it is local: each touched aggregate
pops the state the reversed transaction pushed. See docs/transactions.md, `reversal` and
the `reversal_blocked` and `entity_absorbed_since` rules.

Must not: edit or delete a recorded transaction, or hand a right back to an entity
absorbed since (the reversed transaction stays in the journal, marked reversed).
"""

from __future__ import annotations

from eventsourcing.domain import Aggregate

from ledger.booking.book import Book, Booked, named_entities, reparse
from ledger.booking.transactions import Transaction
from ledger.booking.zoning import reverse_vintage
from ledger.domain import (
    Business,
    Entity,
    RecordedTransaction,
    Unit,
    business_key,
    entity_key,
    transaction_key,
    unit_key,
)
from ledger.errors import RuleViolation


def book_reversal(book: Book, tx: Transaction, booked: Booked) -> list[Aggregate]:
    target_id = tx["reverses"]
    recorded: RecordedTransaction | None = book._get(transaction_key(target_id))
    if recorded is None:
        raise RuleViolation("unknown_transaction", f"transaction {target_id} is not recorded")
    if recorded.type == "reversal":
        raise RuleViolation("reverse_reversal", f"{target_id} is a reversal and cannot be reversed")
    if recorded.reversed_by is not None:
        raise RuleViolation(
            "already_reversed",
            f"transaction {target_id} was already reversed by {recorded.reversed_by}",
        )
    if tx.date < recorded.on:
        raise RuleViolation(
            "date_goes_back",
            f"a reversal cannot be dated {tx.date}, before {target_id} ({recorded.on})",
        )
    in_file = book.booked.get(target_id)
    target = in_file.tx if in_file else reparse(recorded)
    _check_no_absorbed_entity(book, target)
    units, businesses = (
        (in_file.units, in_file.businesses) if in_file else book.index.touched_by(target_id)
    )
    unit_aggs: list[Unit] = [book._get(unit_key(u)) for u in units]
    business_aggs: list[Business] = [book._get(business_key(b)) for b in businesses]
    entity_aggs = _entities_to_restore(book, target)
    for unit in unit_aggs:
        unit.check_reversible(target_id)
        _check_restored_holders(book, unit, target)
    for business in business_aggs:
        if business.last_transaction != target_id:
            raise RuleViolation(
                "reversal_blocked",
                f"business {business.business_id} was touched after {target_id} "
                f"by {business.last_transaction}",
            )
    for unit in unit_aggs:
        unit.reverse(target_id, tx.id, tx.date)
    for business in business_aggs:
        business.reverse(target_id, tx.id, tx.date)
    for entity in entity_aggs:
        entity.reverse(target_id, tx.id, tx.date)
    if target.type == "merger":
        into: Entity = book._get(entity_key(target["into"]))
        into.forget_merger(target_id, tx.id, tx.date)
        entity_aggs.append(into)
    others: list[Aggregate] = []
    if target.type == "zoning_vintage":
        others.append(reverse_vintage(book, target_id, tx.id, tx.date))
    recorded.mark_reversed(tx.id, tx.date)
    if in_file:
        in_file.reversed = True
    book.reversed_here.add(target_id)
    booked.units.extend(units)
    booked.businesses.extend(businesses)
    return [*unit_aggs, *business_aggs, *entity_aggs, *others, recorded]


def _check_no_absorbed_entity(book: Book, target: Transaction) -> None:
    absorbed_by_target = set(target.fields.get("absorbed") or ())
    for name in named_entities(target):
        entity: Entity | None = book._get(entity_key(name))
        if (
            entity is not None
            and entity.status == Entity.ABSORBED
            and name not in absorbed_by_target
        ):
            raise RuleViolation(
                "entity_absorbed_since",
                f"entity {name} named by {target.id} has since been absorbed by {entity.into}; "
                "undoing it would hand rights to an inactive entity",
            )


def _check_restored_holders(book: Book, unit: Unit, target: Transaction) -> None:
    """Undoing must not hand a right back to an entity absorbed since (e.g. reversing a
    usufruct extinction after the former usufructuary was merged into another entity)."""
    _, prior = unit.stack[-1]
    absorbed_by_target = set(target.fields.get("absorbed") or ())
    for holder in prior[1].holders:
        entity: Entity | None = book._get(entity_key(holder))
        if (
            entity is not None
            and entity.status == Entity.ABSORBED
            and holder not in absorbed_by_target
        ):
            raise RuleViolation(
                "entity_absorbed_since",
                f"undoing {target.id} would give unit {unit.unit_id} back to {holder}, "
                f"absorbed since by {entity.into}",
            )


def _entities_to_restore(book: Book, target: Transaction) -> list[Entity]:
    """The entities whose state the reversed transaction changed (a change of the group
    perimeter, like a registration, only while no later transaction names the entity)."""
    if target.type in ("register_entity", "group_entry", "group_exit", "share_transfer"):
        name = target["entity"]
        later = [t for t in _later_namings(book, name, target.id) if t not in book.reversed_here]
        if later:
            raise RuleViolation(
                "reversal_blocked", f"entity {name} is named by a later transaction, {later[0]}"
            )
        return [book._get(entity_key(name))]
    if target.type == "merger":
        return [book._get(entity_key(name)) for name in target["absorbed"]]
    return []


def _later_namings(book: Book, entity: str, target_id: str) -> list[str]:
    in_file = book.named.get(entity, [])
    if target_id in book.booked:
        position = in_file.index(target_id) if target_id in in_file else -1
        return [t for t in in_file[position + 1 :] if not book.booked[t].reversed]
    from_index = book.index.later_naming(entity, target_id)
    return [*from_index, *(t for t in in_file if not book.booked[t].reversed)]
