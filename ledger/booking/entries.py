"""Units entered by this import, kept in stored form until a line needs their aggregate.

An import makes each new unit's `Entered` event directly in stored form
(`ledger.booking.created`). A merger that moves such a unit (held in full ownership by an
absorbed entity) makes its `RightsMerged` event in stored form too (`merged`), so a
large merger builds no aggregate or event object. If any other line touches the unit (a
sale, a reversal...), `EnteredUnit.aggregate` rebuilds it from the same values, as the
library's repository would from the stored events, without decoding JSON.

Must not: check a rule (that is `handlers` and `merger`), or decide an event's fields on
its own: `merge_fields` takes them from the domain (`Unit.rights_merged`), and
`unit_entry` is the one source of a unit's entry, for the stored form and for
`Unit.reenter` alike (`created` refuses fields that are not the event class's).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from uuid import UUID

from ledger.booking.created import Stamped, Unstored, rebuilt
from ledger.booking.transactions import Transaction
from ledger.booking.unitlines import UnitSpec
from ledger.domain import Unit
from ledger.domain.holding import Holding


def unit_entry(spec: UnitSpec, tx: Transaction, mode: str) -> dict[str, Any]:
    """The fields of a unit's `Entered` (or `Reentered`) event."""
    return dict(
        unit_id=spec.unit_id,
        holder=tx["entity"],
        mode=mode,
        commune=spec.commune,
        zone=str(spec.zone),
        segment=str(spec.segment),
        financing=str(spec.financing) if spec.financing else None,
        rooms=spec.rooms,
        surface_m2=spec.surface_m2,
        year_built=spec.year_built,
        rpls_id=spec.rpls_id,
        transaction=tx.id,
        on=tx.date,
        bare_owner=spec.bare_owner,
        usufruct_end=spec.usufruct_end,
        rpls=spec.rpls.to_json() if spec.rpls is not None else None,
    )


#: A merger's move of a unit: its recording time and its `RightsMerged` fields.
Move = tuple[datetime, dict[str, Any]]
#: First of the `merges` of a released entry that a merger moved: the moves written.
WRITTEN_MOVES: tuple[datetime, dict[str, Any]] = (datetime.min, {})
MOVED = (WRITTEN_MOVES,)


@dataclass(slots=True)
class EnteredUnit:
    """A unit entered by this import, held in full ownership by `holder` since
    `last_date`, with its events so far in stored form only (a unit registered in
    usufruct is never one: the handler makes it by the library's path).

    Once its events are written (a streamed import, `Book.release_written`) the entry is
    *released*: it keeps only what a merger asks (`unit_id`, `holder`, `last_date`,
    `version`, whether a merger moved it: `merges` then starts with `WRITTEN_MOVES`,
    followed by the moves not written yet), and the aggregate is read back from the
    journal when a line needs it (`pending`: the moves to apply on top of it)."""

    timestamp: datetime | None
    spec: UnitSpec | None
    tx: Transaction | None
    mode: str | None
    holder: str
    last_date: date
    version: int = 1
    merges: tuple[Move, ...] = ()
    unit_id: str = field(init=False)

    def __post_init__(self) -> None:
        assert self.spec is not None
        self.unit_id = self.spec.unit_id

    @property
    def released(self) -> bool:
        return self.spec is None

    def release(self) -> None:
        """Forget what rebuilding the unit takes: its events are written."""
        self.timestamp = self.spec = self.tx = self.mode = None
        self.merges = MOVED if self.merges else ()

    def pending(self, unit: Unit, key: UUID) -> Unit:
        """A released unit read back from the journal, with the moves not written yet."""
        for timestamp, fields in self.merges:
            if fields:
                event = Unit.RightsMerged(
                    originator_id=key,
                    originator_version=unit.version + 1,
                    timestamp=timestamp,
                    **fields,
                )
                event.mutate(unit)
        return unit

    def aggregate(self, key: UUID) -> Unit:
        """The unit as the library's repository rebuilds it from its stored events."""
        assert self.spec is not None and self.tx is not None and self.mode is not None
        assert self.timestamp is not None
        entry = unit_entry(self.spec, self.tx, self.mode)
        unit: Unit = rebuilt(Unit, Unit.Entered, key, self.timestamp, **entry)
        for version, (timestamp, fields) in enumerate(self.merges, start=2):
            event = Unit.RightsMerged(
                originator_id=key, originator_version=version, timestamp=timestamp, **fields
            )
            event.mutate(unit)
        return unit

    def merged(self, moves: Moves, key: UUID) -> Unstored:
        """`Unit.merge` of this unit, its full owner absorbed into `into`, made in stored
        form when written: the event the aggregate would trigger, at the same version."""
        self.version += 1
        self.merges = moves.after(self.merges)
        fields = moves.stamped.fields
        self.holder, self.last_date = fields["into"], fields["on"]
        return Unstored(moves.stamped, key, self.version, moves.timestamp)


class Moves:
    """A merger's moves of units of `entries`: their `RightsMerged` in stored form
    (`stamped`, fields from `merge_fields`), made at one recording time (`timestamp`, of
    one transaction), and the `merges` that most of its units share (a merger of half a
    million units makes no tuple per unit)."""

    def __init__(self, stamped: Stamped, timestamp: datetime) -> None:
        self.stamped, self.timestamp = stamped, timestamp
        move = (timestamp, stamped.fields)
        self.move = move
        self._first: tuple[Move, ...] = (move,)
        self._after_written: tuple[Move, ...] = (WRITTEN_MOVES, move)

    def after(self, merges: tuple[Move, ...]) -> tuple[Move, ...]:
        """A unit's `merges` once this move is added."""
        if not merges:
            return self._first
        if merges is MOVED:
            return self._after_written
        return (*merges, self.move)


#: Which absorbed entity held a unit in full ownership does not change its `RightsMerged`
#: fields (every right it held passes to `into`): any name stands for it.
_ABSORBED_OWNER = "absorbed"
_ABSORBED_HOLDING = Holding(full_owner=_ABSORBED_OWNER)


def merge_fields(into: str, transaction: str, on: date) -> dict[str, Any]:
    """The fields of `RightsMerged` for a unit held in full ownership by an absorbed
    entity: the domain's own `Unit.rights_merged` of such a holding."""
    return Unit.rights_merged(
        _ABSORBED_HOLDING, frozenset((_ABSORBED_OWNER,)), into, transaction, on
    )
