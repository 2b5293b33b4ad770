"""The `Entity` aggregate: a holder (subsidiary, HLM body, pension fund...), active
until a merger absorbs it into another, and its membership of the group (the perimeter
of the consolidated figures): whether it is a member and which member holds its shares.

Public commands check a rule and raise a `RuleViolation`; event `apply` methods only
assign state. Stored topics are pinned by `TOPIC`: never change them.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from eventsourcing.domain import Aggregate

from ledger.domain.values import default_member
from ledger.errors import RuleViolation

#: The fields version 2 of `Registered` and `Reregistered` added: the registration's
#: membership of the group. A version 1 state reads with the default of its kind
#: (`default_member`: every kind of version 1 but `pension_fund` is in the group).
REGISTRATION_V2_FIELDS = ("group", "parent")


def upcast_registration_v1_v2(state: dict[str, Any]) -> None:
    """A version 1 registration state as version 2 (the library calls it on read; the
    read side's fold reads both versions with the same default)."""
    state.setdefault("group", default_member(state["kind"]))
    state.setdefault("parent", None)


class Entity(Aggregate):
    """A legal entity that can hold units and businesses, until a merger absorbs it."""

    TOPIC = "ledger.domain:Entity"

    ACTIVE, ABSORBED, VOID = "active", "absorbed", "void"

    class Created(Aggregate.Created):
        """Defined by the library for every aggregate; never triggered here."""

        TOPIC = "ledger.domain:Entity.Created"

    class Registered(Aggregate.Created):
        """The entity was registered (`kind` from the value list, `region` an INSEE code),
        a member of the group or not (`group`), its shares held by `parent` (a member).

        Version 2 added `group` and `parent`; a version 1 state is upcast with the
        default membership of its kind and no parent."""

        TOPIC = "ledger.domain:Entity.Registered"
        class_version = 2

        entity_id: str
        name: str
        kind: str
        region: str | None
        transaction: str
        on: date
        group: bool
        parent: str | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            upcast_registration_v1_v2(state)

        def apply(self, aggregate: Entity) -> None:
            aggregate._register(vars(self))

    class Reregistered(Aggregate.Event):
        """The entity was registered again after its first registration was reversed
        (version 2: with its membership, as `Registered`)."""

        TOPIC = "ledger.domain:Entity.Reregistered"
        class_version = 2

        entity_id: str
        name: str
        kind: str
        region: str | None
        transaction: str
        on: date
        group: bool
        parent: str | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            upcast_registration_v1_v2(state)

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

    class JoinedGroup(Aggregate.Event):
        """The entity, outside the group, joined it on `on`; `parent` (a member) holds its
        shares, or None when no member does (the group's head)."""

        TOPIC = "ledger.domain:Entity.JoinedGroup"

        parent: str | None
        transaction: str
        on: date

        def apply(self, aggregate: Entity) -> None:
            aggregate.stack.append((self.transaction, aggregate._state()))
            aggregate.member, aggregate.parent = True, self.parent
            aggregate.member_since = self.on

    class LeftGroup(Aggregate.Event):
        """The entity, a member, left the group on `on` (it holds what it held)."""

        TOPIC = "ledger.domain:Entity.LeftGroup"

        transaction: str
        on: date

        def apply(self, aggregate: Entity) -> None:
            aggregate.stack.append((self.transaction, aggregate._state()))
            aggregate.member, aggregate.parent, aggregate.member_since = False, None, None

    class SharesTransferred(Aggregate.Event):
        """The entity's shares passed on `on` to `parent`, another member: it stays a
        member and keeps what it holds (the In'li case of 2024-25)."""

        TOPIC = "ledger.domain:Entity.SharesTransferred"

        parent: str
        transaction: str
        on: date

        def apply(self, aggregate: Entity) -> None:
            aggregate.stack.append((self.transaction, aggregate._state()))
            aggregate.parent = self.parent

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
        self.member = False
        self.parent: str | None = None
        self.member_since: date | None = None

    def _register(self, r: dict[str, Any]) -> None:
        self.stack.append((r["transaction"], self._state()))
        self.status = Entity.ACTIVE
        self.name, self.kind, self.region = r["name"], r["kind"], r["region"]
        self.registered_on = r["on"]
        self.member, self.parent = r["group"], r["parent"]
        self.member_since = r["on"] if r["group"] else None

    #: What a reversal restores: the fields `_state` saves on the stack, in this order.
    STATE_FIELDS = (
        "status",
        "registered_on",
        "into",
        "name",
        "kind",
        "region",
        "member",
        "parent",
        "member_since",
    )

    def _state(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in Entity.STATE_FIELDS)

    def restore(self, prior: tuple[Any, ...]) -> None:
        for name, value in zip(Entity.STATE_FIELDS, prior, strict=True):
            setattr(self, name, value)

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

    def check_member_on(self, on: date, role: str) -> None:
        """The entity is a member of the group on `on` (as a parent must be)."""
        if not self.member or self.member_since is None:
            raise RuleViolation(
                "parent_not_member", f"{role} {self.entity_id} is not a member of the group"
            )
        if self.member_since > on:
            raise RuleViolation(
                "parent_not_member",
                f"{role} {self.entity_id} is a member of the group from {self.member_since}, "
                f"after {on}",
            )

    def check_can_join(self) -> None:
        if self.member:
            raise RuleViolation(
                "already_member", f"entity {self.entity_id} is already a member of the group"
            )

    def join_group(self, parent: str | None, transaction: str, on: date) -> None:
        self.check_can_join()
        self.trigger_event(Entity.JoinedGroup, parent=parent, transaction=transaction, on=on)

    def check_can_leave(self) -> None:
        if not self.member:
            raise RuleViolation(
                "not_member", f"entity {self.entity_id} is not a member of the group"
            )

    def leave_group(self, transaction: str, on: date) -> None:
        self.check_can_leave()
        self.trigger_event(Entity.LeftGroup, transaction=transaction, on=on)

    def check_shares_can_move(self, parent: str) -> None:
        if not self.member:
            raise RuleViolation(
                "not_member",
                f"entity {self.entity_id} is not a member of the group: its shares cannot "
                "move to a member (record its group_entry)",
            )
        if self.parent == parent:
            raise RuleViolation(
                "same_parent", f"the shares of {self.entity_id} are already held by {parent}"
            )

    def transfer_shares(self, parent: str, transaction: str, on: date) -> None:
        self.check_shares_can_move(parent)
        self.trigger_event(Entity.SharesTransferred, parent=parent, transaction=transaction, on=on)

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
