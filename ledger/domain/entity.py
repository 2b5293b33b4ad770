"""The `Entity` aggregate: a holder (subsidiary, HLM body, pension fund...), active
until a merger absorbs it into another.

Public commands check a rule and raise a `RuleViolation`; event `apply` methods only
assign state. Stored topics are pinned by `TOPIC`: never change them.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from eventsourcing.domain import Aggregate

from ledger.errors import RuleViolation


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
