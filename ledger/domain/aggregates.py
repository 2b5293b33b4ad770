"""Aggregates of the write side and the events they record: the legal record.

Four aggregates, each with a deterministic id (uuid5 of its natural key), so the same
unit, entity, business or transaction can never be created twice:

- `Unit`: who holds a home, and how (full ownership, or usufruct + bare ownership).
- `Entity`: a holder (subsidiary, pension fund...), active until absorbed by a merger.
- `Business`: a business line, until divested.
- `RecordedTransaction`: the transaction itself as it was filed (the journal entry).

Public commands check a rule and raise a `RuleViolation`; event `apply` methods only
assign state (they run again on every replay: no clock, no lookups, no rules there).
Every change that a reversal may undo pushes the prior state on a stack, so a reversal
restores it exactly. Event and class names are stored as topics: never rename them.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from eventsourcing.domain import Aggregate

from ledger.domain.holding import NOBODY, Holding
from ledger.domain.keys import business_key, entity_key, transaction_key, unit_key
from ledger.errors import RuleViolation

__all__ = [
    "Business",
    "Entity",
    "Holding",
    "RecordedTransaction",
    "Unit",
    "business_key",
    "entity_key",
    "transaction_key",
    "unit_key",
]


class Unit(Aggregate):
    """A home. Its events are the only record of who held it, and how, when."""

    TOPIC = "ledger.domain:Unit"

    HELD, LEFT, VOID = "held", "left", "void"

    class Created(Aggregate.Created):
        """Defined by the library for every aggregate; never triggered here."""

        TOPIC = "ledger.domain:Unit.Created"

    class Entered(Aggregate.Created):
        """The unit entered the ledger in full ownership of `holder` (opening balance or
        acquisition; `mode` is `registration`, `vefa`, `new_build` or `existing`)."""

        TOPIC = "ledger.domain:Unit.Entered"

        unit_id: str
        holder: str
        mode: str
        commune: str
        zone: str
        segment: str
        financing: str | None
        rooms: int | None
        surface_m2: Decimal | None
        year_built: int | None
        rpls_id: str | None
        transaction: str
        on: date

        def apply(self, aggregate: Unit) -> None:
            aggregate._enter(vars(self))

    class Reentered(Aggregate.Event):
        """The unit entered again after the transaction that first registered it was reversed."""

        TOPIC = "ledger.domain:Unit.Reentered"

        unit_id: str
        holder: str
        mode: str
        commune: str
        zone: str
        segment: str
        financing: str | None
        rooms: int | None
        surface_m2: Decimal | None
        year_built: int | None
        rpls_id: str | None
        transaction: str
        on: date

        def apply(self, aggregate: Unit) -> None:
            aggregate._enter(vars(self))

    class Sold(Aggregate.Event):
        """`seller` sold the unit; to `buyer` (a registered entity, in full ownership) or out
        of the ledger when `buyer` is None. `category` is the buyer category."""

        TOPIC = "ledger.domain:Unit.Sold"

        seller: str
        buyer: str | None
        category: str
        transaction: str
        on: date

        def apply(self, aggregate: Unit) -> None:
            aggregate._push(self.transaction, self.on)
            if self.buyer is None:
                aggregate.status, aggregate.holding = Unit.LEFT, NOBODY
            else:
                aggregate.holding = Holding(full_owner=self.buyer)

    class BareOwnershipTransferred(Aggregate.Event):
        """The full owner kept the usufruct until `usufruct_end` and transferred the bare
        ownership (nue-propriété) to `bare_owner` (Civil Code art. 578 and 619)."""

        TOPIC = "ledger.domain:Unit.BareOwnershipTransferred"

        usufructuary: str
        bare_owner: str
        usufruct_end: date
        transaction: str
        on: date

        def apply(self, aggregate: Unit) -> None:
            aggregate._push(self.transaction, self.on)
            aggregate.holding = Holding(
                usufructuary=self.usufructuary,
                bare_owner=self.bare_owner,
                usufruct_end=self.usufruct_end,
            )

    class UsufructExtinguished(Aggregate.Event):
        """The usufruct ended: the bare owner became full owner (Civil Code art. 617)."""

        TOPIC = "ledger.domain:Unit.UsufructExtinguished"

        usufructuary: str
        bare_owner: str
        transaction: str
        on: date

        def apply(self, aggregate: Unit) -> None:
            aggregate._push(self.transaction, self.on)
            aggregate.holding = Holding(full_owner=self.bare_owner)

    class RightsMerged(Aggregate.Event):
        """A merger passed the absorbed entities' rights to `into`; the resulting holders are
        given; `consolidated` when usufruct and bare ownership met in `into` (art. 617)."""

        TOPIC = "ledger.domain:Unit.RightsMerged"

        into: str
        full_owner: str | None
        usufructuary: str | None
        bare_owner: str | None
        consolidated: bool
        transaction: str
        on: date

        def apply(self, aggregate: Unit) -> None:
            end = aggregate.holding.usufruct_end if self.usufructuary else None
            aggregate._push(self.transaction, self.on)
            aggregate.holding = Holding(self.full_owner, self.usufructuary, self.bare_owner, end)

    class Reversed(Aggregate.Event):
        """Transaction `reverses` was voided by reversal `reversal`: the prior state is back."""

        TOPIC = "ledger.domain:Unit.Reversed"

        reverses: str
        reversal: str
        on: date

        def apply(self, aggregate: Any) -> None:
            _, prior = aggregate.stack.pop()
            aggregate.restore(prior)

    def __init__(self, unit_id: str) -> None:
        self.unit_id = unit_id
        self.status = Unit.VOID
        self.holding = NOBODY
        self.attributes: dict[str, Any] = {}
        self.last_date: date | None = None
        self.stack: list[tuple[str, tuple[Any, ...]]] = []

    def restore(self, prior: tuple[Any, ...]) -> None:
        self.status, self.holding, self.last_date, self.attributes = prior

    # -- state changes (called by event apply methods only) --------------------------
    def _push(self, transaction: str, on: date) -> None:
        self.stack.append(
            (transaction, (self.status, self.holding, self.last_date, self.attributes))
        )
        self.last_date = on

    def _enter(self, entry: dict[str, Any]) -> None:
        self._push(entry["transaction"], entry["on"])
        self.status = Unit.HELD
        self.holding = Holding(full_owner=entry["holder"])
        keys = (
            "mode",
            "commune",
            "zone",
            "segment",
            "financing",
            "rooms",
            "surface_m2",
            "year_built",
            "rpls_id",
        )
        self.attributes = {k: entry[k] for k in keys}

    # -- queries --------------------------------------------------------------------
    @property
    def is_present(self) -> bool:
        """Registered and not voided by a reversal (held, or left by a sale)."""
        return self.status != Unit.VOID

    @property
    def last_transaction(self) -> str | None:
        return self.stack[-1][0] if self.stack else None

    def released_after(self, holders: frozenset[str], day: date) -> date | None:
        """The date, after `day`, on which one of `holders` gave up a right in the unit."""
        states = [prior for _, prior in self.stack[1:]] + [
            (self.status, self.holding, self.last_date, self.attributes)
        ]
        for before, after in zip(states, states[1:], strict=False):
            lost = set(before[1].holders) - set(after[1].holders)
            changed_on: date | None = after[2]
            if lost & holders and changed_on is not None and changed_on > day:
                return changed_on
        return None

    # -- commands -------------------------------------------------------------------
    def check_date(self, on: date) -> None:
        if self.last_date is not None and self.is_present and on < self.last_date:
            raise RuleViolation(
                "date_goes_back",
                f"unit {self.unit_id} was last touched on {self.last_date}, "
                f"by {self.last_transaction}; a later transaction cannot be dated {on}",
            )

    def check_full_owner(self, entity: str, on: date) -> None:
        self.check_date(on)
        if self.status != Unit.HELD or self.holding.full_owner != entity:
            state = (
                self.holding.describe() if self.status == Unit.HELD else "it has left the ledger"
            )
            raise RuleViolation(
                "not_full_owner",
                f"unit {self.unit_id} is not held in full ownership by {entity} on {on} ({state})",
            )

    def check_dismembered(self, on: date) -> None:
        self.check_date(on)
        if self.status != Unit.HELD or self.holding.usufructuary is None:
            state = (
                self.holding.describe() if self.status == Unit.HELD else "it has left the ledger"
            )
            raise RuleViolation(
                "not_dismembered", f"unit {self.unit_id} is not dismembered on {on} ({state})"
            )

    def reenter(self, **entry: Any) -> None:
        self.trigger_event(Unit.Reentered, **entry)

    def sell(
        self, seller: str, buyer: str | None, category: str, transaction: str, on: date
    ) -> None:
        self.check_full_owner(seller, on)
        self.trigger_event(
            Unit.Sold, seller=seller, buyer=buyer, category=category, transaction=transaction, on=on
        )

    def transfer_bare_ownership(
        self, transferor: str, bare_owner: str, usufruct_end: date, transaction: str, on: date
    ) -> None:
        self.check_full_owner(transferor, on)
        self.trigger_event(
            Unit.BareOwnershipTransferred,
            usufructuary=transferor,
            bare_owner=bare_owner,
            usufruct_end=usufruct_end,
            transaction=transaction,
            on=on,
        )

    def extinguish_usufruct(self, transaction: str, on: date) -> None:
        self.check_dismembered(on)
        assert self.holding.usufructuary and self.holding.bare_owner
        self.trigger_event(
            Unit.UsufructExtinguished,
            usufructuary=self.holding.usufructuary,
            bare_owner=self.holding.bare_owner,
            transaction=transaction,
            on=on,
        )

    def merge(self, absorbed: frozenset[str], into: str, transaction: str, on: date) -> None:
        """Pass every right held by an absorbed entity to `into` (consolidating if needed)."""
        self.check_date(on)
        fields = Unit.rights_merged(self.holding, absorbed, into, transaction, on)
        self.trigger_event(Unit.RightsMerged, **fields)

    @staticmethod
    def rights_merged(
        holding: Holding, absorbed: frozenset[str], into: str, transaction: str, on: date
    ) -> dict[str, Any]:
        """The fields of the `RightsMerged` event of a unit held as `holding` when a merger
        passes every right of the `absorbed` entities to `into`: usufruct and bare
        ownership that meet in one holder become full ownership (Civil Code art. 617).
        The one statement of the rule: `merge` and the import's stored-form fast path
        (`ledger.booking.entries.merge_fields`) both take the event's fields from here."""

        def move(holder: str | None) -> str | None:
            return into if holder in absorbed else holder

        h = holding
        full, usu, bare = move(h.full_owner), move(h.usufructuary), move(h.bare_owner)
        consolidated = usu is not None and usu == bare
        if consolidated:
            full, usu, bare = usu, None, None
        return dict(
            into=into,
            full_owner=full,
            usufructuary=usu,
            bare_owner=bare,
            consolidated=consolidated,
            transaction=transaction,
            on=on,
        )

    def check_reversible(self, transaction: str) -> None:
        if self.last_transaction != transaction:
            raise RuleViolation(
                "reversal_blocked",
                f"unit {self.unit_id} was touched after {transaction} by {self.last_transaction}",
            )

    def reverse(self, reverses: str, reversal: str, on: date) -> None:
        self.check_reversible(reverses)
        self.trigger_event(Unit.Reversed, reverses=reverses, reversal=reversal, on=on)


