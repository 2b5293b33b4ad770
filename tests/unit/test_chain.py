"""The bulk link computation of an import gives the links of `next_link`, one by one."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.persistence import StoredEvent
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.storage.chain import GENESIS, chain_links, next_link

events = st.builds(
    StoredEvent,
    originator_id=st.uuids() | st.uuids().map(str),
    originator_version=st.integers(1, 10**12),
    topic=st.text(min_size=1, max_size=60),
    state=st.binary(max_size=600),
)


@settings(max_examples=200, deadline=None)
@given(
    st.binary(min_size=32, max_size=32) | st.just(GENESIS),
    st.integers(1, 10**9),
    st.lists(events, max_size=8),
)
def test_chain_links_are_next_link_event_after_event(
    previous: bytes, first: int, stored: list[StoredEvent]
) -> None:
    expected = []
    link = previous
    for position, e in enumerate(stored, start=first):
        key = e.originator_id if isinstance(e.originator_id, UUID) else UUID(e.originator_id)
        link = next_link(link, position, key.hex, e.originator_version, e.topic, e.state)
        expected.append((position, link.hex()))
    assert chain_links(previous, first, stored) == expected
