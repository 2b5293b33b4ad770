"""The aggregates, given / when / then, with no database.

Given the events an aggregate recorded (replayed through the application's mapper, as
the journal would give them back), when a public command, then the new events (types and
key fields) or a named `RuleViolation` code. Rules that need more than one aggregate
(the 30-year usufruct cap, a merger, a reversal of a recorded transaction) are booked by
the real handlers over the in-memory fakes (tests/fakes.py): given transactions
recorded, when one more is booked, then its events or its error code.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from eventsourcing.domain import Aggregate

from ledger.booking.book import ALREADY_RECORDED, Book
from ledger.booking.handlers import HANDLERS
from ledger.booking.ports import stored_form
from ledger.booking.transactions import parse_transaction
from ledger.domain import (
    Entity,
    Holding,
    RecordedTransaction,
    Unit,
    entity_key,
    transaction_key,
    unit_key,
)
from ledger.errors import RuleViolation
from ledger.storage.application import HousingLedger
from tests.fakes import IN_MEMORY, InMemoryLedger

MAPPER = HousingLedger(env=IN_MEMORY).mapper
OPENED, SOLD_ON = date(2017, 1, 1), date(2018, 3, 1)


def entered(unit_id: str = "U1", holder: str = "ESH-A") -> Unit:
    """A new unit entered by an opening balance (its Entered event still pending)."""
    return Unit._create(
        Unit.Entered,
        id=unit_key(unit_id),
        unit_id=unit_id,
        holder=holder,
        mode="registration",
        commune="75056",
        zone="A",
        segment="social",
        financing=None,
        rooms=None,
        surface_m2=None,
        year_built=None,
        rpls_id=None,
        transaction="OPEN",
        on=OPENED,
    )


def given(aggregate: Aggregate) -> Any:
    """The aggregate rebuilt from its pending events, as stored and read back."""
    rebuilt: Any = None
    for event in aggregate.collect_events():
        rebuilt = MAPPER.to_domain_event(MAPPER.to_stored_event(event)).mutate(rebuilt)
    return rebuilt


def then(aggregate: Aggregate) -> list[tuple[str, dict[str, Any]]]:
    """The new events: (class name, fields other than the library's own)."""
    library = {"originator_id", "originator_version", "timestamp", "originator_topic"}
    return [
        (type(e).__qualname__, {k: v for k, v in vars(e).items() if k not in library})
        for e in aggregate.collect_events()
    ]


def refused(command: Any, *args: Any) -> str:
    with pytest.raises(RuleViolation) as caught:
        command(*args)
    return caught.value.code


# --- sales ----------------------------------------------------------------------------


def test_a_unit_held_in_full_ownership_is_sold_to_the_buyer_entity() -> None:
    unit = given(entered("U1", "ESH-A"))
    unit.sell("ESH-A", "ESH-B", "social_landlord", "S1", SOLD_ON)
    assert then(unit) == [
        (
            "Unit.Sold",
            {
                "seller": "ESH-A",
                "buyer": "ESH-B",
                "category": "social_landlord",
                "transaction": "S1",
                "on": SOLD_ON,
                "price_eur": None,
                "net_proceeds_eur": None,
            },
        )
    ]
    assert (unit.status, unit.holding) == (Unit.HELD, Holding(full_owner="ESH-B"))


def test_a_unit_sold_without_a_buyer_entity_leaves_the_ledger() -> None:
    unit = given(entered("U1", "ESH-A"))
    unit.sell("ESH-A", None, "sitting_tenant", "S1", SOLD_ON)
    assert [name for name, _ in then(unit)] == ["Unit.Sold"]
    assert (unit.status, unit.holding.holders) == (Unit.LEFT, ())


def test_a_sale_by_an_entity_that_does_not_hold_the_unit_is_refused_as_not_full_owner() -> None:
    unit = given(entered("U1", "ESH-A"))
    assert refused(unit.sell, "ESH-B", None, "individual", "S1", SOLD_ON) == "not_full_owner"
    assert then(unit) == []


def test_a_unit_cannot_be_sold_twice() -> None:
    unit = entered("U1", "ESH-A")
    unit.sell("ESH-A", None, "individual", "S1", SOLD_ON)
    unit = given(unit)
    assert refused(unit.sell, "ESH-A", None, "individual", "S2", SOLD_ON) == "not_full_owner"


def test_a_sale_dated_before_the_last_change_of_the_unit_is_refused() -> None:
    unit = given(entered("U1", "ESH-A"))
    assert refused(unit.sell, "ESH-A", None, "individual", "S1", date(2016, 12, 31)) == (
        "date_goes_back"
    )


# --- dismemberment --------------------------------------------------------------------


def test_a_bare_ownership_transfer_then_an_extinction_make_the_bare_owner_full_owner() -> None:
    unit = given(entered("U1", "ESH-A"))
    unit.transfer_bare_ownership("ESH-A", "FUND", date(2040, 6, 30), "B1", SOLD_ON)
    assert then(unit) == [
        (
            "Unit.BareOwnershipTransferred",
            {
                "usufructuary": "ESH-A",
                "bare_owner": "FUND",
                "usufruct_end": date(2040, 6, 30),
                "transaction": "B1",
                "on": SOLD_ON,
            },
        )
    ]
    unit.extinguish_usufruct("X1", date(2019, 1, 1))
    assert then(unit) == [
        (
            "Unit.UsufructExtinguished",
            {
                "usufructuary": "ESH-A",
                "bare_owner": "FUND",
                "transaction": "X1",
                "on": date(2019, 1, 1),
            },
        )
    ]
    assert unit.holding == Holding(full_owner="FUND")


def test_a_dismembered_unit_cannot_be_sold_by_its_usufructuary() -> None:
    unit = entered("U1", "ESH-A")
    unit.transfer_bare_ownership("ESH-A", "FUND", date(2040, 6, 30), "B1", SOLD_ON)
    unit = given(unit)
    assert refused(unit.sell, "ESH-A", None, "individual", "S1", SOLD_ON) == "not_full_owner"


def test_the_usufruct_of_a_unit_held_in_full_ownership_cannot_be_extinguished() -> None:
    unit = given(entered("U1", "ESH-A"))
    assert refused(unit.extinguish_usufruct, "X1", SOLD_ON) == "not_dismembered"


# --- mergers --------------------------------------------------------------------------


def test_a_merger_moves_the_absorbed_entitys_full_ownership_to_into() -> None:
    unit = given(entered("U1", "ESH-A"))
    unit.merge(frozenset({"ESH-A"}), "ESH-B", "M1", SOLD_ON)
    assert then(unit) == [
        (
            "Unit.RightsMerged",
            {
                "into": "ESH-B",
                "full_owner": "ESH-B",
                "usufructuary": None,
                "bare_owner": None,
                "consolidated": False,
                "transaction": "M1",
                "on": SOLD_ON,
            },
        )
    ]


def test_a_merger_of_the_bare_owner_into_the_usufructuary_consolidates_full_ownership() -> None:
    unit = entered("U1", "ESH-A")
    unit.transfer_bare_ownership("ESH-A", "FUND", date(2040, 6, 30), "B1", SOLD_ON)
    unit = given(unit)
    unit.merge(frozenset({"FUND"}), "ESH-A", "M1", date(2019, 1, 1))
    (name, fields) = then(unit)[0]
    assert (name, fields["full_owner"], fields["usufructuary"], fields["consolidated"]) == (
        "Unit.RightsMerged",
        "ESH-A",
        None,
        True,
    )
    assert unit.holding == Holding(full_owner="ESH-A")


# --- reversals ------------------------------------------------------------------------


def test_reversing_a_sale_restores_the_unit_as_it_was_before_it() -> None:
    unit = given(entered("U1", "ESH-A"))
    before = (unit.status, unit.holding, unit.last_date, unit.attributes)
    unit.sell("ESH-A", None, "individual", "S1", SOLD_ON)
    assert [name for name, _ in then(unit)] == ["Unit.Sold"]
    unit.reverse("S1", "R1", date(2018, 4, 1))
    assert then(unit) == [
        ("Unit.Reversed", {"reverses": "S1", "reversal": "R1", "on": date(2018, 4, 1)})
    ]
    assert (unit.status, unit.holding, unit.last_date, unit.attributes) == before


def test_a_transaction_followed_by_another_on_the_unit_cannot_be_reversed() -> None:
    unit = entered("U1", "ESH-A")
    unit.transfer_bare_ownership("ESH-A", "FUND", date(2040, 6, 30), "B1", SOLD_ON)
    unit.extinguish_usufruct("X1", date(2019, 1, 1))
    unit = given(unit)
    assert refused(unit.reverse, "B1", "R1", date(2019, 2, 1)) == "reversal_blocked"


# --- rules across aggregates, booked over the in-memory fakes ---------------------------


def entity(eid: str, kind: str = "hlm") -> dict[str, Any]:
    return {
        "id": f"ENT-{eid}",
        "type": "register_entity",
        "date": "2017-01-01",
        "entity": eid,
        "name": f"Entity {eid}",
        "kind": kind,
    }


def opening(eid: str, *unit_ids: str) -> dict[str, Any]:
    units = [{"unit_id": u, "commune": "75056", "zone": "A", "segment": "social"} for u in unit_ids]
    return {
        "id": f"OPEN-{eid}",
        "type": "register_units",
        "date": "2017-01-01",
        "entity": eid,
        "units": units,
    }


def transfer(tid: str, on: str, end: str, units: list[str]) -> dict[str, Any]:
    return {
        "id": tid,
        "type": "bare_ownership_transfer",
        "date": on,
        "entity": "ESH-A",
        "bare_owner": "FUND",
        "units": units,
        "usufruct_end": end,
        "consideration": "gratuitous",
    }


@pytest.fixture
def recorded() -> InMemoryLedger:
    """Given: ESH-A holds U1, U2; ESH-B holds V1; FUND, a pension fund, holds nothing."""
    ledger = InMemoryLedger()
    ledger.ok(
        entity("ESH-A"),
        entity("ESH-B"),
        entity("FUND", "pension_fund"),
        opening("ESH-A", "U1", "U2"),
        opening("ESH-B", "V1"),
    )
    return ledger


def booked(ledger: InMemoryLedger, tx: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """When `tx` is booked against the recorded ledger: (event class, fields) of its new
    events in order (the journal entry last), or the RuleViolation raised."""
    book = Book(ledger.index, ledger.load, ledger.app.mapper, HANDLERS)
    stored = book.apply(parse_transaction(tx))
    assert stored != ALREADY_RECORDED
    events = [ledger.app.mapper.to_domain_event(stored_form(s)) for s in stored]
    return [(type(e).__qualname__, vars(e)) for e in events]


def booking_refused(ledger: InMemoryLedger, tx: dict[str, Any]) -> str:
    with pytest.raises(RuleViolation) as caught:
        booked(ledger, tx)
    return caught.value.code


def test_a_usufruct_of_30_years_is_booked(recorded: InMemoryLedger) -> None:
    events = booked(recorded, transfer("B1", "2018-03-01", "2048-03-01", ["U1"]))
    assert [name for name, _ in events] == [
        "Unit.BareOwnershipTransferred",
        "RecordedTransaction.Recorded",
    ]
    assert events[0][1]["usufruct_end"] == date(2048, 3, 1)


def test_a_usufruct_over_30_years_is_refused_under_civil_code_article_619(
    recorded: InMemoryLedger,
) -> None:
    tx = transfer("B1", "2018-03-01", "2048-03-02", ["U1"])
    assert booking_refused(recorded, tx) == "usufruct_term"
    result = recorded.record(tx)
    assert result.recorded == 0 and "Civil Code art. 619" in str(result.errors[0])


def test_a_merger_moves_every_right_of_the_absorbed_entity_and_absorbs_it(
    recorded: InMemoryLedger,
) -> None:
    recorded.ok(transfer("B1", "2018-03-01", "2040-06-30", ["U1"]))
    merger = {
        "id": "M1",
        "type": "merger",
        "date": "2019-01-01",
        "absorbed": ["ESH-A"],
        "into": "ESH-B",
    }
    events = booked(recorded, merger)
    assert [
        (name, f.get("originator_id"), f.get("full_owner"), f.get("usufructuary"))
        for name, f in events
    ] == [
        ("Unit.RightsMerged", unit_key("U1"), None, "ESH-B"),
        ("Unit.RightsMerged", unit_key("U2"), "ESH-B", None),
        ("Entity.Absorbed", entity_key("ESH-A"), None, None),
        ("Entity.Absorbing", entity_key("ESH-B"), None, None),
        ("RecordedTransaction.Recorded", transaction_key("M1"), None, None),
    ]
    assert events[0][1]["bare_owner"] == "FUND"
    recorded.ok(merger)
    assert recorded.aggregate(entity_key("ESH-A")).status == Entity.ABSORBED


def test_reversing_a_recorded_sale_voids_it_and_gives_the_unit_back_to_the_seller(
    recorded: InMemoryLedger,
) -> None:
    recorded.ok(
        {
            "id": "S1",
            "type": "sale",
            "date": "2018-03-01",
            "entity": "ESH-A",
            "units": ["U1"],
            "buyer": {"category": "social_landlord", "entity": "ESH-B"},
            "price_eur": "100000.00",
        }
    )
    reversal = {
        "id": "R1",
        "type": "reversal",
        "date": "2018-04-01",
        "reverses": "S1",
        "reason": "deed cancelled",
    }
    events = booked(recorded, reversal)
    assert [(name, f.get("reverses") or f.get("reversal")) for name, f in events] == [
        ("Unit.Reversed", "S1"),
        ("RecordedTransaction.Reversed", "R1"),
        ("RecordedTransaction.Recorded", None),
    ]
    recorded.ok(reversal)
    unit = recorded.aggregate(unit_key("U1"))
    assert (unit.status, unit.holding) == (Unit.HELD, Holding(full_owner="ESH-A"))
    entry: RecordedTransaction = recorded.aggregate(transaction_key("S1"))
    assert entry.reversed_by == "R1"


def test_a_sale_cannot_be_reversed_once_the_buyer_sold_the_unit_on(
    recorded: InMemoryLedger,
) -> None:
    def sale(tid: str, on: str, seller: str, buyer: str | None) -> dict[str, Any]:
        return {
            "id": tid,
            "type": "sale",
            "date": on,
            "entity": seller,
            "units": ["U1"],
            "buyer": {"category": "social_landlord", **({"entity": buyer} if buyer else {})},
            "price_eur": "100000.00",
        }

    recorded.ok(sale("S1", "2018-03-01", "ESH-A", "ESH-B"), sale("S2", "2018-05-01", "ESH-B", None))
    reversal = {"id": "R1", "type": "reversal", "date": "2018-06-01", "reverses": "S1"}
    assert booking_refused(recorded, {**reversal, "reason": "late"}) == "reversal_blocked"