class Entity(Aggregate):
    """A legal entity that can hold units and businesses, until a merger absorbs it."""

    TOPIC = "ledger.domain:Entity"

    ACTIVE, ABSORBED, VOID = "active", "absorbed", "void"

    class Created(Aggregate.Created):
        """Defined by the library for every aggregate; never triggered here."""

        TOPIC = "ledger.domain:Entity.Created"

    class Registered(Aggregate.Created):
        """The entity was registered (`kind` from the value list, `region` an INSEE code)."""

        TOPIC = "ledger.domain:Entity.Registered"

        entity_id: str
        name: str
        kind: str
        region: str | None
        transaction: str
        on: date

        def apply(self, aggregate: Entity) -> None:
            aggregate._register(vars(self))

    class Reregistered(Aggregate.Event):
        """The entity was registered again after its first registration was reversed."""

        TOPIC = "ledger.domain:Entity.Reregistered"

        entity_id: str
        name: str
        kind: str
        region: str | None
        transaction: str
        on: date

        def apply(self, aggregate: Entity) -> None:
            aggregate._register(vars(self))

    class Absorbed(Aggregate.Event):
        """A merger absorbed the entity into `into`; it is inactive from then on."""

        TOPIC = "ledger.domain:Entity.Absorbed"

        into: str
        transaction: str
        on: date

        def apply(self, aggregate: Entity) -> None:
            aggregate.stack.append((self.transaction, aggregate._state()))
            aggregate.status, aggregate.into = Entity.ABSORBED, self.into
            aggregate.mergers[self.transaction] = self.on

    class Absorbing(Aggregate.Event):
        """A merger passed other entities' rights and businesses to this entity."""

        TOPIC = "ledger.domain:Entity.Absorbing"

        transaction: str
        on: date

        def apply(self, aggregate: Entity) -> None:
            # Not pushed on the reversal stack: `into` keeps its status; reversing the
            # merger only forgets its date (MergerReversed).
            aggregate.mergers[self.transaction] = self.on

    class MergerReversed(Aggregate.Event):
        """A merger that passed rights to this entity was reversed."""

        TOPIC = "ledger.domain:Entity.MergerReversed"

        reverses: str
        reversal: str
        on: date

        def apply(self, aggregate: Entity) -> None:
            aggregate.mergers.pop(self.reverses, None)

    class Reversed(Aggregate.Event):
        """Transaction `reverses` was voided: the entity is back in its prior state."""

        TOPIC = "ledger.domain:Entity.Reversed"

        reverses: str
        reversal: str
        on: date

        def apply(self, aggregate: Entity) -> None:
            _, prior = aggregate.stack.pop()
            aggregate.restore(prior)
            aggregate.mergers.pop(self.reverses, None)

    def __init__(self, entity_id: str) -> None:
        self.entity_id = entity_id
        self.stack: list[tuple[str, tuple[Any, ...]]] = []
        self.status = Entity.VOID
        self.registered_on: date | None = None
        self.mergers: dict[str, date] = {}
        self.into: str | None = None
        self.name, self.kind, self.region = "", "", None

    def _register(self, r: dict[str, Any]) -> None:
        self.stack.append((r["transaction"], self._state()))
        self.status = Entity.ACTIVE
        self.name, self.kind, self.region = r["name"], r["kind"], r["region"]
        self.registered_on = r["on"]

    def _state(self) -> tuple[Any, ...]:
        return (self.status, self.registered_on, self.into, self.name, self.kind, self.region)

    def restore(self, prior: tuple[Any, ...]) -> None:
        (self.status, self.registered_on, self.into, self.name, self.kind, self.region) = prior

    @property
    def last_merger_date(self) -> date | None:
        """The date of the latest merger (not reversed) that named this entity."""
        return max(self.mergers.values()) if self.mergers else None

    @property
    def last_transaction(self) -> str | None:
        return self.stack[-1][0] if self.stack else None

    def check_active(self, on: date, role: str) -> None:
        if self.status == Entity.VOID:
            raise RuleViolation(
                "unknown_entity", f"{role} {self.entity_id} is not a registered entity"
            )
        if self.status == Entity.ABSORBED:
            raise RuleViolation(
                "inactive_entity",
                f"{role} {self.entity_id} was absorbed by {self.into} and is no longer active",
            )
        assert self.registered_on is not None
        if self.registered_on > on:
            raise RuleViolation(
                "entity_not_yet_registered",
                f"{role} {self.entity_id} is registered from {self.registered_on}, after {on}",
            )

    def check_merger_date(self, on: date) -> None:
        if self.last_merger_date is not None and on < self.last_merger_date:
            raise RuleViolation(
                "date_goes_back",
                f"entity {self.entity_id} was named by a merger on {self.last_merger_date}; "
                f"a later transaction naming it cannot be dated {on}",
            )

    def reregister(self, **registration: Any) -> None:
        self.trigger_event(Entity.Reregistered, **registration)

    def absorb_into(self, into: str, transaction: str, on: date) -> None:
        self.trigger_event(Entity.Absorbed, into=into, transaction=transaction, on=on)

    def absorbing(self, transaction: str, on: date) -> None:
        self.trigger_event(Entity.Absorbing, transaction=transaction, on=on)

    def forget_merger(self, reverses: str, reversal: str, on: date) -> None:
        self.trigger_event(Entity.MergerReversed, reverses=reverses, reversal=reversal, on=on)

    def reverse(self, reverses: str, reversal: str, on: date) -> None:
        if self.last_transaction != reverses:
            raise RuleViolation(
                "reversal_blocked",
                f"entity {self.entity_id} was changed after {reverses} by {self.last_transaction}",
            )
        self.trigger_event(Entity.Reversed, reverses=reverses, reversal=reversal, on=on)


