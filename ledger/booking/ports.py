"""What the write side needs from the outside world, as protocols.

`ledger/` never opens a database: the composition root (cli.py) hands it an
`EventStore` (the journal table) and a `LedgerIndex` (lookups that no single aggregate
can answer, served by the projections). Tests hand it in-memory fakes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Protocol
from uuid import UUID

from eventsourcing.persistence import StoredEvent

#: An event to write: in stored form, or what makes it in stored form when it is written
#: (`ledger.booking.created.Unstored`: a merger of half a million units does not hold
#: half a million stored states at once).
Pending = StoredEvent | Callable[[], StoredEvent]


def stored_form(event: Pending) -> StoredEvent:
    """The event in stored form (made now if it was pending)."""
    return event if type(event) is StoredEvent else event()  # type: ignore[operator]


@dataclass(frozen=True, slots=True)
class Expectations:
    """What validation read, for optimistic concurrency checked when writing.

    `versions`: aggregates read but not changed, with the version seen (0: absent).
    `head`: when set, the journal must still end at this position (used by mergers,
    whose list of units comes from a projection).
    `read_at`: where the journal ended when validation began; if it still ends there,
    nothing was stored since, so `versions` hold without being looked up one by one.
    """

    versions: dict[UUID, int]
    head: int | None = None
    labels: dict[UUID, str] = field(default_factory=dict)
    read_at: int | None = None


class JournalWriter(Protocol):
    """Stores events at the end of the journal inside one open database transaction."""

    head: int

    def write(self, events: Sequence[Pending]) -> list[int]:
        """Store `events` in this order (visible to the store's reads from now on); their
        positions."""
        ...

    def abandon(self) -> None:
        """Record nothing after all: everything written in the transaction is dropped."""
        ...


class EventStore(Protocol):
    def head(self) -> int:
        """The position of the last stored event (0 when empty)."""
        ...

    def load(self, originator_ids: Iterable[UUID]) -> Sequence[StoredEvent]:
        """Every stored event of these aggregates, by aggregate then version."""
        ...

    def append(self, events: Sequence[StoredEvent], expect: Expectations) -> list[int]:
        """Store events atomically in this order and return their positions.

        Raises `ConcurrencyConflict` when an expectation no longer holds or another writer
        stored a conflicting event; nothing is written then.
        """
        ...

    def writing(self) -> AbstractContextManager[JournalWriter]:
        """A `JournalWriter` holding the journal's write lock for the block: what it wrote
        is committed at the end of the block, or dropped if the block raises or abandons.
        Nobody else writes meanwhile, so what the block reads stays true."""
        ...


class LedgerIndex(Protocol):
    """Set lookups of the current (caught-up) ledger."""

    def units_held_by(self, entities: Iterable[str], on: str | None = None) -> list[str]:
        """Unit ids in which any of these entities holds a right now, or (given `on`, a
        date on or after every transaction of these units) holds one on `on` or later: a
        usufruct that ends at its term after `on` counts."""
        ...

    def businesses_held_by(self, entities: Iterable[str]) -> list[str]:
        """Business ids held (not divested) by any of these entities now."""
        ...

    def touched_by(self, transaction_id: str) -> tuple[list[str], list[str]]:
        """(unit ids, business ids) that a recorded transaction touched."""
        ...

    def rpls_in_use(self, rpls_ids: Iterable[str]) -> dict[str, str]:
        """rpls_id -> unit id, for those already used by a unit present in the ledger."""
        ...

    def released_after(self, entities: Iterable[str], day: str) -> list[tuple[str, str]]:
        """(unit id, date) where one of `entities` gave up a right after `day`."""
        ...

    def latest_namings(self, entity: str) -> list[tuple[str, str]]:
        """(transaction id, date) of the latest-dated non-reversed transactions naming
        `entity` (a few, latest first)."""
        ...

    def later_naming(self, entity: str, after_transaction: str) -> list[str]:
        """Ids of the non-reversed transactions recorded after `after_transaction` that
        name `entity` in any field."""
        ...
