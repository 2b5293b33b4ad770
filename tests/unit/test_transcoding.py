"""The fast encoder writes the library's bytes, exactly."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.storage.application import HousingLedger
from ledger.storage.transcoding import TOPIC
from tests.unit.test_events import event_classes, sample


def apps() -> tuple[HousingLedger, HousingLedger]:
    stock = HousingLedger(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    fast = HousingLedger(
        env={"PERSISTENCE_MODULE": "eventsourcing.popo", "TRANSCODER_TOPIC": TOPIC}
    )
    return stock, fast


@pytest.mark.parametrize("cls", event_classes(), ids=lambda c: c.__qualname__)
def test_every_event_is_encoded_to_the_same_bytes_as_the_library(cls: type) -> None:
    stock, fast = apps()
    event = sample(cls)
    assert fast.mapper.to_stored_event(event).state == stock.mapper.to_stored_event(event).state
    assert stock.mapper.to_domain_event(fast.mapper.to_stored_event(event)) == event


@settings(max_examples=300, deadline=None)
@given(
    st.text(),
    st.integers(-(2**62), 2**62),
    st.dates(),
    st.decimals(allow_nan=False, allow_infinity=False, places=2),
)
def test_any_text_number_date_and_amount_encode_identically(
    text: str, number: int, day: date, amount: Decimal
) -> None:
    stock, fast = apps()
    state = {
        "name": text,
        "count": number,
        "on": day,
        "price": amount,
        "flag": True,
        "none": None,
        "nested": {"a": [text, day]},
    }
    assert fast.mapper.transcoder.encode(state) == stock.mapper.transcoder.encode(state)


def test_a_value_without_transcoding_is_refused() -> None:
    _, fast = apps()
    with pytest.raises(TypeError, match="not JSON serializable"):
        fast.mapper.transcoder.encode({"x": object()})
