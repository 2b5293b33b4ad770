"""New aggregates in stored form, made without aggregate or event objects.

Most events of a bulk import create something: a unit entering the ledger, the journal
entry of each transaction. Building an eventsourcing aggregate and its event object for
each, only to encode the event, is work an import can skip (docs/performance.md).
`created` makes the `StoredEvent` that `Aggregate._create` followed by the application's
mapper (`Mapper.to_stored_event`) would make from the same values: the state keys are the event
class's dataclass fields in their order (ids excluded: they are columns; a field with a
default, added by a later version, takes it when not given), then `class_version` when
the class's is above 1, as the mapper adds it; the timestamp
comes from the event class's own `create_timestamp`, the topics from `get_topic`, and the
state is encoded by the mapper's transcoder (then its compressor and cipher, if any).
`tests/unit/test_created.py` checks the bytes against the library's own path and that
the library's repository rebuilds the aggregates.

Must not: decide what an event says. The caller gives the fields (from the domain or
the parsed line); this module only gives them the library's stored form.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from functools import cache
from typing import Any
from uuid import UUID

from eventsourcing.persistence import DatetimeAsISO, Mapper, StoredEvent
from eventsourcing.utils import get_topic

_COLUMNS = ("originator_id", "originator_version")


@cache
def _state_fields(event_class: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(event_class) if f.name not in _COLUMNS)


@cache
def _defaults(event_class: type) -> dict[str, Any]:
    """The event class's fields that have a default (added by a later `class_version`):
    the event object the library makes has them even when not given."""
    return {
        f.name: f.default
        for f in dataclasses.fields(event_class)
        if f.default is not dataclasses.MISSING
    }


def created(
    mapper: Mapper[UUID],
    aggregate_class: type,
    event_class: type,
    key: UUID,
    timestamp: datetime | None = None,
    **fields: Any,
) -> StoredEvent:
    """The stored "created" event of a new `aggregate_class` with id `key` (made at
    `timestamp`, by default now, as the library's event would be)."""
    values = {
        "timestamp": timestamp or event_class.create_timestamp(),  # type: ignore[attr-defined]
        "originator_topic": get_topic(aggregate_class),
        **fields,
    }
    version = aggregate_class.INITIAL_VERSION  # type: ignore[attr-defined]
    return _stored(mapper, event_class, key, version, values)


def triggered(
    mapper: Mapper[UUID],
    event_class: type,
    key: UUID,
    version: int,
    timestamp: datetime,
    **fields: Any,
) -> StoredEvent:
    """The stored form of the event that `aggregate.trigger_event(event_class, **fields)`
    makes, at `version`, then the application's mapper stores."""
    return _stored(mapper, event_class, key, version, {"timestamp": timestamp, **fields})


def _stored(
    mapper: Mapper[UUID], event_class: type, key: UUID, version: int, values: dict[str, Any]
) -> StoredEvent:
    """What `Mapper.to_stored_event` makes of the event with these values."""
    return StoredEvent(
        originator_id=key,
        originator_version=version,
        topic=get_topic(event_class),
        state=_state(mapper, event_class, values),
    )


def _state(mapper: Mapper[UUID], event_class: type, values: dict[str, Any]) -> bytes:
    """The stored state of the event of `event_class` with these values (ids excluded)."""
    names = _state_fields(event_class)
    if tuple(values) != names:  # the fields in another order, or not the fields
        values = {**_defaults(event_class), **values}
        if values.keys() != set(names):
            raise TypeError(
                f"{event_class.__qualname__} has the fields {names}, not {tuple(values)}"
            )
        values = {name: values[name] for name in names}
    class_version = getattr(event_class, "class_version", 1)
    if class_version > 1:
        values = {**values, "class_version": class_version}
    data = mapper.transcoder.encode(values)
    if mapper.compressor:
        data = mapper.compressor.compress(data)
    if mapper.cipher:
        data = mapper.cipher.encrypt(data)
    return data


_HEAD = b'{"timestamp":{"_type_":"datetime_iso","_data_":"'


class Stamped:
    """The stored states of events of one class whose fields are all the same but the
    timestamp (a merger's moves of many units): encoded once, then only the timestamp is
    put in. Used only where the mapper's own encoding puts the timestamp first as
    `isoformat()` (checked on a first state) with no compressor or cipher; otherwise each
    state is encoded in full. `tests/unit/test_created.py` checks the bytes."""

    def __init__(self, mapper: Mapper[UUID], event_class: type, **fields: Any) -> None:
        self.mapper, self.event_class, self.fields = mapper, event_class, fields
        self.topic = get_topic(event_class)
        probe: datetime = event_class.create_timestamp()  # type: ignore[attr-defined]
        data = _state(mapper, event_class, {"timestamp": probe, **fields})
        stamp = probe.isoformat().encode("ascii")
        self.tail: bytes | None = None
        if (
            not mapper.compressor
            and not mapper.cipher
            and type(mapper.transcoder.types.get(datetime)) is DatetimeAsISO  # type: ignore[attr-defined]
            and data.startswith(_HEAD + stamp + b'"}')
        ):
            self.tail = data[len(_HEAD) + len(stamp) :]

    def stored(self, key: UUID, version: int, timestamp: datetime) -> StoredEvent:
        """The stored event at `version` made at `timestamp`: `triggered` with these fields."""
        if self.tail is None:
            return triggered(self.mapper, self.event_class, key, version, timestamp, **self.fields)
        state = b"".join((_HEAD, timestamp.isoformat().encode("ascii"), self.tail))
        return StoredEvent(
            originator_id=key, originator_version=version, topic=self.topic, state=state
        )


class Unstored:
    """An event of `Stamped` not yet in stored form: the writer makes it (`__call__`) when
    it writes it, so that a merger moving half a million units holds a small object per
    move, not its stored state (ledger/storage/eventstore.py, `Pending`)."""

    __slots__ = ("stamped", "key", "version", "timestamp")

    def __init__(self, stamped: Stamped, key: UUID, version: int, timestamp: datetime) -> None:
        self.stamped, self.key, self.version, self.timestamp = stamped, key, version, timestamp

    def __call__(self) -> StoredEvent:
        return self.stamped.stored(self.key, self.version, self.timestamp)


def rebuilt(
    aggregate_class: type, event_class: type, key: UUID, timestamp: datetime, **fields: Any
) -> Any:
    """The aggregate that the library's repository rebuilds from the stored event that
    `created` made from the same values: the event object the mapper would decode from
    it (every value survives the JSON round trip: str, int, None, Decimal, date,
    datetime), without encoding and decoding JSON. `tests/unit/test_created.py` checks
    it against `Mapper.to_domain_event`."""
    event = event_class(
        originator_id=key,
        originator_version=aggregate_class.INITIAL_VERSION,  # type: ignore[attr-defined]
        timestamp=timestamp,
        originator_topic=get_topic(aggregate_class),
        **fields,
    )
    return event.mutate(None)
