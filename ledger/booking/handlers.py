"""The handlers of the transaction types, and `HANDLERS`, the registry the import books with.

A handler first checks every rule of its transaction (domain commands raise a named
`RuleViolation`), and only then changes aggregates, so a rejected line leaves the book as
it was. The merger, the reversal and the group perimeter have modules of their own
(`merger.py`, `reversal.py`, `perimeter.py`): they read more of the ledger and have date
rules of their own.

Must not: change an aggregate before every rule of the transaction is checked, or write
anything (the book collects the events; the service records them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from eventsourcing.domain import Aggregate

from ledger.booking.book import Book, Booked, Handler, Touched
from ledger.booking.created import created
from ledger.booking.entries import EnteredUnit, unit_entry
from ledger.booking.merger import book_merger
from ledger.booking.perimeter import (
    book_group_entry,
    book_group_exit,
    book_share_transfer,
    check_buyer_kind,
    membership,
)
from ledger.booking.reversal import book_reversal
from ledger.booking.transactions import Transaction
from ledger.booking.unitlines import UnitSpec
from ledger.booking.zoning import book_zoning_vintage, zoned_units
from ledger.domain import (
    Business,
    Entity,
    Unit,
    business_key,
    entity_key,
    unit_key,
)
from ledger.domain.values import (
    MAX_USUFRUCT_YEARS,
    SINGLE_HOME_BUYERS,
    Consideration,
    EntryMode,
    add_years,
    split_cents,
)
from ledger.errors import RuleViolation


def _register_entity(book: Book, tx: Transaction, booked: Booked) -> list[Aggregate]:
    entity: Entity | None = book._get(entity_key(tx["entity"]))
    if entity is not None and entity.status != Entity.VOID:
        raise RuleViolation("entity_exists", f"entity {tx['entity']} is already registered")
    group, parent = membership(book, tx)
    registration = dict(
        name=tx["name"],
        kind=str(tx["kind"]),
        region=tx["region"],
        transaction=tx.id,
        on=tx.date,
        group=group,
        parent=parent,
    )
    if entity is None:
        entity = Entity._create(
            Entity.Registered, id=entity_key(tx["entity"]), entity_id=tx["entity"], **registration
        )
        book.aggregates[entity.id] = entity
    else:
        entity.reregister(entity_id=tx["entity"], **registration)
    return [entity]


def _check_new_units(book: Book, units: Sequence[UnitSpec], tx: Transaction) -> None:
    for spec in units:
        unit: Unit | None = book._get(unit_key(spec.unit_id))
        if unit is not None and unit.is_present:
            raise RuleViolation("unit_exists", f"unit {spec.unit_id} is already in the ledger")
        if spec.year_built is not None and spec.year_built > tx.date.year + 5:
            raise RuleViolation(
                "year_built",
                f"unit {spec.unit_id}: year_built {spec.year_built} is after {tx.date.year + 5}",
            )
    wanted: dict[str, str] = {}
    for spec in units:
        if spec.rpls_id and spec.rpls_id in wanted:
            raise RuleViolation(
                "rpls_duplicate",
                f"units {wanted[spec.rpls_id]} and {spec.unit_id} have the same rpls_id "
                f"{spec.rpls_id}",
            )
        if spec.rpls_id:
            wanted[spec.rpls_id] = spec.unit_id
    for rpls_id, unit_id in wanted.items():
        holder = book.rpls_holder(rpls_id)
        if holder is not None and _rpls_still_used(book, rpls_id, holder):
            raise RuleViolation(
                "rpls_duplicate",
                f"rpls_id {rpls_id} of unit {unit_id} is already used by unit {holder}",
            )


def _rpls_still_used(book: Book, rpls_id: str, unit_id: str) -> bool:
    if unit_key(unit_id) in book.entries:  # entered by this import with this rpls id
        return True
    unit: Unit | None = book._get(unit_key(unit_id))
    return unit is not None and unit.is_present and unit.attributes.get("rpls_id") == rpls_id


def check_usufruct_term(on: date, end: date) -> None:
    """A legal person's usufruct lasts at most 30 years (Civil Code art. 619): the one
    statement of the rule, for a transfer of the bare ownership and a registration in
    usufruct alike."""
    if not on < end <= add_years(on, MAX_USUFRUCT_YEARS):
        raise RuleViolation(
            "usufruct_term",
            f"usufruct_end {end} must be after {on} and at most {MAX_USUFRUCT_YEARS} years "
            f"later ({add_years(on, MAX_USUFRUCT_YEARS)}): a legal person's usufruct "
            "cannot exceed 30 years (Civil Code art. 619)",
        )


def _check_registered_rights(book: Book, units: Sequence[UnitSpec], tx: Transaction) -> None:
    """The rules of a unit registered in usufruct, and of the years of its RPLS values,
    that need the ledger or the transaction's date."""
    for spec in units:
        if spec.bare_owner is not None and spec.usufruct_end is not None:
            if spec.bare_owner == tx["entity"]:
                raise RuleViolation(
                    "bare_owner_is_transferor",
                    f"unit {spec.unit_id}: bare_owner {spec.bare_owner} is the entity",
                )
            book.entity(spec.bare_owner, tx.date, "bare_owner")
            check_usufruct_term(tx.date, spec.usufruct_end)
        values = spec.rpls
        if values is None:
            continue
        for name in ("first_let_year", "entry_year"):
            year = getattr(values, name)
            if year is not None and year > tx.date.year:
                raise RuleViolation(
                    "rpls_year",
                    f"unit {spec.unit_id}: rpls.{name} {year} is after {tx.date.year}",
                )
        built, entry = spec.year_built, values.entry_year
        if built is not None and entry is not None and entry < built:
            raise RuleViolation(
                "rpls_year",
                f"unit {spec.unit_id}: rpls.entry_year {entry} is before year_built {built}",
            )


