"""The `Unit` aggregate: a home, and who holds it, how and since when.

Its events are the only record of who held a unit: entering the ledger (opening
balance or acquisition), a sale, a bare-ownership transfer (usufruct kept), the
usufruct's extinction (Civil Code art. 617) or the extension of its term, rights passed
by a merger, a reversal. The law adds one change no event records: a temporary usufruct
ends at its term (arts. 617, 619), so every command judges the holding in law on its
date (`Unit.holding_on`), and an extinction recorded after the term confirms it.
Public commands check a rule and raise a `RuleViolation`; event `apply` methods only
assign state (they run again on every replay: no clock, no lookups, no rules there).
Every change a reversal may undo pushes the prior state on a stack, so a reversal
restores it exactly. Stored topics are pinned by `TOPIC`: never change them.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from eventsourcing.domain import Aggregate

from ledger.domain.holding import NOBODY, Holding
from ledger.domain.values import MAX_USUFRUCT_YEARS, add_years
from ledger.errors import RuleViolation

#: The fields version 2 of `Unit.Entered` and `Unit.Reentered` added, and what a version 1
#: state recorded for them: full ownership, no RPLS values.
ENTRY_V2_FIELDS: dict[str, Any] = {"bare_owner": None, "usufruct_end": None, "rpls": None}


def upcast_entry_v1_v2(state: dict[str, Any]) -> None:
    """A version 1 entry state as version 2 (the library calls it on read; the read
    side's fold reads both versions with the same defaults, `ENTRY_V2_FIELDS`)."""
    for name, value in ENTRY_V2_FIELDS.items():
        state.setdefault(name, value)


#: The fields version 2 of `Unit.Sold` added, and what a version 1 state recorded for
#: them: nothing (the unit's shares of the lot's price and net proceeds were not recorded).
SALE_V2_FIELDS: dict[str, Any] = {"price_eur": None, "net_proceeds_eur": None}


def upcast_sale_v1_v2(state: dict[str, Any]) -> None:
    """A version 1 sale state as version 2 (the library calls it on read; the read side's
    fold reads both versions with the same defaults, `SALE_V2_FIELDS`)."""
    for name, value in SALE_V2_FIELDS.items():
        state.setdefault(name, value)


class Unit(Aggregate):
    """A home. Its events are the only record of who held it, and how, when."""

    TOPIC = "ledger.domain:Unit"

    HELD, LEFT, VOID = "held", "left", "void"

    class Created(Aggregate.Created):
        """Defined by the library for every aggregate; never triggered here."""

        TOPIC = "ledger.domain:Unit.Created"

    class Entered(Aggregate.Created):
        """The unit entered the ledger held by `holder` (opening balance or acquisition;
        `mode` is `registration`, `vefa`, `new_build` or `existing`): in full ownership,
        or, for a registration with `bare_owner`, in usufruct until `usufruct_end` with
        the bare ownership (nue-propriété) held by `bare_owner` (Civil Code art. 578 and
        619). `rpls`: the RPLS values registered with the unit, as a compact JSON object.

        Version 2 added `bare_owner`, `usufruct_end` and `rpls`; a version 1 state is
        upcast with all three None (what it recorded: full ownership, no RPLS values)."""

        TOPIC = "ledger.domain:Unit.Entered"
        class_version = 2

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
        bare_owner: str | None = None
        usufruct_end: date | None = None
        rpls: str | None = None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            upcast_entry_v1_v2(state)

        def apply(self, aggregate: Unit) -> None:
            aggregate._enter(vars(self))

    class Reentered(Aggregate.Event):
        """The unit entered again after the transaction that first registered it was
        reversed (the fields of `Entered`; version 2 as `Entered`'s)."""

        TOPIC = "ledger.domain:Unit.Reentered"
        class_version = 2

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
        bare_owner: str | None = None
        usufruct_end: date | None = None
        rpls: str | None = None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            upcast_entry_v1_v2(state)

        def apply(self, aggregate: Unit) -> None:
            aggregate._enter(vars(self))

    class Sold(Aggregate.Event):
        """`seller` sold the unit; to `buyer` (a registered entity, in full ownership) or out
        of the ledger when `buyer` is None. `category` is the buyer category. `price_eur`
        and `net_proceeds_eur`: the unit's shares of the lot's price and net proceeds
        (`ledger.domain.values.split_cents`; None: the sale recorded no net proceeds).

        Version 2 added `price_eur` and `net_proceeds_eur`; a version 1 state is upcast
        with both None (what it recorded: no share; the lot's price is in the journal)."""

        TOPIC = "ledger.domain:Unit.Sold"
        class_version = 2

        seller: str
        buyer: str | None
        category: str
        transaction: str
        on: date
        price_eur: Decimal | None = None
        net_proceeds_eur: Decimal | None = None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            upcast_sale_v1_v2(state)

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
                usufruct_start=self.on,
            )

    class UsufructExtinguished(Aggregate.Event):
        """The usufruct ended: the bare owner became full owner (Civil Code art. 617).
        Dated after the usufruct's term, it records the end the law made at term (the
        bare owner has held in full ownership since the day after `usufruct_end`)."""

        TOPIC = "ledger.domain:Unit.UsufructExtinguished"

        usufructuary: str
        bare_owner: str
        transaction: str
        on: date

        def apply(self, aggregate: Unit) -> None:
            before = aggregate.holding
            aggregate._push(self.transaction, self.on)
            aggregate.holding = Holding(
                full_owner=self.bare_owner,
                ended_term=before.usufruct_end if before.ended_by_term(self.on) else None,
                former_usufructuary=self.usufructuary,
                extinguished_by=self.transaction,
                extinguished_on=self.on,
            )

    class UsufructExtended(Aggregate.Event):
        """The term of the usufruct was moved from `previous_end` to `usufruct_end` before
        it passed; a legal person's usufruct still lasts at most 30 years from its start
        (Civil Code art. 619)."""

        TOPIC = "ledger.domain:Unit.UsufructExtended"

        usufructuary: str
        bare_owner: str
        previous_end: date
        usufruct_end: date
        transaction: str
        on: date

        def apply(self, aggregate: Unit) -> None:
            before = aggregate.holding
            aggregate._push(self.transaction, self.on)
            aggregate.holding = Holding(
                usufructuary=before.usufructuary,
                bare_owner=before.bare_owner,
                usufruct_end=self.usufruct_end,
                usufruct_start=before.usufruct_start,
            )

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
            h = aggregate.holding
            end, start = (h.usufruct_end, h.usufruct_start) if self.usufructuary else (None, None)
            aggregate._push(self.transaction, self.on)
            aggregate.holding = Holding(
                self.full_owner, self.usufructuary, self.bare_owner, end, start
            )

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
        if entry["bare_owner"] is None:
            self.holding = Holding(full_owner=entry["holder"])
        else:  # as after `BareOwnershipTransferred`
            self.holding = Holding(
                usufructuary=entry["holder"],
                bare_owner=entry["bare_owner"],
                usufruct_end=entry["usufruct_end"],
                usufruct_start=entry["on"],
            )
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
            "rpls",
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
            changed_on: date | None = after[2]
            if changed_on is None:
                continue
            # In law on the change's date: an extinction recorded after the term gives
            # up nothing (the term did, and a term is no transaction).
            lost = set(before[1].on(changed_on).holders) - set(after[1].on(changed_on).holders)
            if lost & holders and changed_on > day:
                return changed_on
        return None

    def holding_on(self, day: date) -> Holding:
        """Who holds the unit in law on `day` (on or after its last transaction's date):
        after a usufruct's term, the bare owner in full ownership."""
        return self.holding.on(day) if self.status == Unit.HELD else NOBODY

    # -- commands -------------------------------------------------------------------
    def check_date(self, on: date) -> None:
        if self.last_date is not None and self.is_present and on < self.last_date:
            raise RuleViolation(
                "date_goes_back",
                f"unit {self.unit_id} was last touched on {self.last_date}, "
                f"by {self.last_transaction}; a later transaction cannot be dated {on}",
            )

    def _state(self, on: date) -> str:
        return (
            self.holding_on(on).describe() if self.status == Unit.HELD else "it has left the ledger"
        )

    def check_full_owner(self, entity: str, on: date) -> None:
        self.check_date(on)
        if self.status != Unit.HELD or self.holding_on(on).full_owner != entity:
            raise RuleViolation(
                "not_full_owner",
                f"unit {self.unit_id} is not held in full ownership by {entity} on {on} "
                f"({self._state(on)})",
            )

    def check_dismembered(self, on: date) -> None:
        """An extinction may be recorded: before the term it ends the usufruct early,
        after it it confirms the end at term (once: a second one is refused)."""
        self.check_date(on)
        h = self.holding
        if self.status == Unit.HELD and h.usufructuary is None and h.extinguished_by:
            raise RuleViolation(
                "usufruct_already_ended",
                f"unit {self.unit_id}: its usufruct already ended (extinction {h.extinguished_by} "
                f"recorded on {h.extinguished_on}); {self._state(on)}",
            )
        if self.status != Unit.HELD or h.usufructuary is None:
            raise RuleViolation(
                "not_dismembered",
                f"unit {self.unit_id} is not dismembered on {on} ({self._state(on)})",
            )

    def check_extension(self, usufruct_end: date, on: date) -> None:
        """The term of a usufruct not yet ended may move later, within 30 years of the
        usufruct's start (Civil Code art. 619)."""
        self.check_date(on)
        h = self.holding
        if self.status != Unit.HELD or h.usufructuary is None:
            raise RuleViolation(
                "not_dismembered",
                f"unit {self.unit_id} is not dismembered on {on} ({self._state(on)})",
            )
        assert h.usufruct_end is not None and h.usufruct_start is not None
        if on > h.usufruct_end:
            raise RuleViolation(
                "usufruct_ended_at_term",
                f"unit {self.unit_id}: its usufruct ended at term on {h.usufruct_end}; an "
                f"extension dated {on} comes too late (the bare owner holds in full ownership)",
            )
        if usufruct_end <= h.usufruct_end:
            raise RuleViolation(
                "extension_not_later",
                f"unit {self.unit_id}: usufruct_end {usufruct_end} is not after the current "
                f"term {h.usufruct_end}",
            )
        cap = add_years(h.usufruct_start, MAX_USUFRUCT_YEARS)
        if usufruct_end > cap:
            raise RuleViolation(
                "usufruct_term",
                f"unit {self.unit_id}: usufruct_end {usufruct_end} is more than "
                f"{MAX_USUFRUCT_YEARS} years after the usufruct began on {h.usufruct_start} "
                f"(at most {cap}): a legal person's usufruct cannot exceed 30 years "
                "(Civil Code art. 619)",
            )

    def reenter(self, **entry: Any) -> None:
        self.trigger_event(Unit.Reentered, **entry)

    def sell(
        self,
        seller: str,
        buyer: str | None,
        category: str,
        transaction: str,
        on: date,
        price_eur: Decimal | None = None,
        net_proceeds_eur: Decimal | None = None,
    ) -> None:
        """Sell the unit; `price_eur` and `net_proceeds_eur` are its shares of the lot's."""
        self.check_full_owner(seller, on)
        self.trigger_event(
            Unit.Sold,
            seller=seller,
            buyer=buyer,
            category=category,
            transaction=transaction,
            on=on,
            price_eur=price_eur,
            net_proceeds_eur=net_proceeds_eur,
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

    def extend_usufruct(self, usufruct_end: date, transaction: str, on: date) -> None:
        self.check_extension(usufruct_end, on)
        h = self.holding
        assert h.usufructuary and h.bare_owner and h.usufruct_end
        self.trigger_event(
            Unit.UsufructExtended,
            usufructuary=h.usufructuary,
            bare_owner=h.bare_owner,
            previous_end=h.usufruct_end,
            usufruct_end=usufruct_end,
            transaction=transaction,
            on=on,
        )

    def merge(self, absorbed: frozenset[str], into: str, transaction: str, on: date) -> None:
        """Pass every right held by an absorbed entity on `on` to `into` (consolidating if
        needed): after a usufruct's term, only the bare owner's full ownership moves."""
        self.check_date(on)
        fields = Unit.rights_merged(self.holding_on(on), absorbed, into, transaction, on)
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
