"""New aggregates in stored form, made without aggregate or event objects.

Most events of a bulk import create something: a unit entering the ledger, the journal
entry of each transaction. Building an eventsourcing aggregate and its event object for
each, only to encode the event, costs more than the rest of the import. `created` makes
the `StoredEvent` that `Aggregate._create` followed by the application's mapper
(`Mapper.to_stored_event`) would make from the same values: the state keys are the event
class's dataclass fields in their order (ids excluded: they are columns), the timestamp
comes from the event class's own `create_timestamp`, the topics from `get_topic`, and the
state is encoded by the mapper's transcoder (then its compressor and cipher, if any).
`tests/unit/test_created.py` checks the bytes against the library's own path and that
the library's repository rebuilds the aggregates.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from functools import cache
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper, StoredEvent
from eventsourcing.utils import get_topic

_COLUMNS = ("originator_id", "originator_version")


@cache
def _state_fields(event_class: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(event_class) if f.name not in _COLUMNS)


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
    names = _state_fields(event_class)
    if values.keys() != set(names):
        raise TypeError(
            f"{event_class.__qualname__} has the fields {names}, not {tuple(values)}"
        )
    return _stored(mapper, event_class, key, aggregate_class.INITIAL_VERSION, names, values)  # type: ignore[attr-defined]


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
    values = {"timestamp": timestamp, **fields}
    names = _state_fields(event_class)
    if values.keys() != set(names):
        raise TypeError(
            f"{event_class.__qualname__} has the fields {names}, not {tuple(values)}"
        )
    return _stored(mapper, event_class, key, version, names, values)


def _stored(
    mapper: Mapper[UUID],
    event_class: type,
    key: UUID,
    version: int,
    names: tuple[str, ...],
    values: dict[str, Any],
) -> StoredEvent:
    """What `Mapper.to_stored_event` makes of the event with these values."""
    state = {name: values[name] for name in names}
    class_version = getattr(event_class, "class_version", 1)
    if class_version > 1:
        state["class_version"] = class_version
    data = mapper.transcoder.encode(state)
    if mapper.compressor:
        data = mapper.compressor.compress(data)
    if mapper.cipher:
        data = mapper.cipher.encrypt(data)
    return StoredEvent(
        originator_id=key, originator_version=version, topic=get_topic(event_class), state=data
    )


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
