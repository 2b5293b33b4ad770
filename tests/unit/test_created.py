"""The import's direct stored form of new units and journal entries is the library's own:
the same bytes as `Aggregate._create` + the mapper, and the library rebuilds from it; the
same ids as `uuid5`."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid5

import pytest
from eventsourcing.persistence import StoredEvent
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.booking.created import Stamped, created, rebuilt, triggered
from ledger.booking.entries import EnteredUnit, Moves, merge_fields, unit_entry
from ledger.booking.transactions import UnitSpec, parse_transaction
from ledger.domain import RecordedTransaction, Unit, transaction_key, unit_key
from ledger.domain.keys import NAMESPACE
from ledger.domain.values import Segment, Zone
from ledger.storage.application import HousingLedger
from ledger.storage.transcoding import TOPIC

ENTERED: dict[str, Any] = dict(
    unit_id="U-é1",
    holder="ESH-A",
    mode="vefa",
    commune="75056",
    zone="A",
    segment="social",
    financing=None,
    rooms=3,
    surface_m2=Decimal("61.50"),
    year_built=2019,
    rpls_id="R1",
    transaction="ACQ-1",
    on=date(2019, 3, 1),
)
RECORDED: dict[str, Any] = dict(
    transaction_id="ACQ-1",
    type="acquisition",
    on=date(2019, 3, 1),
    content='{"id":"ACQ-1","note":"\\"quoted\\" \\u2028"}',
    content_hash="ab" * 32,
)
#: A unit registered in usufruct with RPLS values: the fields version 2 of `Entered` added.
ENTERED_V2: dict[str, Any] = dict(
    ENTERED,
    mode="registration",
    bare_owner="AGIRC-ARRCO",
    usufruct_end=date(2042, 6, 30),
    rpls='{"entry_year":1999,"entry_mode":"2","previous_owner":"Société é"}',
)
CASES = [
    (Unit, Unit.Entered, unit_key("U-é1"), ENTERED),
    (Unit, Unit.Entered, unit_key("U-é1"), ENTERED_V2),
    (RecordedTransaction, RecordedTransaction.Recorded, transaction_key("ACQ-1"), RECORDED),
]


def the_library_way(
    app: HousingLedger,
    aggregate: Any,
    event: type,
    key: UUID,
    fields: dict[str, Any],
    timestamp: datetime | None = None,
) -> StoredEvent:
    new = aggregate._create(event, id=key, timestamp=timestamp, **fields)
    (pending,) = new.collect_events()
    return app.mapper.to_stored_event(pending)


@pytest.mark.parametrize("transcoder", [None, TOPIC], ids=["stdlib-json", "orjson"])
@pytest.mark.parametrize(
    ("aggregate", "event", "key", "fields"), CASES, ids=lambda c: getattr(c, "__qualname__", None)
)
def test_created_stores_the_bytes_of_the_library(
    monkeypatch: pytest.MonkeyPatch,
    transcoder: str | None,
    aggregate: Any,
    event: type,
    key: UUID,
    fields: dict[str, Any],
) -> None:
    env = {"PERSISTENCE_MODULE": "eventsourcing.popo"}
    app = HousingLedger(env={**env, "TRANSCODER_TOPIC": transcoder} if transcoder else env)
    now = datetime.now().astimezone()
    monkeypatch.setattr(event, "create_timestamp", staticmethod(lambda: now))
    assert created(app.mapper, aggregate, event, key, **fields) == the_library_way(
        app, aggregate, event, key, fields
    )


def test_created_refuses_missing_or_unknown_fields() -> None:
    app = HousingLedger(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    with pytest.raises(TypeError):
        created(app.mapper, Unit, Unit.Entered, unit_key("U1"), **{**ENTERED, "extra": 1})
    with pytest.raises(TypeError):
        created(app.mapper, Unit, Unit.Entered, unit_key("U1"), unit_id="U1")


@pytest.mark.parametrize("transcoder", [None, TOPIC], ids=["stdlib-json", "orjson"])
def test_triggered_stores_the_bytes_of_the_library(
    monkeypatch: pytest.MonkeyPatch, transcoder: str | None
) -> None:
    env = {"PERSISTENCE_MODULE": "eventsourcing.popo"}
    app = HousingLedger(env={**env, "TRANSCODER_TOPIC": transcoder} if transcoder else env)
    now = datetime.now().astimezone()
    monkeypatch.setattr(Unit.RightsMerged, "create_timestamp", staticmethod(lambda: now))
    unit = Unit._create(Unit.Entered, id=unit_key("U-é1"), **ENTERED)
    unit.merge(frozenset({"ESH-A"}), "ESH-B", "M-1", date(2020, 1, 1))
    _, merged = unit.collect_events()
    fields = dict(
        into="ESH-B",
        full_owner="ESH-B",
        usufructuary=None,
        bare_owner=None,
        consolidated=False,
        transaction="M-1",
        on=date(2020, 1, 1),
    )
    assert triggered(
        app.mapper, Unit.RightsMerged, unit_key("U-é1"), 2, now, **fields
    ) == app.mapper.to_stored_event(merged)
    with pytest.raises(TypeError):
        triggered(app.mapper, Unit.RightsMerged, unit_key("U1"), 2, now, into="ESH-B")


def _aggregate_state(aggregate: Any) -> dict[str, Any]:
    return {k: v for k, v in vars(aggregate).items() if k != "_pending_events"}


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(st.none(), st.decimals(allow_nan=False, allow_infinity=False, places=2)),
    st.one_of(st.none(), st.integers(1, 20)),
    st.one_of(st.none(), st.text(max_size=12)),
    st.dates(),
)
def test_rebuilt_gives_the_aggregate_the_library_rebuilds_from_the_stored_event(
    surface: Decimal | None, rooms: int | None, rpls: str | None, on: date
) -> None:
    app = HousingLedger(env={"PERSISTENCE_MODULE": "eventsourcing.popo", "TRANSCODER_TOPIC": TOPIC})
    fields = {**ENTERED, "surface_m2": surface, "rooms": rooms, "rpls_id": rpls, "on": on}
    now = datetime.now().astimezone()
    stored = created(app.mapper, Unit, Unit.Entered, unit_key("U1"), now, **fields)
    event: Any = app.mapper.to_domain_event(stored)
    library = event.mutate(None)
    ours = rebuilt(Unit, Unit.Entered, unit_key("U1"), now, **fields)
    assert _aggregate_state(ours) == _aggregate_state(library)
    assert ours.attributes == library.attributes and ours.holding == library.holding


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_keys_are_the_uuid5_of_the_natural_key(natural: str) -> None:
    assert unit_key(natural) == uuid5(NAMESPACE, "unit:" + natural)
    assert transaction_key(natural) == uuid5(NAMESPACE, "transaction:" + natural)


def test_a_unit_entered_and_merged_in_stored_form_is_the_unit_the_library_rebuilds() -> None:
    app = HousingLedger(env={"PERSISTENCE_MODULE": "eventsourcing.popo", "TRANSCODER_TOPIC": TOPIC})
    key = unit_key("U-1")
    spec = UnitSpec("U-1", "75056", Zone.A, Segment.SOCIAL, None, 3, Decimal("61.50"), 2019, "R1")
    tx = parse_transaction(
        {
            "id": "ACQ-1",
            "type": "register_units",
            "date": "2019-03-01",
            "entity": "ESH-A",
            "units": [{"unit_id": "U-1", "commune": "75056", "zone": "A", "segment": "social"}],
        }
    )
    now = datetime.now().astimezone()
    entry = EnteredUnit(now, spec, tx, "registration", "ESH-A", tx.date)
    stored = [
        created(app.mapper, Unit, Unit.Entered, key, now, **unit_entry(spec, tx, "registration"))
    ]
    for into, merger, on in (
        ("ESH-B", "M-1", date(2020, 1, 1)),
        ("ESH-C", "M-2", date(2021, 1, 1)),
    ):
        moves = Stamped(app.mapper, Unit.RightsMerged, **merge_fields(into, merger, on))
        move = Moves(moves, Unit.RightsMerged.create_timestamp())
        stored.append(entry.merged(move, key)())  # made in stored form when written
    library: Any = None
    for event in map(app.mapper.to_domain_event, stored):
        library = event.mutate(library)
    ours = entry.aggregate(key)
    assert _aggregate_state(ours) == _aggregate_state(library)
    assert (ours.version, ours.holding.full_owner, ours.last_date, ours.last_transaction) == (
        3,
        "ESH-C",
        date(2021, 1, 1),
        "M-2",
    )
    assert (entry.holder, entry.last_date, entry.version) == ("ESH-C", date(2021, 1, 1), 3)


@pytest.mark.parametrize("transcoder", [None, TOPIC], ids=["stdlib-json", "orjson"])
@pytest.mark.parametrize("microsecond", [0, 1, 999999])
def test_stamped_states_are_the_states_encoded_in_full(
    transcoder: str | None, microsecond: int
) -> None:
    env = {"PERSISTENCE_MODULE": "eventsourcing.popo"}
    app = HousingLedger(env={**env, "TRANSCODER_TOPIC": transcoder} if transcoder else env)
    fields = merge_fields("ESH-é", 'M-"1"', date(2020, 1, 1))
    moves = Stamped(app.mapper, Unit.RightsMerged, **fields)
    assert moves.tail is not None
    at = datetime.now().astimezone().replace(microsecond=microsecond)
    assert moves.stored(unit_key("U1"), 7, at) == triggered(
        app.mapper, Unit.RightsMerged, unit_key("U1"), 7, at, **fields
    )


def test_stamped_states_are_encoded_in_full_under_a_compressor() -> None:
    app = HousingLedger(
        env={
            "PERSISTENCE_MODULE": "eventsourcing.popo",
            "COMPRESSOR_TOPIC": "eventsourcing.compressor:ZlibCompressor",
        }
    )
    fields = merge_fields("ESH-B", "M-1", date(2020, 1, 1))
    moves = Stamped(app.mapper, Unit.RightsMerged, **fields)
    assert moves.tail is None
    at = datetime.now().astimezone()
    assert moves.stored(unit_key("U1"), 2, at) == triggered(
        app.mapper, Unit.RightsMerged, unit_key("U1"), 2, at, **fields
    )