def _enter_units(book: Book, tx: Transaction, booked: Booked, mode: str) -> Touched:
    book.entity(tx["entity"], tx.date, "entity")
    units: Sequence[UnitSpec] = tx["units"]
    _check_new_units(book, units, tx)
    _check_registered_rights(book, units, tx)
    units = zoned_units(book, units, tx)
    touched: Touched = []
    for spec in units:
        entry = unit_entry(spec, tx, mode)
        key = unit_key(spec.unit_id)
        unit: Unit | None = book._get(key)
        if unit is None and spec.bare_owner is not None:
            # In usufruct: the library's path, so a merger of this import sees the unit
            # among those its holders hold (`book.touched`), as any dismembered unit.
            unit = Unit._create(Unit.Entered, id=key, **entry)
            book.aggregates[key] = unit
            touched.append(unit)
        elif unit is None:
            timestamp = Unit.Entered.create_timestamp()
            entered = created(book.mapper, Unit, Unit.Entered, key, timestamp, **entry)
            book.entries[key] = EnteredUnit(timestamp, spec, tx, mode, tx["entity"], tx.date)
            book.aggregates[key] = entered
            book.entered_by.setdefault(tx["entity"], {})[key] = None
            touched.append(entered)
        else:
            unit.reenter(**entry)
            touched.append(unit)
        if spec.rpls_id:
            book.rpls[spec.rpls_id] = spec.unit_id
        booked.units.append(spec.unit_id)
    return touched


def _register_units(book: Book, tx: Transaction, booked: Booked) -> Touched:
    return _enter_units(book, tx, booked, EntryMode.REGISTRATION.value)


def _acquisition(book: Book, tx: Transaction, booked: Booked) -> Touched:
    return _enter_units(book, tx, booked, str(tx["mode"]))


def _sale(book: Book, tx: Transaction, booked: Booked) -> list[Aggregate]:
    seller = tx["entity"]
    book.entity(seller, tx.date, "seller")
    buyer = tx["buyer"]
    if buyer["category"] in SINGLE_HOME_BUYERS and len(tx["units"]) != 1:
        whom = "a sitting tenant" if buyer["category"] == "sitting_tenant" else "a tenant's family"
        raise RuleViolation(
            "sitting_tenant_single_unit",
            f"a sale to {whom} is of exactly one unit (the home the tenant occupies), "
            f"not {len(tx['units'])}",
        )
    if buyer["entity"] is not None:
        if buyer["entity"] == seller:
            raise RuleViolation("buyer_is_seller", f"buyer.entity {seller} is the seller")
        check_buyer_kind(book, str(buyer["category"]), buyer["entity"], tx.date)
    units = [book.unit(u) for u in tx["units"]]
    for unit in units:
        unit.check_full_owner(seller, tx.date)
    count, net = len(units), tx["net_proceeds_eur"]
    prices = split_cents(tx["price_eur"], count)
    nets = split_cents(net, count) if net is not None else [None] * count
    category = str(buyer["category"])
    for unit, price, proceeds in zip(units, prices, nets, strict=True):
        unit.sell(seller, buyer["entity"], category, tx.id, tx.date, price, proceeds)
    booked.units.extend(tx["units"])
    return list(units)


