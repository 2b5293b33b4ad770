"""The `ZoningRegister` aggregate: which vintages of the A/B/C zoning the ledger holds.

A commune's zone is a fact as of a date: the class the zoning in force that day gives it
(docs/decisions/0010-zoning-vintages.md). Each vintage is recorded by a `zoning_vintage`
transaction whose journal entry holds the class of every commune (its content as filed);
this register keeps what the rules need to find the vintage in force on a date: each
vintage's effective date and the SHA-256 of its file. One register per zoning scheme
(`abc`), so every import that relies on the zoning reads its version, and a vintage
recorded meanwhile makes that import fail as a conflict instead of being missed.

Public commands check a rule and raise a `RuleViolation`; event `apply` methods only
assign state. Stored topics are pinned by `TOPIC`: never change them.
"""

from __future__ import annotations

from datetime import date

from eventsourcing.domain import Aggregate

from ledger.errors import RuleViolation


class ZoningRegister(Aggregate):
    """The vintages of one zoning scheme in force in the ledger (reversed ones leave it)."""

    TOPIC = "ledger.domain:ZoningRegister"

    class Created(Aggregate.Created):
        """Defined by the library for every aggregate; never triggered here."""

        TOPIC = "ledger.domain:ZoningRegister.Created"

    class Opened(Aggregate.Created):
        """The register of the zoning scheme `scheme` was opened (with its first vintage)."""

        TOPIC = "ledger.domain:ZoningRegister.Opened"

        scheme: str

    class VintageRecorded(Aggregate.Event):
        """The vintage recorded by transaction `transaction` is in force from `effective`
        until the next vintage's effective date."""

        TOPIC = "ledger.domain:ZoningRegister.VintageRecorded"

        transaction: str
        effective: date
        sha256: str
        communes: int

        def apply(self, aggregate: ZoningRegister) -> None:
            aggregate.vintages[self.transaction] = (self.effective, self.sha256)

    class VintageReversed(Aggregate.Event):
        """The vintage of transaction `transaction` was voided by reversal `reversal`."""

        TOPIC = "ledger.domain:ZoningRegister.VintageReversed"

        transaction: str
        reversal: str
        on: date

        def apply(self, aggregate: ZoningRegister) -> None:
            del aggregate.vintages[self.transaction]

    def __init__(self, scheme: str) -> None:
        self.scheme = scheme
        #: transaction id -> (effective date, SHA-256 of the file), the vintages in force.
        self.vintages: dict[str, tuple[date, str]] = {}

    def check_new(self, transaction: str, effective: date, sha256: str) -> None:
        """A vintage may not share its effective date or its file with one in force."""
        for other, (day, digest) in self.vintages.items():
            if day == effective:
                raise RuleViolation(
                    "zoning_date_taken",
                    f"zoning vintage {other} is already in force from {effective}: "
                    "reverse it before recording another vintage of that date",
                )
            if digest == sha256:
                raise RuleViolation(
                    "zoning_file_recorded",
                    f"this file (sha256 {sha256[:12]}...) is already recorded as zoning "
                    f"vintage {other}, effective {day}",
                )

    def record(self, transaction: str, effective: date, sha256: str, communes: int) -> None:
        self.check_new(transaction, effective, sha256)
        self.trigger_event(
            ZoningRegister.VintageRecorded,
            transaction=transaction,
            effective=effective,
            sha256=sha256,
            communes=communes,
        )

    def reverse(self, transaction: str, reversal: str, on: date) -> None:
        self.trigger_event(
            ZoningRegister.VintageReversed, transaction=transaction, reversal=reversal, on=on
        )

    def in_force(self, on: date) -> tuple[str, date] | None:
        """The vintage in force on `on` (the latest effective on or before it) and its
        effective date, or None before the earliest."""
        found: tuple[str, date] | None = None
        for transaction, (effective, _) in self.vintages.items():
            if effective <= on and (found is None or effective > found[1]):
                found = (transaction, effective)
        return found

    def earliest(self) -> date | None:
        return min((effective for effective, _ in self.vintages.values()), default=None)