class Business(Aggregate):
    """A business line (e.g. property management) held by an entity until divested."""

    TOPIC = "ledger.domain:Business"

    HELD, DIVESTED, VOID = "held", "divested", "void"

    class Created(Aggregate.Created):
        """Defined by the library for every aggregate; never triggered here."""

        TOPIC = "ledger.domain:Business.Created"

    class Registered(Aggregate.Created):
        """The business line was registered, held by `owner`, with `headcount` staff."""

        TOPIC = "ledger.domain:Business.Registered"

        business_id: str
        owner: str
        name: str
        sector: str
        headcount: int
        transaction: str
        on: date

        def apply(self, aggregate: Business) -> None:
            aggregate._register(vars(self))

    class Reregistered(Aggregate.Event):
        """The business was registered again after its first registration was reversed."""

        TOPIC = "ledger.domain:Business.Reregistered"

        business_id: str
        owner: str
        name: str
        sector: str
        headcount: int
        transaction: str
        on: date

        def apply(self, aggregate: Business) -> None:
            aggregate._register(vars(self))

    class Divested(Aggregate.Event):
        """The whole business was sold to `buyer`, `employees_transferred` staff with it."""

        TOPIC = "ledger.domain:Business.Divested"

        seller: str
        buyer: str
        price_eur: Decimal
        employees_transferred: int
        no_redundancy: bool
        transaction: str
        on: date

        def apply(self, aggregate: Business) -> None:
            aggregate.stack.append((self.transaction, aggregate._state()))
            aggregate.status, aggregate.last_date = Business.DIVESTED, self.on

    class Moved(Aggregate.Event):
        """A merger passed the business from an absorbed entity to `into`."""

        TOPIC = "ledger.domain:Business.Moved"

        into: str
        transaction: str
        on: date

        def apply(self, aggregate: Business) -> None:
            aggregate.stack.append((self.transaction, aggregate._state()))
            aggregate.owner, aggregate.last_date = self.into, self.on

    class Reversed(Aggregate.Event):
        """Transaction `reverses` was voided: the business is back in its prior state."""

        TOPIC = "ledger.domain:Business.Reversed"

        reverses: str
        reversal: str
        on: date

        def apply(self, aggregate: Any) -> None:
            _, prior = aggregate.stack.pop()
            aggregate.restore(prior)

    def __init__(self, business_id: str) -> None:
        self.business_id = business_id
        self.stack: list[tuple[str, tuple[Any, ...]]] = []
        self.status = Business.VOID
        self.owner: str | None = None
        self.name, self.sector, self.headcount = "", "", 0
        self.last_date: date | None = None

    def _state(self) -> tuple[Any, ...]:
        return (self.status, self.owner, self.name, self.sector, self.headcount, self.last_date)

    def restore(self, prior: tuple[Any, ...]) -> None:
        (self.status, self.owner, self.name, self.sector, self.headcount, self.last_date) = prior

    def _register(self, r: dict[str, Any]) -> None:
        self.stack.append((r["transaction"], self._state()))
        self.status, self.owner = Business.HELD, r["owner"]
        self.name, self.sector, self.headcount = r["name"], r["sector"], r["headcount"]
        self.last_date = r["on"]

    @property
    def last_transaction(self) -> str | None:
        return self.stack[-1][0] if self.stack else None

    def check_date(self, on: date) -> None:
        if self.last_date is not None and self.status != Business.VOID and on < self.last_date:
            raise RuleViolation(
                "date_goes_back",
                f"business {self.business_id} was last touched on {self.last_date}, "
                f"by {self.last_transaction}; a later transaction cannot be dated {on}",
            )

    def reregister(self, **registration: Any) -> None:
        self.trigger_event(Business.Reregistered, **registration)

    def divest(
        self,
        seller: str,
        buyer: str,
        price_eur: Decimal,
        employees_transferred: int,
        no_redundancy: bool,
        transaction: str,
        on: date,
    ) -> None:
        self.check_date(on)
        if self.status != Business.HELD or self.owner != seller:
            state = (
                "it was already divested"
                if self.status == Business.DIVESTED
                else f"it is held by {self.owner}"
            )
            raise RuleViolation(
                "business_not_held",
                f"business {self.business_id} is not held by {seller} on {on} ({state})",
            )
        if employees_transferred > self.headcount:
            raise RuleViolation(
                "employees_exceed_headcount",
                f"employees_transferred {employees_transferred} exceeds the headcount "
                f"{self.headcount} of business {self.business_id}",
            )
        self.trigger_event(
            Business.Divested,
            seller=seller,
            buyer=buyer,
            price_eur=price_eur,
            employees_transferred=employees_transferred,
            no_redundancy=no_redundancy,
            transaction=transaction,
            on=on,
        )

    def move(self, into: str, transaction: str, on: date) -> None:
        self.check_date(on)
        self.trigger_event(Business.Moved, into=into, transaction=transaction, on=on)

    def reverse(self, reverses: str, reversal: str, on: date) -> None:
        if self.last_transaction != reverses:
            raise RuleViolation(
                "reversal_blocked",
                f"business {self.business_id} was touched after {reverses} "
                f"by {self.last_transaction}",
            )
        self.trigger_event(Business.Reversed, reverses=reverses, reversal=reversal, on=on)


