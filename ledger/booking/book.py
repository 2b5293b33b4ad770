"""Booking: apply parsed transactions to the aggregates they touch, enforcing every rule.

A `Book` is the unit of work of one import. It loads the aggregates a file names (in
bulk, once), applies each transaction in file order, and collects the new events of each
transaction in order, the `RecordedTransaction` event last (its position is the
transaction's journal position). A handler first checks every rule of its transaction and
only then changes aggregates, so a rejected line leaves the book as it was and the
following lines are validated against the ledger plus the earlier *valid* lines.

A new unit and each journal entry are made directly in stored form (`ledger.booking.created`),
rebuilt as an aggregate (by the library's mapper) only if a later line asks for it.

Nothing here writes: the application stores the collected events (a chunk of lines at a
time, in one database transaction), then tells the book what the journal now holds
(`release_written`), so that what it keeps does not grow with the events of the file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date
from functools import partial
from typing import Any, cast
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Mapper, StoredEvent

from ledger.booking.created import Unstored, created
from ledger.booking.entries import EnteredUnit
from ledger.booking.ports import Expectations, LedgerIndex, Pending
from ledger.booking.transactions import Transaction, parse_transaction
from ledger.booking.unitlines import UnitSpec
from ledger.domain import (
    Business,
    Entity,
    RecordedTransaction,
    Unit,
    business_key,
    entity_key,
    transaction_key,
    unit_key,
    zoning_key,
)
from ledger.errors import RuleViolation

Loader = Callable[[Iterable[UUID]], dict[UUID, Aggregate]]
#: What a handler changed: aggregates, new events in stored form (or made so when written).
Touched = list[Aggregate | StoredEvent | Unstored]
ALREADY_RECORDED = "already_recorded"
#: The types that read the register of zoning vintages (a reversal may take one out).
ZONED_TYPES = frozenset({"register_units", "acquisition", "zoning_vintage", "reversal"})


class Booked:
    """What a transaction of this import touched (for reversals later in the same file).

    Once its events are written (a streamed import) the parsed transaction is released:
    `tx` then gives its id, type and date at once, and its fields read back from its
    journal entry (`reread`) only if a line asks for them (a reversal of it)."""

    __slots__ = ("_tx", "_head", "_reread", "units", "businesses", "reversed")

    def __init__(self, tx: Transaction) -> None:
        self._tx: Transaction | None = tx
        self._head = (tx.id, tx.type, tx.date)
        self._reread: Callable[[], Transaction] | None = None
        self.units: list[str] = []
        self.businesses: list[str] = []
        self.reversed = False

    @property
    def tx(self) -> Transaction:
        if self._tx is not None:
            return self._tx
        assert self._reread is not None
        fields = _Reread(self._reread, "fields")
        return Transaction(*self._head, fields=fields, raw=_Reread(self._reread, "raw"))

    def release(self, reread: Callable[[], Transaction]) -> None:
        self._tx, self._reread = None, reread


class _Reread(Mapping[str, Any]):
    """The fields (or raw object) of a released transaction, read back on first use."""

    def __init__(self, reread: Callable[[], Transaction], part: str) -> None:
        self._reread, self._part = reread, part
        self._values: Mapping[str, Any] | None = None

    def _get(self) -> Mapping[str, Any]:
        if self._values is None:
            tx = self._reread()
            self._values = tx.fields if self._part == "fields" else tx.raw
        return self._values

    def __getitem__(self, name: str) -> Any:
        return self._get()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())


class Book:
    def __init__(
        self,
        index: LedgerIndex,
        loader: Loader,
        mapper: Mapper[UUID],
        handlers: Mapping[str, Handler],
    ) -> None:
        self.handlers = handlers
        self.index: LedgerIndex = _ImportIndex(index, self)
        self.loader = loader
        self.mapper = mapper
        # An aggregate created by this import is held as its stored event until asked for.
        self.aggregates: dict[UUID, Aggregate | StoredEvent | None] = {}
        self.entered_by: dict[str, dict[UUID, None]] = {}  # units of `entries`, by holder
        self.versions_read: dict[UUID, int] = {}
        self.labels: dict[UUID, str] = {}
        self.booked: dict[str, Booked] = {}
        self.named: dict[str, list[str]] = {}
        self.rpls: dict[str, str] = {}
        self.rpls_indexed: dict[str, str | None] = {}
        self.reversed_here: set[str] = set()
        self.touched: dict[UUID, Aggregate] = {}
        self.has_merger = False
        # The units entered by this import and held as their stored events only.
        self.entries: dict[UUID, EnteredUnit] = {}
        #: The classes of the zoning vintages this import read, by transaction id.
        self.zone_maps: dict[str, dict[str, str]] = {}
        #: Released units this import changed, by every entity that held them at some
        #: point (`release_written`).
        self.involved: dict[str, set[UUID]] = {}
        self.unwritten: list[UUID] = []  # aggregates with new events in stored form
        self.read_ahead: dict[UUID, Aggregate] = {}  # released entries, read in bulk

    # -- loading -------------------------------------------------------------------
    def prefetch(self, transactions: Iterable[Transaction]) -> None:
        """Load every aggregate the transactions name, in one bulk read."""
        labels = self.labels
        rpls: list[str] = []
        for tx in transactions:
            labels[transaction_key(tx.id)] = f"transaction {tx.id}"
            labels.update((entity_key(e), f"entity {e}") for e in named_entities(tx))
            labels.update((unit_key(u), f"unit {u}") for u in named_units(tx))
            if tx.fields.get("business"):
                labels[business_key(tx["business"])] = f"business {tx['business']}"
            if tx.type == "reversal":
                labels[transaction_key(tx["reverses"])] = f"transaction {tx['reverses']}"
            if tx.type in ZONED_TYPES:
                labels[zoning_key()] = "the register of zoning vintages"
            rpls.extend(u.rpls_id for u in tx.fields.get("units") or () if _has_rpls(u))
        self._load(list(labels))
        self._index_rpls(rpls)

    def _load(self, keys: Iterable[UUID]) -> None:
        # A released entry stays one until a line needs it (`_get`): read with the rest.
        missing, ahead = [], []
        for k in keys:
            if k not in self.aggregates:
                if k not in self.entries:
                    missing.append(k)
                elif k not in self.read_ahead:
                    ahead.append(k)
        if not missing and not ahead:
            return
        found = self.loader(missing + ahead)
        for key in ahead:
            self.read_ahead[key] = found[key]
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
            entry = self.entries.get(key)
            if entry is not None:  # released: its events are written, read them back
                return self._read_back(key, entry)
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

    def _read_back(self, key: UUID, entry: EnteredUnit) -> Any:
        """A released unit of `entries` as an aggregate, from the events written of it."""
        stored = self.read_ahead.pop(key, None) or self.loader([key])[key]
        unit = entry.pending(cast(Unit, stored), key)
        del self.entries[key]
        del self.entered_by[entry.holder][key]
        self.aggregates[key] = self.touched[key] = unit
        self.versions_read[key] = unit.version
        return unit

    def entered_units(self, holders: Iterable[str]) -> Iterator[tuple[UUID, EnteredUnit]]:
        """The units of `entries` held by `holders` (in full ownership)."""
        entries = self.entries
        for holder in set(holders):
            for key in self.entered_by.get(holder, ()):
                yield key, entries[key]

    def move_entered(self, holders: Iterable[str], into: str) -> None:
        """Note that the units of `entries` held by `holders` are now held by `into` (the
        largest list of keys is kept and the others added to it: a merger of half a
        million units does not copy them one by one)."""
        lists = [self.entered_by.pop(h) for h in {*holders, into} if h in self.entered_by]
        if not lists:
            return
        lists.sort(key=len)
        kept = lists.pop()
        for other in lists:
            kept.update(other)
        self.entered_by[into] = kept

    def expectations(self, head: int) -> Expectations:
        merger = head if self.has_merger else None
        return Expectations(dict(self.versions_read), merger, self.labels, read_at=head)

    def release(self, tx: Transaction) -> None:
        """Forget the units `tx` entered, now that its events are written in the open
        database transaction (`Recorder.record_stream`): a later line naming one of them
        reads it back from there through `loader`, as any stored unit. Only the caller can
        know that no later line needs the import's own lists of them (`rpls`,
        `entered_by`): for a stream of registrations whose unit and rpls ids are unique
        across the stream, as an RPLS file's are."""
        booked = self.booked.pop(tx.id)
        self.unwritten.clear()
        entry = transaction_key(tx.id)  # the journal entry: written too
        self.aggregates.pop(entry, None)
        self.versions_read.pop(entry, None)
        self.labels.pop(entry, None)
        for entity in named_entities(tx):
            self.named[entity].remove(tx.id)
        held = self.entered_by.get(tx["entity"], {})
        for unit_id in booked.units:
            key = unit_key(unit_id)
            self.aggregates.pop(key, None)
            self.entries.pop(key, None)
            self.touched.pop(key, None)
            self.versions_read.pop(key, None)
            self.labels.pop(key, None)
            held.pop(key, None)
        for spec in tx.fields.get("units") or ():
            if isinstance(spec, UnitSpec) and spec.rpls_id:
                self.rpls.pop(spec.rpls_id, None)
                self.rpls_indexed.pop(spec.rpls_id, None)

    def release_written(self, transactions: Iterable[str]) -> None:
        """Forget what the journal now holds, after a streamed import wrote the events of
        `transactions` (ids) in its open database transaction: the units, journal entries
        and new events booked so far (read back from there through `loader` if a later
        line names them), the parsed transactions (`Booked.tx` reads one back if a
        reversal asks), the lookups made for validation only. Kept, as they are small or
        what the projections (`index`, as of the import's start) cannot say: entities,
        businesses, the register of zoning vintages; per transaction its `Booked`; per
        unit entered, a released `EnteredUnit` and its rpls id (a merger moves it, a
        registration may not reuse its rpls id); per unit changed, the entities it was
        held by (`involved`: a merger reads back the units of the entities it absorbs)."""
        for tx_id in transactions:
            booked = self.booked.get(tx_id)
            if booked is not None:
                booked.release(partial(self._reread, tx_id))
        for key in self.unwritten:  # in stored form: new, or a released entry moved
            entry = self.entries.get(key)
            if entry is not None:
                entry.release()
        self.unwritten.clear()
        for key, agg in list(self.aggregates.items()):
            if agg is None or isinstance(agg, StoredEvent | RecordedTransaction):
                del self.aggregates[key]
            elif isinstance(agg, Unit):
                del self.aggregates[key]
                if self.touched.pop(key, None) is not None:
                    for entity in _entities_of(agg):
                        self.involved.setdefault(entity, set()).add(key)
        self.versions_read.clear()
        self.labels.clear()
        self.rpls_indexed.clear()
        self.read_ahead.clear()

    def _reread(self, tx_id: str) -> Transaction:
        """A transaction of this import, parsed again from its journal entry."""
        recorded: RecordedTransaction = self._get(transaction_key(tx_id))
        return reparse(recorded)

    def involved_units(self, entities: Iterable[str]) -> None:
        """Read back into `touched` the released units that `entities` held at some point
        in this import, before a merger looks for what they hold (`_ImportIndex`)."""
        keys = {k for e in entities for k in self.involved.pop(e, ())}
        if not keys:
            return
        self._load(keys)
        for key in sorted(keys):
            agg = self._get(key)
            if isinstance(agg, Unit):
                self.touched[key] = agg

    # -- booking -------------------------------------------------------------------
    def apply(self, tx: Transaction) -> list[Pending] | str:
        """Book one transaction: its new events in stored form (or made so when written:
        `ports.stored_form`), in order, or ALREADY_RECORDED."""
        recorded: RecordedTransaction | None = self._get(transaction_key(tx.id))
        if recorded is not None:
            if recorded.content_hash == tx.content_hash or _same_vintage(recorded, tx):
                return ALREADY_RECORDED
            raise RuleViolation(
                "duplicate_id",
                f"transaction id {tx.id} is already recorded with different content",
            )
        booked = Booked(tx)
        touched = self.handlers[tx.type](self, tx, booked)
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
        for entity in named_entities(tx):
            self.named.setdefault(entity, []).append(tx.id)
        events: list[Pending] = []
        for agg in touched:
            if isinstance(agg, Unstored):
                events.append(agg)
                self.unwritten.append(agg.key)
            elif isinstance(agg, StoredEvent):
                events.append(agg)
                self.unwritten.append(agg.originator_id)  # type: ignore[arg-type]
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


