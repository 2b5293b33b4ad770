"""Booking: apply parsed transactions to the aggregates they touch, enforcing every rule.

A `Book` is the unit of work of one import. It loads the aggregates a file names (in
bulk, once), applies each transaction in file order, and collects the new events of each
transaction in order, the `RecordedTransaction` event last (its position is the
transaction's journal position). A handler first checks every rule of its transaction and
only then changes aggregates, so a rejected line leaves the book as it was and the
following lines are validated against the ledger plus the earlier *valid* lines.

A new unit and each journal entry are made directly in stored form (`ledger.created`),
rebuilt as an aggregate (by the library's mapper) only if a later line asks for it.

Nothing here writes: the application stores the collected events in one database
transaction once the whole file is valid.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Mapper, StoredEvent

from ledger.created import created
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
from ledger.entries import EnteredUnit, unit_entry
from ledger.errors import RuleViolation
from ledger.ports import Expectations, LedgerIndex
from ledger.transactions import Transaction, UnitSpec, parse_transaction
from ledger.values import MAX_USUFRUCT_YEARS, Consideration, EntryMode, add_years

Loader = Callable[[Iterable[UUID]], dict[UUID, Aggregate]]
Touched = list[Aggregate | StoredEvent]  # what a handler changed: aggregates, new stored events
ALREADY_RECORDED = "already_recorded"


@dataclass
class _Booked:
    """What a transaction of this import touched (for reversals later in the same file)."""

    tx: Transaction
    units: list[str] = field(default_factory=list)
    businesses: list[str] = field(default_factory=list)
    reversed: bool = False


class Book:
    def __init__(self, index: LedgerIndex, loader: Loader, mapper: Mapper[UUID]) -> None:
        self.index = index
        self.loader = loader
        self.mapper = mapper
        # An aggregate created by this import is held as its stored event until asked for.
        self.aggregates: dict[UUID, Aggregate | StoredEvent | None] = {}
        self.entered_by: dict[str, dict[UUID, None]] = {}  # units of `entries`, by holder
        self.versions_read: dict[UUID, int] = {}
        self.labels: dict[UUID, str] = {}
        self.booked: dict[str, _Booked] = {}
        self.named: dict[str, list[str]] = {}
        self.rpls: dict[str, str] = {}
        self.rpls_indexed: dict[str, str | None] = {}
        self.reversed_here: set[str] = set()
        self.touched: dict[UUID, Aggregate] = {}
        self.has_merger = False
        # The units entered by this import and held as their stored events only.
        self.entries: dict[UUID, EnteredUnit] = {}

    # -- loading -------------------------------------------------------------------
    def prefetch(self, transactions: Iterable[Transaction]) -> None:
        """Load every aggregate the transactions name, in one bulk read."""
        labels = self.labels
        rpls: list[str] = []
        for tx in transactions:
            labels[transaction_key(tx.id)] = f"transaction {tx.id}"
            labels.update((entity_key(e), f"entity {e}") for e in _named_entities(tx))
            labels.update((unit_key(u), f"unit {u}") for u in _named_units(tx))
            if tx.fields.get("business"):
                labels[business_key(tx["business"])] = f"business {tx['business']}"
            if tx.type == "reversal":
                labels[transaction_key(tx["reverses"])] = f"transaction {tx['reverses']}"
            rpls.extend(u.rpls_id for u in tx.fields.get("units") or () if _has_rpls(u))
        self._load(list(labels))
        self._index_rpls(rpls)

    def _load(self, keys: Iterable[UUID]) -> None:
        missing = [k for k in keys if k not in self.aggregates]
        if not missing:
            return
        found = self.loader(missing)
        for key in missing:
            agg = found.get(key)
            self.aggregates[key] = agg
            self.versions_read[key] = agg.version if agg is not None else 0

    def _index_rpls(self, rpls_ids: Iterable[str]) -> None:
        """Ask the index which unit uses each rpls id once per id (the file's at prefetch)."""
        missing = [r for r in dict.fromkeys(rpls_ids) if r not in self.rpls_indexed]
        if missing:
            found = self.index.rpls_in_use(missing)
            self.rpls_indexed.update((r, found.get(r)) for r in missing)

    def rpls_holder(self, rpls_id: str) -> str | None:
        """The unit last given this rpls id: by this import, else in the ledger."""
        if rpls_id in self.rpls:
            return self.rpls[rpls_id]
        self._index_rpls([rpls_id])
        return self.rpls_indexed[rpls_id]

    def _get(self, key: UUID) -> Any:
        if key not in self.aggregates:
            self._load([key])
        found = self.aggregates[key]
        if isinstance(found, StoredEvent):
            entry = self.entries.pop(key, None)
            if entry is not None:
                found = entry.aggregate(key)
                del self.entered_by[entry.holder][key]
            else:
                created_event: Any = self.mapper.to_domain_event(found)
                found = created_event.mutate(None)
            self.aggregates[key] = found
            self.touched[key] = found
        return found

    def entered_units(self, holders: Iterable[str]) -> list[tuple[UUID, EnteredUnit]]:
        """The units of `entries` held by `holders` (in full ownership)."""
        keys = [k for holder in set(holders) for k in self.entered_by.get(holder, ())]
        return [(k, self.entries[k]) for k in keys]

    def move_entered(self, key: UUID, into: str) -> None:
        """Note that the unit `key` of `entries` is now held by `into`."""
        del self.entered_by[self.entries[key].holder][key]
        self.entered_by.setdefault(into, {})[key] = None

    def expectations(self, head: int) -> Expectations:
        merger = head if self.has_merger else None
        return Expectations(dict(self.versions_read), merger, self.labels, read_at=head)

    # -- booking -------------------------------------------------------------------
    def apply(self, tx: Transaction) -> list[StoredEvent] | str:
        """Book one transaction: its new events in stored form, in order, or
        ALREADY_RECORDED."""
        recorded: RecordedTransaction | None = self._get(transaction_key(tx.id))
        if recorded is not None:
            if recorded.content_hash == tx.content_hash:
                return ALREADY_RECORDED
            raise RuleViolation(
                "duplicate_id",
                f"transaction id {tx.id} is already recorded with different content",
            )
        booked = _Booked(tx)
        touched = HANDLERS[tx.type](self, tx, booked)
        journal_entry = created(
            self.mapper,
            RecordedTransaction,
            RecordedTransaction.Recorded,
            transaction_key(tx.id),
            transaction_id=tx.id,
            type=tx.type,
            on=tx.date,
            content=tx.content_json,
            content_hash=tx.content_hash,
        )
        self.aggregates[journal_entry.originator_id] = journal_entry  # type: ignore[index]
        self.booked[tx.id] = booked
        for entity in _named_entities(tx):
            self.named.setdefault(entity, []).append(tx.id)
        events: list[StoredEvent] = []
        for agg in touched:
            if isinstance(agg, StoredEvent):
                events.append(agg)
            else:
                events.extend(map(self.mapper.to_stored_event, agg.collect_events()))
                self.touched[agg.id] = agg
        events.append(journal_entry)
        return events

    # -- shared checks -------------------------------------------------------------
    def entity(self, entity_id: str, on: date, role: str, named: bool = True) -> Entity:
        entity: Entity | None = self._get(entity_key(entity_id))
        if entity is None:
            raise RuleViolation("unknown_entity", f"{role} {entity_id} is not a registered entity")
        entity.check_active(on, role)
        if named:
            entity.check_merger_date(on)
        return entity

    def unit(self, unit_id: str) -> Unit:
        unit: Unit | None = self._get(unit_key(unit_id))
        if unit is None or not unit.is_present:
            raise RuleViolation("unknown_unit", f"unit {unit_id} is not in the ledger")
        return unit

    def business(self, business_id: str) -> Business:
        business: Business | None = self._get(business_key(business_id))
        if business is None or business.status == Business.VOID:
            raise RuleViolation("unknown_business", f"business {business_id} is not registered")
        return business


# --- handlers: check everything, then change aggregates; return touched aggregates ----


def _register_entity(book: Book, tx: Transaction, booked: _Booked) -> list[Aggregate]:
    entity: Entity | None = book._get(entity_key(tx["entity"]))
    if entity is not None and entity.status != Entity.VOID:
        raise RuleViolation("entity_exists", f"entity {tx['entity']} is already registered")
    registration = dict(
        name=tx["name"], kind=str(tx["kind"]), region=tx["region"], transaction=tx.id, on=tx.date
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


def _enter_units(book: Book, tx: Transaction, booked: _Booked, mode: str) -> Touched:
    book.entity(tx["entity"], tx.date, "entity")
    units: Sequence[UnitSpec] = tx["units"]
    _check_new_units(book, units, tx)
    touched: Touched = []
    for spec in units:
        entry = unit_entry(spec, tx, mode)
        key = unit_key(spec.unit_id)
        unit: Unit | None = book._get(key)
        if unit is None:
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


def _register_units(book: Book, tx: Transaction, booked: _Booked) -> Touched:
    return _enter_units(book, tx, booked, EntryMode.REGISTRATION.value)


def _acquisition(book: Book, tx: Transaction, booked: _Booked) -> Touched:
    return _enter_units(book, tx, booked, str(tx["mode"]))


def _sale(book: Book, tx: Transaction, booked: _Booked) -> list[Aggregate]:
    seller = tx["entity"]
    book.entity(seller, tx.date, "seller")
    buyer = tx["buyer"]
    if buyer["category"] == "sitting_tenant" and len(tx["units"]) != 1:
        raise RuleViolation(
            "sitting_tenant_single_unit",
            f"a sale to a sitting tenant is of exactly one unit, not {len(tx['units'])}",
        )
    if buyer["entity"] is not None:
        if buyer["entity"] == seller:
            raise RuleViolation("buyer_is_seller", f"buyer.entity {seller} is the seller")
        book.entity(buyer["entity"], tx.date, "buyer.entity")
    units = [book.unit(u) for u in tx["units"]]
    for unit in units:
        unit.check_full_owner(seller, tx.date)
    for unit in units:
        unit.sell(seller, buyer["entity"], str(buyer["category"]), tx.id, tx.date)
    booked.units.extend(tx["units"])
    return list(units)


def _bare_ownership_transfer(book: Book, tx: Transaction, booked: _Booked) -> list[Aggregate]:
    transferor, bare_owner, end = tx["entity"], tx["bare_owner"], tx["usufruct_end"]
    book.entity(transferor, tx.date, "entity")
    if bare_owner == transferor:
        raise RuleViolation(
            "bare_owner_is_transferor", f"bare_owner {bare_owner} is the transferor"
        )
    book.entity(bare_owner, tx.date, "bare_owner")
    if not tx.date < end <= add_years(tx.date, MAX_USUFRUCT_YEARS):
        raise RuleViolation(
            "usufruct_term",
            f"usufruct_end {end} must be after {tx.date} and at most {MAX_USUFRUCT_YEARS} years "
            f"later ({add_years(tx.date, MAX_USUFRUCT_YEARS)}): a legal person's usufruct "
            "cannot exceed 30 years (Civil Code art. 619)",
        )
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


def _usufruct_extinguished(book: Book, tx: Transaction, booked: _Booked) -> list[Aggregate]:
    units = [book.unit(u) for u in tx["units"]]
    for unit in units:
        unit.check_dismembered(tx.date)
        for holder in unit.holding.holders:
            book.entity(holder, tx.date, "holder", named=False)
    for unit in units:
        unit.extinguish_usufruct(tx.id, tx.date)
    booked.units.extend(tx["units"])
    return list(units)


def _register_business(book: Book, tx: Transaction, booked: _Booked) -> list[Aggregate]:
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


def _divestment(book: Book, tx: Transaction, booked: _Booked) -> list[Aggregate]:
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


Handler = Callable[[Book, Transaction, _Booked], Sequence[Aggregate | StoredEvent]]
HANDLERS: dict[str, Handler] = {
    "register_entity": _register_entity,
    "register_units": _register_units,
    "acquisition": _acquisition,
    "sale": _sale,
    "bare_ownership_transfer": _bare_ownership_transfer,
    "usufruct_extinguished": _usufruct_extinguished,
    "register_business": _register_business,
    "divestment": _divestment,
}


def _named_entities(tx: Transaction) -> list[str]:
    """Every entity id named in any field of the transaction."""
    f = tx.fields
    names = [f.get("entity"), f.get("bare_owner"), f.get("into")]
    names.extend(f.get("absorbed") or ())
    buyer = f.get("buyer")
    if isinstance(buyer, dict):
        names.append(buyer.get("entity"))
    return [n for n in names if n]


def _has_rpls(unit: Any) -> bool:
    return isinstance(unit, UnitSpec) and bool(unit.rpls_id)


def _named_units(tx: Transaction) -> list[str]:
    units = tx.fields.get("units") or ()
    return [u.unit_id if isinstance(u, UnitSpec) else u for u in units]


def reparse(recorded: RecordedTransaction) -> Transaction:
    """The parsed form of a recorded transaction (its content is valid by construction)."""
    import json

    return parse_transaction(json.loads(recorded.content))