def _bare_ownership_transfer(book: Book, tx: Transaction, booked: Booked) -> list[Aggregate]:
    transferor, bare_owner, end = tx["entity"], tx["bare_owner"], tx["usufruct_end"]
    book.entity(transferor, tx.date, "entity")
    if bare_owner == transferor:
        raise RuleViolation(
            "bare_owner_is_transferor", f"bare_owner {bare_owner} is the transferor"
        )
    book.entity(bare_owner, tx.date, "bare_owner")
    check_usufruct_term(tx.date, end)
    price = tx["price_eur"]
    if tx["consideration"] == Consideration.GRATUITOUS and price:
        raise RuleViolation(
            "gratuitous_with_price", f"a gratuitous transfer has no price, not {price}"
        )
    if tx["consideration"] == Consideration.ONEROUS and not price:
        raise RuleViolation("onerous_without_price", "an onerous transfer needs price_eur > 0")
    units = [book.unit(u) for u in tx["units"]]
    for unit in units:
        unit.check_full_owner(transferor, tx.date)
    for unit in units:
        unit.transfer_bare_ownership(transferor, bare_owner, end, tx.id, tx.date)
    booked.units.extend(tx["units"])
    return list(units)


def _usufruct_extinguished(book: Book, tx: Transaction, booked: Booked) -> list[Aggregate]:
    units = [book.unit(u) for u in tx["units"]]
    for unit in units:
        unit.check_dismembered(tx.date)
        for holder in unit.holding_on(tx.date).holders:  # after the term: the full owner
            book.entity(holder, tx.date, "holder", named=False)
    for unit in units:
        unit.extinguish_usufruct(tx.id, tx.date)
    booked.units.extend(tx["units"])
    return list(units)


def _usufruct_extension(book: Book, tx: Transaction, booked: Booked) -> list[Aggregate]:
    """The term of the usufruct of every unit moves to `usufruct_end` (Unit.check_extension:
    not yet passed, later, within 30 years of the usufruct's start)."""
    units = [book.unit(u) for u in tx["units"]]
    for unit in units:
        unit.check_extension(tx["usufruct_end"], tx.date)
        for holder in unit.holding.holders:
            book.entity(holder, tx.date, "holder", named=False)
    for unit in units:
        unit.extend_usufruct(tx["usufruct_end"], tx.id, tx.date)
    booked.units.extend(tx["units"])
    return list(units)


def _register_business(book: Book, tx: Transaction, booked: Booked) -> list[Aggregate]:
    book.entity(tx["entity"], tx.date, "entity")
    business: Business | None = book._get(business_key(tx["business"]))
    if business is not None and business.status != Business.VOID:
        raise RuleViolation("business_exists", f"business {tx['business']} is already registered")
    registration = dict(
        owner=tx["entity"],
        name=tx["name"],
        sector=str(tx["sector"]),
        headcount=tx["headcount"],
        transaction=tx.id,
        on=tx.date,
    )
    if business is None:
        business = Business._create(
            Business.Registered,
            id=business_key(tx["business"]),
            business_id=tx["business"],
            **registration,
        )
        book.aggregates[business.id] = business
    else:
        business.reregister(business_id=tx["business"], **registration)
    booked.businesses.append(tx["business"])
    return [business]


def _divestment(book: Book, tx: Transaction, booked: Booked) -> list[Aggregate]:
    book.entity(tx["entity"], tx.date, "seller")
    business = book.business(tx["business"])
    business.divest(
        tx["entity"],
        tx["buyer"],
        tx["price_eur"],
        tx["employees_transferred"],
        tx["no_redundancy"],
        tx.id,
        tx.date,
    )
    booked.businesses.append(tx["business"])
    return [business]


#: Every transaction type of the input format and the function that books it.
HANDLERS: Mapping[str, Handler] = {
    "register_entity": _register_entity,
    "register_units": _register_units,
    "acquisition": _acquisition,
    "sale": _sale,
    "bare_ownership_transfer": _bare_ownership_transfer,
    "usufruct_extinguished": _usufruct_extinguished,
    "usufruct_extension": _usufruct_extension,
    "register_business": _register_business,
    "divestment": _divestment,
    "merger": book_merger,
    "reversal": book_reversal,
    "group_entry": book_group_entry,
    "group_exit": book_group_exit,
    "share_transfer": book_share_transfer,
    "zoning_vintage": book_zoning_vintage,
}