def _entities_of(unit: Unit) -> set[str]:
    """Every entity that holds or held a right in the unit, in any state it kept."""
    holdings = [unit.holding, *(prior[1] for _, prior in unit.stack)]
    names: set[str | None] = set()
    for h in holdings:
        names.update((h.full_owner, h.usufructuary, h.bare_owner, h.former_usufructuary))
    return {n for n in names if n}


class _ImportIndex:
    """The projections' lookups (as of the import's start) for a book that released
    units it changed (`Book.release_written`): before a merger asks which units some
    entities hold, or gave up a right in, the book reads back the units they held in
    this import, so that the answer is corrected by them as if never released."""

    def __init__(self, index: LedgerIndex, book: Book) -> None:
        self.inner, self.book = index, book

    def units_held_by(self, entities: Iterable[str], on: str | None = None) -> list[str]:
        entities = list(entities)
        self.book.involved_units(entities)
        return self.inner.units_held_by(entities, on)

    def businesses_held_by(self, entities: Iterable[str]) -> list[str]:
        return self.inner.businesses_held_by(entities)

    def touched_by(self, transaction_id: str) -> tuple[list[str], list[str]]:
        return self.inner.touched_by(transaction_id)

    def rpls_in_use(self, rpls_ids: Iterable[str]) -> dict[str, str]:
        return self.inner.rpls_in_use(rpls_ids)

    def released_after(self, entities: Iterable[str], day: str) -> list[tuple[str, str]]:
        entities = list(entities)
        self.book.involved_units(entities)
        return self.inner.released_after(entities, day)

    def latest_namings(self, entity: str) -> list[tuple[str, str]]:
        return self.inner.latest_namings(entity)

    def later_naming(self, entity: str, after_transaction: str) -> list[str]:
        return self.inner.later_naming(entity, after_transaction)


