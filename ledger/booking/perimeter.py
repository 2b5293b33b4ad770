"""Booking the group perimeter: an entity joins the group (`group_entry`), leaves it
(`group_exit`), or its shares move to another member (`share_transfer`), and the
membership a registration states (`group`, `parent`).

Separate from `handlers` because these transactions change an entity rather than units,
and share their rules: the entity is registered and active, dates never go back for it
(as for a merger: `merger.check_latest_naming`), and a parent is another member of the
group on the transaction's date. No unit or business moves.

Must not: change an aggregate before every rule of the transaction is checked, or move a
unit (a change of the perimeter changes who is in the group, not who holds what).
"""

from __future__ import annotations

from datetime import date

from eventsourcing.domain import Aggregate

from ledger.booking.book import Book, Booked
from ledger.booking.merger import check_latest_naming
from ledger.booking.transactions import Transaction
from ledger.domain import Entity
from ledger.domain.values import BUYER_KINDS, BuyerCategory, buyer_fits, default_member
from ledger.errors import RuleViolation


def membership(book: Book, tx: Transaction) -> tuple[bool, str | None]:
    """The membership `register_entity` states: (`group`, `parent`), `group` defaulting
    to the kind's (`default_member`); the parent checked as `check_parent` does."""
    group = tx["group"] if tx["group"] is not None else default_member(str(tx["kind"]))
    parent = tx["parent"]
    if parent is not None:
        check_parent(book, tx["entity"], parent, tx.date)
        group = True
    return group, parent


def check_parent(book: Book, entity: str, parent: str, on: date) -> Entity:
    """A parent holds a member's shares: another entity, active and a member on `on`."""
    if parent == entity:
        raise RuleViolation("parent_is_entity", f"parent {parent} is the entity itself")
    found = book.entity(parent, on, "parent")
    found.check_member_on(on, "parent")
    return found


def check_buyer_kind(book: Book, category: str, buyer: str, on: date) -> None:
    """A sale naming its buyer entity: the buyer's category fits the entity's kind
    (`BUYER_KINDS`): a pension fund is not a social landlord."""
    kind = book.entity(buyer, on, "buyer.entity").kind
    if not buyer_fits(category, kind):
        kinds = sorted(BUYER_KINDS[BuyerCategory(category)])
        allowed = f"of kind {', '.join(kinds)}" if kinds else "a natural person, never an entity"
        raise RuleViolation(
            "buyer_kind",
            f"buyer.entity {buyer} is of kind {kind}: a buyer of category {category} is {allowed}",
        )


def _entity(book: Book, tx: Transaction) -> Entity:
    entity = book.entity(tx["entity"], tx.date, "entity")
    check_latest_naming(book, tx["entity"], tx.date, f"a {tx.type}")
    return entity


def book_group_entry(book: Book, tx: Transaction, booked: Booked) -> list[Aggregate]:
    entity = _entity(book, tx)
    entity.check_can_join()
    if tx["parent"] is not None:
        check_parent(book, tx["entity"], tx["parent"], tx.date)
    entity.join_group(tx["parent"], tx.id, tx.date)
    return [entity]


def book_group_exit(book: Book, tx: Transaction, booked: Booked) -> list[Aggregate]:
    entity = _entity(book, tx)
    entity.leave_group(tx.id, tx.date)
    return [entity]


def book_share_transfer(book: Book, tx: Transaction, booked: Booked) -> list[Aggregate]:
    entity = _entity(book, tx)
    entity.check_shares_can_move(tx["parent"])
    check_parent(book, tx["entity"], tx["parent"], tx.date)
    entity.transfer_shares(tx["parent"], tx.id, tx.date)
    return [entity]
