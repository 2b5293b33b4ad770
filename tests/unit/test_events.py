"""Events are the legal record: each one survives the application's mapper unchanged.
(That the library reads what our journal store wrote to a real database is tested in
tests/integration/test_library_reads_our_journal.py.)"""

from __future__ import annotations

import inspect
from datetime import date
from decimal import Decimal
from uuid import uuid4

import pytest
from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic, resolve_topic

import ledger.domain as domain
from ledger.storage.application import HousingLedger

SAMPLE_VALUES = {
    str: "X-1",
    date: date(2019, 3, 1),
    Decimal: Decimal("1250000.50"),
    int: 42,
    bool: True,
}


#: The per-aggregate base classes the library defines; never stored.
LIBRARY_DEFINED = {"Event", "Created"}


def event_classes() -> list[type]:
    classes = []
    for _, aggregate in inspect.getmembers(domain, inspect.isclass):
        if issubclass(aggregate, Aggregate) and aggregate is not Aggregate:
            for _, member in inspect.getmembers(aggregate, inspect.isclass):
                if (
                    issubclass(member, Aggregate.Event)
                    and member.__qualname__.startswith(aggregate.__name__ + ".")
                    and member.__name__ not in LIBRARY_DEFINED
                ):
                    classes.append(member)
    return sorted(set(classes), key=lambda c: c.__qualname__)


def sample(cls: type) -> object:
    kwargs: dict[str, object] = {
        "originator_id": uuid4(),
        "originator_version": 1,
        "timestamp": Aggregate.Event.create_timestamp(),
    }
    for field in cls.__dataclass_fields__.values():  # type: ignore[attr-defined]
        if field.name in kwargs:
            continue
        annotation = str(field.type)
        if field.name == "originator_topic":
            kwargs[field.name] = "ledger.domain:Unit"
        elif "date" in annotation:
            kwargs[field.name] = SAMPLE_VALUES[date]
        elif "Decimal" in annotation:
            kwargs[field.name] = SAMPLE_VALUES[Decimal]
        elif "bool" in annotation:
            kwargs[field.name] = True
        elif "int" in annotation:
            kwargs[field.name] = 42
        else:
            kwargs[field.name] = f"{field.name}-value"
    return cls(**kwargs)


def test_every_aggregate_declares_its_events() -> None:
    names = {c.__qualname__ for c in event_classes()}
    assert {
        "Unit.Entered",
        "Unit.Sold",
        "Unit.BareOwnershipTransferred",
        "Unit.UsufructExtinguished",
        "Unit.RightsMerged",
        "Unit.Reversed",
        "Entity.Registered",
        "Entity.Absorbed",
        "Business.Divested",
        "RecordedTransaction.Recorded",
        "RecordedTransaction.Reversed",
        "ZoningRegister.Opened",
        "ZoningRegister.VintageRecorded",
        "ZoningRegister.VintageReversed",
    } <= names


@pytest.mark.parametrize("cls", event_classes(), ids=lambda c: c.__qualname__)
def test_each_event_round_trips_through_the_application_mapper(cls: type) -> None:
    app = HousingLedger(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    event = sample(cls)
    stored = app.mapper.to_stored_event(event)  # type: ignore[arg-type]
    assert stored.topic == f"ledger.domain:{cls.__qualname__}"
    assert app.mapper.to_domain_event(stored) == event


@pytest.mark.parametrize("cls", event_classes(), ids=lambda c: c.__qualname__)
def test_each_event_pins_its_released_topic_whatever_module_defines_it(cls: type) -> None:
    """Stored topics are `ledger.domain:<qualname>`, the module path of release 0.1: the
    classes moved to `ledger.domain.unit` and its siblings, their explicit TOPIC keeps the name."""
    assert get_topic(cls) == f"ledger.domain:{cls.__qualname__}"
    assert resolve_topic(f"ledger.domain:{cls.__qualname__}") is cls
    aggregate = getattr(domain, cls.__qualname__.split(".")[0])
    assert get_topic(aggregate) == f"ledger.domain:{aggregate.__name__}"


def test_every_event_class_is_covered() -> None:
    assert len(event_classes()) == 27  # 24, and the ZoningRegister's 3 (issue 14)