class RecordedTransaction(Aggregate):
    """A transaction as filed: the journal entry. Its id is uuid5 of the transaction id,
    so the same transaction can never be recorded twice."""

    TOPIC = "ledger.domain:RecordedTransaction"

    class Created(Aggregate.Created):
        """Defined by the library for every aggregate; never triggered here."""

        TOPIC = "ledger.domain:RecordedTransaction.Created"

    class Recorded(Aggregate.Created):
        """The transaction was recorded. `content` is the JSON object exactly as filed;
        `content_hash` is the SHA-256 of its canonical form (sorted keys)."""

        TOPIC = "ledger.domain:RecordedTransaction.Recorded"

        transaction_id: str
        type: str
        on: date
        content: str
        content_hash: str

    class Reversed(Aggregate.Event):
        """The transaction was voided by reversal `reversal` (it stays in the journal)."""

        TOPIC = "ledger.domain:RecordedTransaction.Reversed"

        transaction_id: str
        reversal: str
        on: date

        def apply(self, aggregate: RecordedTransaction) -> None:
            aggregate.reversed_by = self.reversal

    def __init__(
        self, transaction_id: str, type: str, on: date, content: str, content_hash: str
    ) -> None:
        self.transaction_id = transaction_id
        self.type = type
        self.on = on
        self.content = content
        self.content_hash = content_hash
        self.reversed_by: str | None = None

    def mark_reversed(self, reversal: str, on: date) -> None:
        self.trigger_event(
            RecordedTransaction.Reversed,
            transaction_id=self.transaction_id,
            reversal=reversal,
            on=on,
        )
