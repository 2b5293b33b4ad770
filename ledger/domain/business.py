"""The `Business` aggregate: a business line of an entity, until divested (the
competitive-sector businesses sold with no redundancy) or moved by a merger.

Public commands check a rule and raise a `RuleViolation`; event `apply` methods only
assign state. Stored topics are pinned by `TOPIC`: never change them.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from eventsourcing.domain import Aggregate

from ledger.errors import RuleViolation


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
