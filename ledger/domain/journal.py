"""The `RecordedTransaction` aggregate: the journal entry of a transaction as filed.

Its id is uuid5 of the transaction id, so the same transaction can never be recorded
twice; `content_hash` makes a re-import of the same line idempotent. A reversal marks
it reversed; nothing else changes it. Stored topics are pinned by `TOPIC`.
"""

from __future__ import annotations

from datetime import date

from eventsourcing.domain import Aggregate


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