def _same_vintage(recorded: RecordedTransaction, tx: Transaction) -> bool:
    """A zoning vintage is its date and its file: the same file for the same date, under
    the same id, is already recorded whatever its source text says."""
    if recorded.type != "zoning_vintage" or tx.type != "zoning_vintage" or recorded.on != tx.date:
        return False
    import json

    return bool(json.loads(recorded.content)["sha256"] == tx["sha256"])


def named_entities(tx: Transaction) -> list[str]:
    """Every entity id named in any field of the transaction."""
    f = tx.fields
    names = [f.get("entity"), f.get("bare_owner"), f.get("into"), f.get("parent")]
    names.extend(f.get("absorbed") or ())
    buyer = f.get("buyer")
    if isinstance(buyer, dict):
        names.append(buyer.get("entity"))
    names.extend(u.bare_owner for u in f.get("units") or () if isinstance(u, UnitSpec))
    return list(dict.fromkeys(n for n in names if n))


def _has_rpls(unit: Any) -> bool:
    return isinstance(unit, UnitSpec) and bool(unit.rpls_id)


def named_units(tx: Transaction) -> list[str]:
    units = tx.fields.get("units") or ()
    return [u.unit_id if isinstance(u, UnitSpec) else u for u in units]


def reparse(recorded: RecordedTransaction) -> Transaction:
    """The parsed form of a recorded transaction (its content is valid by construction)."""
    import json

    return parse_transaction(json.loads(recorded.content))


#: A transaction type's handler: checks every rule, then changes aggregates; returns what
#: it touched (aggregates with new events, or new events already in stored form).
Handler = Callable[["Book", Transaction, Booked], Sequence[Aggregate | StoredEvent | Unstored]]
