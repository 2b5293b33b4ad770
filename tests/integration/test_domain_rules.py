"""The DOMAIN rules of docs/transactions.md, one rule per test.

Given a ledger (`base_ledger()`: ESH-A holds U1 (rpls R1), U2, U3; ESH-B holds V1, V2;
FUND holds nothing; all registered on 2017-01-01) plus what the rule needs, when this
transaction, then this error (naming the line, the transaction, the unit or entity and
the rule; the journal unchanged) or these holdings.
"""

from __future__ import annotations

from typing import Any

import pytest

from projections import queries
from tests.support import LedgerHarness, base_ledger

# --- transactions -------------------------------------------------------------------


def entity(eid: str, date: str = "2017-01-01", tx_id: str | None = None) -> dict[str, Any]:
    return {
        "id": tx_id or f"ENT-{eid}",
        "type": "register_entity",
        "date": date,
        "entity": eid,
        "name": f"Entity {eid}",
        "kind": "hlm",
    }


def unit(uid: str, zone: str = "A", **extra: Any) -> dict[str, Any]:
    return {"unit_id": uid, "commune": "75056", "zone": zone, "segment": "social", **extra}


def register_units(
    tx_id: str, eid: str, units: list[dict[str, Any]], date: str = "2018-03-01"
) -> dict[str, Any]:
    return {"id": tx_id, "type": "register_units", "date": date, "entity": eid, "units": units}


def acquisition(
    tx_id: str,
    eid: str,
    units: list[dict[str, Any]],
    date: str = "2018-03-01",
    price: str = "500000.00",
) -> dict[str, Any]:
    return {
        "id": tx_id,
        "type": "acquisition",
        "date": date,
        "entity": eid,
        "mode": "existing",
        "price_eur": price,
        "units": units,
    }


def sale(
    tx_id: str,
    units: list[str],
    seller: str = "ESH-A",
    date: str = "2018-03-01",
    category: str | None = None,
    buyer_entity: str | None = None,
    price: str = "100000.00",
) -> dict[str, Any]:
    # A natural person by default; an HLM body (every entity of `base`) buys as one.
    category = category or ("social_landlord" if buyer_entity else "individual")
    buyer: dict[str, Any] = {"category": category}
    if buyer_entity:
        buyer["entity"] = buyer_entity
    return {
        "id": tx_id,
        "type": "sale",
        "date": date,
        "entity": seller,
        "units": units,
        "buyer": buyer,
        "price_eur": price,
    }


def bot(
    tx_id: str,
    units: list[str],
    transferor: str = "ESH-A",
    bare_owner: str = "FUND",
    date: str = "2018-03-01",
    end: str = "2038-03-01",
    consideration: str = "onerous",
    price: str | None = "1000.00",
) -> dict[str, Any]:
    tx = {
        "id": tx_id,
        "type": "bare_ownership_transfer",
        "date": date,
        "entity": transferor,
        "bare_owner": bare_owner,
        "units": units,
        "usufruct_end": end,
        "consideration": consideration,
    }
    if price is not None:
        tx["price_eur"] = price
    return tx


def extinguished(tx_id: str, units: list[str], date: str = "2019-03-01") -> dict[str, Any]:
    return {"id": tx_id, "type": "usufruct_extinguished", "date": date, "units": units}


def merger(tx_id: str, absorbed: list[str], into: str, date: str = "2018-06-01") -> dict[str, Any]:
    return {"id": tx_id, "type": "merger", "date": date, "absorbed": absorbed, "into": into}


def business(
    tx_id: str, biz: str, eid: str = "ESH-A", date: str = "2018-01-01", headcount: int = 10
) -> dict[str, Any]:
    return {
        "id": tx_id,
        "type": "register_business",
        "date": date,
        "entity": eid,
        "business": biz,
        "name": f"Business {biz}",
        "sector": "property_management",
        "headcount": headcount,
    }


def divestment(
    tx_id: str, biz: str, eid: str = "ESH-A", date: str = "2018-06-01", employees: int = 10
) -> dict[str, Any]:
    return {
        "id": tx_id,
        "type": "divestment",
        "date": date,
        "entity": eid,
        "business": biz,
        "buyer": "Group Y",
        "price_eur": "1000000.00",
        "employees_transferred": employees,
        "no_redundancy": True,
    }


def reversal(tx_id: str, reverses: str, date: str = "2018-12-01") -> dict[str, Any]:
    return {
        "id": tx_id,
        "type": "reversal",
        "date": date,
        "reverses": reverses,
        "reason": "entered by mistake",
    }


# --- helpers ----------------------------------------------------------------------------


def only_error(errors: list[str], tx: dict[str, Any], line: int = 1) -> str:
    """The one error, on `line`, about `tx`: its message after `FILE:LINE: type id: `."""
    assert len(errors) == 1, errors
    prefix = f"test.jsonl:{line}: {tx['type']} {tx['id']}: "
    assert errors[0].startswith(prefix), errors[0]
    return errors[0][len(prefix) :]


def refused(ledger: LedgerHarness, tx: dict[str, Any]) -> str:
    return only_error(ledger.rejected(tx), tx)


def held(ledger: LedgerHarness, **kwargs: Any) -> dict[str, tuple[int, int, int]]:
    """{entity: (full ownership, usufruct, bare ownership)}."""
    return {
        r["entity"]: (r["full_ownership"], r["usufruct"], r["bare_ownership"])
        for r in ledger.holdings(**kwargs)
    }


BASE = {"ESH-A": (3, 0, 0), "ESH-B": (2, 0, 0)}


@pytest.fixture
def base(ledger: LedgerHarness) -> LedgerHarness:
    ledger.ok(*base_ledger())
    return ledger


@pytest.fixture
def any_base(any_ledger: LedgerHarness) -> LedgerHarness:
    any_ledger.ok(*base_ledger())
    return any_ledger


# --- register_entity ----------------------------------------------------------------------


def test_registering_an_entity_that_is_already_registered_is_rejected(base):
    tx = entity("ESH-A", "2018-01-01", tx_id="ENT-ESH-A-2")
    message = refused(base, tx)
    assert "entity ESH-A" in message and "already registered" in message


def test_registering_an_entity_twice_in_one_file_is_rejected_on_the_second_line(ledger):
    second = entity("ESH-C", "2017-02-01", tx_id="ENT-ESH-C-2")
    message = only_error(ledger.rejected(entity("ESH-C"), second), second, line=2)
    assert "entity ESH-C" in message and "already registered" in message
    assert ledger.journal_size() == 0


def test_an_absorbed_entity_cannot_be_registered_again(base):
    base.ok(merger("MRG-1", ["ESH-B"], "ESH-A"))
    message = refused(base, entity("ESH-B", "2019-01-01", tx_id="ENT-ESH-B-2"))
    assert "entity ESH-B" in message
    assert "already registered" in message or "absorbed" in message


# --- register_units -----------------------------------------------------------------------


def test_registering_units_for_an_unknown_entity_is_rejected(base):
    message = refused(base, register_units("REG-1", "NOPE", [unit("N1")]))
    assert "NOPE" in message and "not a registered entity" in message


def test_registering_units_before_the_entity_is_registered_is_rejected(base):
    base.ok(entity("ESH-C", "2018-06-01"))
    message = refused(base, register_units("REG-1", "ESH-C", [unit("N1")], date="2018-05-31"))
    assert "ESH-C" in message and "registered from 2018-06-01" in message
    assert "2018-05-31" in message
    base.ok(register_units("REG-1", "ESH-C", [unit("N1")], date="2018-06-01"))
    assert held(base)["ESH-C"] == (1, 0, 0)


def test_registering_units_before_a_registration_earlier_in_the_same_file_is_rejected(base):
    tx = register_units("REG-1", "ESH-C", [unit("N1")], date="2018-05-31")
    message = only_error(base.rejected(entity("ESH-C", "2018-06-01"), tx), tx, line=2)
    assert "ESH-C" in message and "registered from 2018-06-01" in message


def test_registering_units_for_an_absorbed_entity_is_rejected(base):
    base.ok(merger("MRG-1", ["ESH-B"], "ESH-A"))
    message = refused(base, register_units("REG-1", "ESH-B", [unit("N1")], date="2018-07-01"))
    assert "ESH-B" in message and "absorbed by ESH-A" in message
    assert "no longer active" in message


@pytest.mark.parametrize(
    "tx",
    [
        register_units("REG-1", "ESH-B", [unit("N1"), unit("U1")]),
        acquisition("ACQ-1", "ESH-B", [unit("U1", zone="C")]),
    ],
)
def test_a_unit_id_already_in_the_ledger_cannot_be_registered_again(base, tx):
    message = refused(base, tx)
    assert "unit U1" in message and "already in the ledger" in message


def test_a_unit_that_left_the_ledger_by_a_sale_cannot_be_registered_again(base):
    base.ok(sale("S1", ["U1"]))
    message = refused(base, register_units("REG-1", "ESH-B", [unit("U1")], date="2018-06-01"))
    assert "unit U1" in message and "already in the ledger" in message


def test_a_unit_id_registered_earlier_in_the_same_file_cannot_be_registered_again(base):
    second = acquisition("ACQ-2", "ESH-B", [unit("N1")])
    errors = base.rejected(acquisition("ACQ-1", "ESH-A", [unit("N1")]), second)
    message = only_error(errors, second, line=2)
    assert "unit N1" in message and "already in the ledger" in message


def test_two_units_of_one_transaction_with_the_same_rpls_id_are_rejected(base):
    message = refused(
        base, acquisition("ACQ-1", "ESH-A", [unit("N1", rpls_id="R9"), unit("N2", rpls_id="R9")])
    )
    assert "rpls_id" in message
    assert "R9" in message, "the error should name the duplicated rpls_id"


def test_an_rpls_id_already_used_by_another_unit_is_rejected(base):
    message = refused(base, acquisition("ACQ-1", "ESH-B", [unit("N1", rpls_id="R1")]))
    assert "rpls_id R1" in message and "unit N1" in message and "unit U1" in message


def test_an_rpls_id_used_earlier_in_the_same_file_is_rejected(base):
    second = acquisition("ACQ-2", "ESH-B", [unit("N2", rpls_id="R8")])
    errors = base.rejected(acquisition("ACQ-1", "ESH-A", [unit("N1", rpls_id="R8")]), second)
    message = only_error(errors, second, line=2)
    assert "rpls_id R8" in message and "unit N1" in message


def test_a_unit_id_and_its_rpls_id_are_free_again_once_the_registering_transaction_is_reversed(
    any_base,
):
    any_base.ok(acquisition("ACQ-1", "ESH-A", [unit("N1", zone="C", rpls_id="R9")]))
    any_base.ok(reversal("REV-1", "ACQ-1", date="2018-03-02"))
    assert held(any_base) == BASE
    # the typical correction: record it again with the right zone
    any_base.ok(
        acquisition("ACQ-2", "ESH-A", [unit("N1", zone="Abis", rpls_id="R9")], date="2018-03-02")
    )
    zones = {r["zone"]: r["full_ownership"] for r in any_base.holdings(entity="ESH-A", by="zone")}
    assert zones == {"Abis": 1, "A": 1, "B1": 1, "C": 1}
    history = queries.history(any_base.session.current(), "N1")
    assert history is not None
    assert [(h.id, h.type, h.reversed) for h in history] == [
        ("ACQ-1", "acquisition", True),
        ("REV-1", "reversal", False),
        ("ACQ-2", "acquisition", False),
    ]


def test_an_rpls_id_is_free_for_another_unit_once_its_registration_is_reversed(base):
    base.ok(
        acquisition("ACQ-1", "ESH-A", [unit("N1", rpls_id="R9")]),
        reversal("REV-1", "ACQ-1", date="2018-03-02"),
    )
    base.ok(acquisition("ACQ-2", "ESH-B", [unit("N2", rpls_id="R9")], date="2018-03-02"))
    assert held(base) == {"ESH-A": (3, 0, 0), "ESH-B": (3, 0, 0)}


# --- acquisition ------------------------------------------------------------------------------


def test_an_acquisition_price_must_be_zero_or_more(base):
    message = refused(base, acquisition("ACQ-1", "ESH-A", [unit("N1")], price="-1.00"))
    assert "price_eur" in message and ">= 0" in message
    base.ok(acquisition("ACQ-1", "ESH-A", [unit("N1")], price="0.00"))
    assert held(base)["ESH-A"] == (4, 0, 0)


def test_an_acquisition_enters_the_units_in_full_ownership_of_the_acquirer(base):
    base.ok(acquisition("ACQ-1", "FUND", [unit("N1"), unit("N2")], date="2018-03-01"))
    assert held(base)["FUND"] == (2, 0, 0)
    assert "FUND" not in held(base, as_of="2018-02-28")


# --- sale ---------------------------------------------------------------------------------------


def test_a_sale_of_a_dismembered_unit_is_rejected_naming_the_usufructuary_and_bare_owner(base):
    base.ok(bot("BOT-1", ["U1"], date="2018-01-01"))
    message = refused(base, sale("S1", ["U1"], date="2018-05-03"))
    assert message == (
        "unit U1 is not held in full ownership by ESH-A on 2018-05-03 "
        "(its usufruct is held by ESH-A, its bare ownership by FUND)"
    )
    message = refused(base, sale("S2", ["U1"], seller="FUND", date="2018-05-03"))
    assert "unit U1" in message and "not held in full ownership by FUND" in message


def test_a_sale_of_a_unit_that_has_left_the_ledger_is_rejected(base):
    base.ok(sale("S1", ["U1"]))
    message = refused(base, sale("S2", ["U1"], date="2018-04-01"))
    assert "unit U1" in message and "not held in full ownership by ESH-A" in message
    assert "left the ledger" in message


def test_a_sale_of_a_unit_that_is_not_in_the_ledger_is_rejected(base):
    message = refused(base, sale("S1", ["U2", "NOPE"]))
    assert "unit NOPE" in message and "not in the ledger" in message


def test_a_sale_by_an_unknown_seller_is_rejected(base):
    message = refused(base, sale("S1", ["U1"], seller="NOPE"))
    assert "NOPE" in message and "not a registered entity" in message


def test_a_sale_to_a_sitting_tenant_is_of_exactly_one_unit(base):
    message = refused(base, sale("S1", ["U1", "U2"], category="sitting_tenant"))
    assert "sitting tenant" in message and "exactly one unit" in message
    base.ok(sale("S1", ["U1"], category="sitting_tenant"))
    assert held(base)["ESH-A"] == (2, 0, 0)


def test_a_sale_to_a_buyer_entity_that_is_not_registered_is_rejected(base):
    message = refused(base, sale("S1", ["U1"], buyer_entity="NOPE"))
    assert "buyer.entity NOPE" in message and "not a registered entity" in message


def test_a_sale_to_the_seller_itself_is_rejected(base):
    message = refused(base, sale("S1", ["U1"], buyer_entity="ESH-A"))
    assert "buyer.entity ESH-A" in message and "seller" in message


def test_a_sale_to_an_absorbed_buyer_entity_is_rejected(base):
    base.ok(merger("MRG-1", ["FUND"], "ESH-B", date="2018-01-01"))
    message = refused(base, sale("S1", ["U1"], buyer_entity="FUND"))
    assert "buyer.entity FUND" in message and "absorbed by ESH-B" in message


def test_a_sale_to_a_buyer_entity_registered_after_the_sale_date_is_rejected(base):
    base.ok(entity("ESH-C", "2019-01-01"))
    message = refused(base, sale("S1", ["U1"], buyer_entity="ESH-C", date="2018-06-01"))
    assert "buyer.entity ESH-C" in message and "registered from 2019-01-01" in message


def test_units_sold_to_a_registered_entity_pass_to_it_in_full_ownership_and_stay(base):
    base.ok(sale("S1", ["U1", "U2"], buyer_entity="ESH-B", date="2018-06-01"))
    assert held(base) == {"ESH-A": (1, 0, 0), "ESH-B": (4, 0, 0)}
    assert held(base, as_of="2018-05-31") == BASE
    # the buyer holds them: it can sell them on, the seller cannot
    refused(base, sale("S2", ["U1"], seller="ESH-A", date="2018-07-01"))
    base.ok(sale("S2", ["U1"], seller="ESH-B", date="2018-07-01"))
    assert held(base) == {"ESH-A": (1, 0, 0), "ESH-B": (3, 0, 0)}


def test_units_sold_without_a_buyer_entity_leave_the_ledger(base):
    base.ok(sale("S1", ["U1", "U2"], category="social_landlord", date="2018-06-01"))
    assert held(base) == {"ESH-A": (1, 0, 0), "ESH-B": (2, 0, 0)}
    assert sum(sum(v) for v in held(base).values()) == 3


# --- bare_ownership_transfer -------------------------------------------------------------


def test_a_bare_ownership_transfer_leaves_the_usufruct_with_the_transferor(base):
    base.ok(bot("BOT-1", ["U1", "U2"]))
    assert held(base) == {"ESH-A": (1, 2, 0), "ESH-B": (2, 0, 0), "FUND": (0, 0, 2)}


@pytest.mark.parametrize("end", ["2018-03-01", "2018-02-28", "2010-01-01"])
def test_the_usufruct_must_end_after_the_transfer_date(base, end):
    message = refused(base, bot("BOT-1", ["U1"], date="2018-03-01", end=end))
    assert f"usufruct_end {end}" in message and "after 2018-03-01" in message


def test_a_usufruct_of_exactly_30_years_is_accepted(base):
    base.ok(bot("BOT-1", ["U1"], date="2018-03-01", end="2048-03-01"))
    assert held(base)["FUND"] == (0, 0, 1)


def test_a_usufruct_of_30_years_and_one_day_is_rejected(base):
    message = refused(base, bot("BOT-1", ["U1"], date="2018-03-01", end="2048-03-02"))
    assert "usufruct_end 2048-03-02" in message and "2048-03-01" in message
    assert "30 years" in message


def test_a_usufruct_granted_on_29_february_may_run_to_28_february_30_years_later(base):
    message = refused(base, bot("BOT-1", ["U1"], date="2020-02-29", end="2050-03-02"))
    assert "usufruct_end 2050-03-02" in message and "30 years" in message
    base.ok(bot("BOT-1", ["U1"], date="2020-02-29", end="2050-02-28"))
    assert held(base)["FUND"] == (0, 0, 1)


def test_a_gratuitous_transfer_with_a_price_is_rejected(base):
    message = refused(base, bot("BOT-1", ["U1"], consideration="gratuitous", price="1000.00"))
    assert "gratuitous" in message and "price" in message
    base.ok(
        bot("BOT-1", ["U1"], consideration="gratuitous", price=None),
        bot("BOT-2", ["U2"], consideration="gratuitous", price="0.00"),
    )
    assert held(base)["FUND"] == (0, 0, 2)


@pytest.mark.parametrize("price", [None, "0.00"])
def test_an_onerous_transfer_without_a_price_is_rejected(base, price):
    message = refused(base, bot("BOT-1", ["U1"], consideration="onerous", price=price))
    assert "onerous" in message and "price_eur > 0" in message


def test_a_transfer_to_the_transferor_itself_is_rejected(base):
    message = refused(base, bot("BOT-1", ["U1"], bare_owner="ESH-A"))
    assert "bare_owner ESH-A" in message and "transferor" in message


def test_a_transfer_to_an_unknown_bare_owner_is_rejected(base):
    message = refused(base, bot("BOT-1", ["U1"], bare_owner="NOPE"))
    assert "bare_owner NOPE" in message and "not a registered entity" in message


def test_a_transfer_of_a_unit_not_held_in_full_ownership_by_the_transferor_is_rejected(base):
    base.ok(bot("BOT-1", ["U1"]))
    message = refused(base, bot("BOT-2", ["U1"], bare_owner="ESH-B", date="2018-04-01"))
    assert "unit U1 is not held in full ownership by ESH-A" in message
    assert "its bare ownership by FUND" in message
    message = refused(base, bot("BOT-3", ["V1"], date="2018-04-01"))
    assert "unit V1" in message and "held in full ownership by ESH-B" in message


# --- usufruct_extinguished ------------------------------------------------------------------


def test_extinguishing_the_usufruct_of_a_unit_that_is_not_dismembered_is_rejected(base):
    message = refused(base, extinguished("EXT-1", ["U2"]))
    assert "unit U2" in message and "not dismembered" in message
    assert "held in full ownership by ESH-A" in message


def test_when_the_usufruct_ends_the_bare_owner_becomes_full_owner(base):
    base.ok(bot("BOT-1", ["U1", "U2"]), extinguished("EXT-1", ["U1"], date="2019-03-01"))
    assert held(base) == {"ESH-A": (1, 1, 0), "ESH-B": (2, 0, 0), "FUND": (1, 0, 1)}
    assert held(base, as_of="2019-02-28")["FUND"] == (0, 0, 2)
    refused(base, sale("S1", ["U1"], seller="ESH-A", date="2019-04-01"))
    base.ok(sale("S1", ["U1"], seller="FUND", date="2019-04-01"))


# --- merger --------------------------------------------------------------------------------


def test_a_merger_into_one_of_the_absorbed_entities_is_rejected(base):
    message = refused(base, merger("MRG-1", ["ESH-B", "ESH-A"], "ESH-A"))
    assert "into ESH-A" in message and "absorbed" in message


def test_a_merger_listing_an_absorbed_entity_twice_is_rejected(base):
    message = refused(base, merger("MRG-1", ["ESH-B", "FUND", "ESH-B"], "ESH-A"))
    assert "absorbed" in message and "ESH-B twice" in message


@pytest.mark.parametrize(
    "absorbed, into, named",
    [
        (["NOPE"], "ESH-A", "absorbed entity NOPE"),
        (["ESH-B", "NOPE"], "ESH-A", "absorbed entity NOPE"),
        (["ESH-B"], "NOPE", "into NOPE"),
    ],
)
def test_a_merger_naming_an_unknown_entity_is_rejected(base, absorbed, into, named):
    message = refused(base, merger("MRG-1", absorbed, into))
    assert named in message and "not a registered entity" in message


def test_a_merger_naming_an_entity_registered_after_its_date_is_rejected(base):
    base.ok(entity("ESH-C", "2019-01-01"))
    message = refused(base, merger("MRG-1", ["ESH-C"], "ESH-A", date="2018-06-01"))
    assert "ESH-C" in message and "registered from 2019-01-01" in message


@pytest.mark.parametrize(
    "later",
    [
        sale("S1", ["V1"], seller="ESH-B", date="2018-07-01"),
        sale("S1", ["U1"], buyer_entity="ESH-B", date="2018-07-01"),
        bot("BOT-1", ["U1"], bare_owner="ESH-B", date="2018-07-01"),
        merger("MRG-2", ["FUND"], "ESH-B", date="2018-07-01"),
        merger("MRG-2", ["ESH-B"], "FUND", date="2018-07-01"),
        register_units("REG-1", "ESH-B", [unit("N1")], date="2018-07-01"),
        business("BIZ-1", "ADB", eid="ESH-B", date="2018-07-01"),
    ],
    ids=[
        "seller",
        "buyer.entity",
        "bare_owner",
        "into",
        "absorbed again",
        "register_units",
        "register_business",
    ],
)
def test_an_absorbed_entity_may_not_appear_in_any_later_transaction(base, later):
    base.ok(merger("MRG-1", ["ESH-B"], "ESH-A", date="2018-06-01"))
    message = refused(base, later)
    assert "ESH-B" in message and "absorbed by ESH-A" in message


def test_an_entity_absorbed_earlier_in_the_same_file_may_not_appear_later_in_it(base):
    later = sale("S1", ["V1"], seller="ESH-B", date="2018-07-01")
    errors = base.rejected(merger("MRG-1", ["ESH-B"], "ESH-A", date="2018-06-01"), later)
    message = only_error(errors, later, line=2)
    assert "ESH-B" in message and "absorbed by ESH-A" in message


def test_a_merger_passes_every_right_of_the_absorbed_entities_to_into(any_base):
    any_base.ok(
        bot("BOT-1", ["V1"], transferor="ESH-B", bare_owner="FUND", date="2018-01-01"),
        merger("MRG-1", ["ESH-B"], "ESH-A", date="2018-06-01"),
    )
    assert held(any_base) == {"ESH-A": (4, 1, 0), "FUND": (0, 0, 1)}
    assert held(any_base, as_of="2018-05-31") == {
        "ESH-A": (3, 0, 0),
        "ESH-B": (1, 1, 0),
        "FUND": (0, 0, 1),
    }
    any_base.ok(sale("S1", ["V2"], seller="ESH-A", date="2018-07-01"))
    assert held(any_base)["ESH-A"] == (3, 1, 0)


def test_a_merger_into_the_bare_owner_consolidates_the_unit_in_full_ownership(any_base):
    any_base.ok(
        bot("BOT-1", ["U1"], date="2018-01-01"),
        merger("MRG-1", ["ESH-A"], "FUND", date="2018-06-01"),
    )
    assert held(any_base) == {"ESH-B": (2, 0, 0), "FUND": (3, 0, 0)}
    message = refused(any_base, extinguished("EXT-1", ["U1"], date="2018-07-01"))
    assert "unit U1" in message and "not dismembered" in message
    any_base.ok(sale("S1", ["U1"], seller="FUND", date="2018-07-01"))


def test_a_merger_into_the_usufructuary_consolidates_the_unit_in_full_ownership(base):
    base.ok(
        bot("BOT-1", ["U1"], date="2018-01-01"),
        merger("MRG-1", ["FUND"], "ESH-A", date="2018-06-01"),
    )
    assert held(base) == {"ESH-A": (3, 0, 0), "ESH-B": (2, 0, 0)}


def test_a_merger_absorbing_both_the_usufructuary_and_the_bare_owner_consolidates_in_into(any_base):
    any_base.ok(
        bot("BOT-1", ["U1"], date="2018-01-01"),
        merger("MRG-1", ["ESH-A", "FUND"], "ESH-B", date="2018-06-01"),
    )
    assert held(any_base) == {"ESH-B": (5, 0, 0)}
    assert held(any_base, as_of="2018-05-31") == {
        "ESH-A": (2, 1, 0),
        "ESH-B": (2, 0, 0),
        "FUND": (0, 0, 1),
    }


def test_a_merger_passes_the_businesses_still_held_but_not_the_divested_ones(base):
    base.ok(
        business("BIZ-1", "ADB", eid="ESH-B"),
        business("BIZ-2", "PROMO", eid="ESH-B"),
        divestment("DIV-2", "PROMO", eid="ESH-B", date="2018-03-01"),
        merger("MRG-1", ["ESH-B"], "ESH-A", date="2018-06-01"),
    )
    message = refused(base, divestment("DIV-3", "PROMO", eid="ESH-A", date="2018-07-01"))
    assert "business PROMO" in message and "already divested" in message
    base.ok(divestment("DIV-1", "ADB", eid="ESH-A", date="2018-07-01"))


# --- register_business and divestment --------------------------------------------------------


def test_a_business_can_only_be_divested_by_the_entity_that_holds_it(base):
    base.ok(business("BIZ-1", "ADB", eid="ESH-A"))
    message = refused(base, divestment("DIV-1", "ADB", eid="ESH-B"))
    assert "business ADB" in message and "not held by ESH-B" in message
    assert "held by ESH-A" in message


def test_a_business_cannot_be_divested_twice(base):
    base.ok(business("BIZ-1", "ADB"), divestment("DIV-1", "ADB"))
    message = refused(base, divestment("DIV-2", "ADB", date="2018-07-01"))
    assert "business ADB" in message and "already divested" in message


def test_employees_transferred_may_not_exceed_the_headcount(base):
    base.ok(business("BIZ-1", "ADB", headcount=10))
    message = refused(base, divestment("DIV-1", "ADB", employees=11))
    assert "employees_transferred 11" in message and "headcount 10" in message
    assert "ADB" in message
    base.ok(divestment("DIV-1", "ADB", employees=10))


def test_a_business_id_cannot_be_registered_twice(base):
    base.ok(business("BIZ-1", "ADB"))
    message = refused(base, business("BIZ-2", "ADB", eid="ESH-B", date="2018-02-01"))
    assert "business ADB" in message and "already registered" in message


def test_divesting_an_unknown_business_is_rejected(base):
    message = refused(base, divestment("DIV-1", "NOPE"))
    assert "business NOPE" in message and "not registered" in message


def test_a_business_of_an_unknown_owner_is_rejected(base):
    message = refused(base, business("BIZ-1", "ADB", eid="NOPE"))
    assert "NOPE" in message and "not a registered entity" in message


# --- reversal ------------------------------------------------------------------------------


def test_reversing_an_unknown_transaction_is_rejected(base):
    message = refused(base, reversal("REV-1", "NOPE"))
    assert "transaction NOPE" in message and "not recorded" in message


def test_a_reversal_cannot_be_reversed(base):
    base.ok(sale("S1", ["U1"]), reversal("REV-1", "S1"))
    message = refused(base, reversal("REV-2", "REV-1"))
    assert "REV-1" in message and "is a reversal" in message


def test_a_transaction_cannot_be_reversed_twice(base):
    base.ok(sale("S1", ["U1"]), reversal("REV-1", "S1"))
    message = refused(base, reversal("REV-2", "S1"))
    assert "S1" in message and "already reversed by REV-1" in message


def test_a_reversal_is_blocked_while_a_later_transaction_touched_its_units(base):
    base.ok(
        sale("S1", ["U1"], buyer_entity="ESH-B", date="2018-03-01"),
        sale("S2", ["U1"], seller="ESH-B", date="2018-04-01"),
    )
    message = refused(base, reversal("REV-1", "S1"))
    assert "unit U1" in message and "S1" in message and "S2" in message
    # once the later transaction is reversed, the earlier one can be
    base.ok(reversal("REV-2", "S2"), reversal("REV-1", "S1"))
    assert held(base) == BASE


def test_a_merger_reversal_is_blocked_once_into_used_a_unit_it_received(base):
    base.ok(merger("MRG-1", ["ESH-B"], "ESH-A"), sale("S1", ["V1"], date="2018-07-01"))
    message = refused(base, reversal("REV-1", "MRG-1"))
    assert "unit V1" in message and "MRG-1" in message and "S1" in message


def test_a_sale_can_be_reversed_although_the_seller_went_on_selling_other_units(any_base):
    any_base.ok(sale("S1", ["U1"], date="2018-03-01"), sale("S2", ["U2"], date="2018-04-01"))
    any_base.ok(reversal("REV-1", "S1", date="2018-05-01"))
    assert held(any_base) == {"ESH-A": (2, 0, 0), "ESH-B": (2, 0, 0)}
    any_base.ok(sale("S3", ["U1"], buyer_entity="FUND", date="2018-06-01"))
    assert held(any_base)["FUND"] == (1, 0, 0)


def test_an_entity_registration_cannot_be_reversed_once_a_later_transaction_names_it(base):
    message = refused(base, reversal("REV-1", "ENT-ESH-A"))
    assert "entity ESH-A" in message and "OPEN-A" in message
    base.ok(entity("ESH-C", "2018-01-01"), bot("BOT-1", ["U1"], bare_owner="ESH-C"))
    message = refused(base, reversal("REV-2", "ENT-ESH-C"))
    assert "entity ESH-C" in message and "BOT-1" in message


def test_an_entity_registration_can_be_reversed_while_no_later_transaction_names_it(base):
    base.ok(reversal("REV-1", "ENT-FUND", date="2018-01-01"))
    message = refused(base, sale("S1", ["U1"], buyer_entity="FUND"))
    assert "buyer.entity FUND" in message and "not a registered entity" in message
    # its id is free again
    base.ok(entity("FUND", "2018-02-01", tx_id="ENT-FUND-2"))
    base.ok(sale("S1", ["U1"], buyer_entity="FUND"))
    assert held(base)["FUND"] == (1, 0, 0)


def test_a_reversed_transaction_naming_an_entity_does_not_block_reversing_its_registration(base):
    base.ok(
        entity("ESH-C", "2018-01-01"),
        bot("BOT-1", ["U1"], bare_owner="ESH-C"),
        reversal("REV-1", "BOT-1", date="2018-04-01"),
    )
    base.ok(reversal("REV-2", "ENT-ESH-C", date="2018-04-01"))
    assert held(base) == BASE


def test_a_reversal_is_rejected_when_an_entity_it_names_has_since_been_absorbed(base):
    # U1 is not touched by the merger (ESH-B holds it): only the absorption blocks
    base.ok(
        sale("S1", ["U1"], buyer_entity="ESH-B", date="2018-03-01"),
        merger("MRG-1", ["ESH-A"], "FUND", date="2018-06-01"),
    )
    message = refused(base, reversal("REV-1", "S1"))
    assert "ESH-A" in message and "absorbed" in message and "S1" in message


def test_reversing_a_merger_restores_the_absorbed_entities_and_the_holders(any_base):
    any_base.ok(merger("MRG-1", ["ESH-B"], "ESH-A", date="2018-06-01"))
    assert held(any_base) == {"ESH-A": (5, 0, 0)}
    any_base.ok(reversal("REV-1", "MRG-1", date="2018-07-01"))
    assert held(any_base) == BASE
    assert held(any_base, as_of="2018-06-30") == BASE
    refused(any_base, sale("S1", ["V1"], seller="ESH-A", date="2018-08-01"))
    any_base.ok(sale("S1", ["V1"], seller="ESH-B", date="2018-08-01"))
    assert held(any_base) == {"ESH-A": (3, 0, 0), "ESH-B": (1, 0, 0)}


def test_reversing_a_consolidating_merger_restores_the_dismemberment(any_base):
    any_base.ok(
        bot("BOT-1", ["U1"], date="2018-01-01"),
        merger("MRG-1", ["FUND"], "ESH-A", date="2018-06-01"),
    )
    assert held(any_base) == {"ESH-A": (3, 0, 0), "ESH-B": (2, 0, 0)}
    any_base.ok(reversal("REV-1", "MRG-1", date="2018-07-01"))
    assert held(any_base) == {"ESH-A": (2, 1, 0), "ESH-B": (2, 0, 0), "FUND": (0, 0, 1)}
    any_base.ok(extinguished("EXT-1", ["U1"], date="2018-08-01"))
    assert held(any_base)["FUND"] == (1, 0, 0)


def test_a_transaction_reversed_in_the_same_file_frees_its_unit_ids_in_that_file(base):
    base.ok(
        acquisition("ACQ-1", "ESH-A", [unit("N1", zone="C")]),
        reversal("REV-1", "ACQ-1", date="2018-03-01"),
        acquisition("ACQ-2", "ESH-A", [unit("N1", zone="A")]),
    )
    zones = {r["zone"]: r["full_ownership"] for r in base.holdings(entity="ESH-A", by="zone")}
    assert zones == {"A": 2, "B1": 1, "C": 1}


# --- dates never go back ------------------------------------------------------------------


def test_a_transaction_dated_before_the_latest_one_on_the_same_unit_is_rejected(base):
    base.ok(sale("S1", ["U1"], buyer_entity="ESH-B", date="2018-06-01"))
    message = refused(base, sale("S2", ["U1"], seller="ESH-B", date="2018-05-31"))
    assert "unit U1" in message and "2018-06-01" in message and "S1" in message
    assert "2018-05-31" in message
    base.ok(sale("S2", ["U1"], seller="ESH-B", date="2018-06-01"))


def test_a_transaction_on_other_units_may_be_dated_earlier(base):
    base.ok(sale("S1", ["U1"], date="2018-06-01"))
    base.ok(sale("S2", ["U2"], date="2018-01-01"))
    assert held(base, as_of="2018-03-01")["ESH-A"] == (2, 0, 0)
    assert held(base, as_of="2018-12-31")["ESH-A"] == (1, 0, 0)


def test_a_date_before_a_reversed_transaction_on_the_unit_is_allowed(base):
    base.ok(sale("S1", ["U1"], date="2019-01-01"), reversal("REV-1", "S1", date="2019-02-01"))
    base.ok(sale("S2", ["U1"], date="2018-06-01"))
    assert held(base, as_of="2018-12-31")["ESH-A"] == (2, 0, 0)


def test_dates_never_go_back_for_a_business(base):
    base.ok(business("BIZ-1", "ADB", date="2018-06-01"))
    message = refused(base, divestment("DIV-1", "ADB", date="2018-05-31"))
    assert "business ADB" in message and "2018-06-01" in message and "BIZ-1" in message


def test_a_merger_dated_before_the_latest_transaction_on_a_unit_it_moves_is_rejected(base):
    base.ok(bot("BOT-1", ["V1"], transferor="ESH-B", date="2018-09-01"))
    message = refused(base, merger("MRG-1", ["ESH-B"], "ESH-A", date="2018-06-01"))
    assert "unit V1" in message and "2018-09-01" in message and "BOT-1" in message


def test_a_merger_cannot_be_dated_before_an_earlier_merger_of_the_same_entity(base):
    base.ok(merger("MRG-1", ["ESH-B"], "ESH-A", date="2019-01-01"))
    message = refused(base, merger("MRG-2", ["FUND"], "ESH-A", date="2018-06-01"))
    assert "entity ESH-A" in message and "2019-01-01" in message and "2018-06-01" in message


def test_a_merger_cannot_absorb_an_entity_before_its_latest_transaction(base):
    # ESH-B sold V1 out of the ledger on 2019-01-01: it cannot have been absorbed before
    base.ok(sale("S1", ["V1"], seller="ESH-B", date="2019-01-01"))
    message = refused(base, merger("MRG-1", ["ESH-B"], "ESH-A", date="2018-06-01"))
    assert "ESH-B" in message and "2019-01-01" in message


# --- idempotency ----------------------------------------------------------------------------


def test_reimporting_the_same_file_records_nothing_and_counts_every_line_as_already_recorded(
    any_base,
):
    size, position = any_base.journal_size(), any_base.position()
    result = any_base.ok(*base_ledger())
    assert (result.recorded, result.already_recorded) == (0, len(base_ledger()))
    assert (any_base.journal_size(), any_base.position()) == (size, position)
    assert held(any_base) == BASE


def test_a_file_recorded_in_part_before_is_finished_without_duplicates(ledger):
    ledger.ok(*base_ledger()[:3])
    result = ledger.ok(*base_ledger())
    assert (result.recorded, result.already_recorded) == (2, 3)
    assert held(ledger) == BASE


def test_the_same_content_with_keys_in_another_order_is_already_recorded(base):
    tx = base_ledger()[3]
    reordered = dict(reversed(list(tx.items())))
    result = base.ok(reordered)
    assert (result.recorded, result.already_recorded) == (0, 1)


def test_the_same_id_with_different_content_is_rejected(base):
    tx = entity("ESH-A") | {"name": "Another name"}
    message = refused(base, tx)
    assert "ENT-ESH-A" in message and "already recorded with different content" in message


def test_the_same_line_twice_in_one_file_is_recorded_once(base):
    tx = sale("S1", ["U1"])
    result = base.ok(tx, tx)
    assert result.recorded == 1 and result.recorded + result.already_recorded == 2
    assert held(base)["ESH-A"] == (2, 0, 0)
    history = queries.history(base.session.current(), "U1")
    assert [h.id for h in history or []] == ["OPEN-A", "S1"]


def test_the_same_id_twice_in_one_file_with_different_content_is_rejected(base):
    second = sale("S1", ["U2"])
    message = only_error(base.rejected(sale("S1", ["U1"]), second), second, line=2)
    assert "S1" in message and "different content" in message


def test_the_id_of_a_reversed_transaction_is_never_reused(base):
    base.ok(sale("S1", ["U1"]), reversal("REV-1", "S1"))
    message = refused(base, sale("S1", ["U2"]))
    assert "S1" in message and "already recorded" in message
    # the very same line again is skipped: it does not take effect a second time
    result = base.ok(sale("S1", ["U1"]))
    assert (result.recorded, result.already_recorded) == (0, 1)
    assert held(base) == BASE


# --- "as of" and "known at" with reversals ------------------------------------------------


def test_holdings_as_of_a_past_date_ignore_a_reversed_sale_unless_known_at_before_it(any_base):
    any_base.ok(sale("S1", ["U1"], date="2018-06-01"))
    before_reversal = any_base.position()
    any_base.ok(reversal("REV-1", "S1", date="2018-09-01"))
    # after the reversal, the sale never took effect, on any date
    assert held(any_base, as_of="2018-07-01") == BASE
    assert held(any_base) == BASE
    # as the ledger stood before the reversal, it did
    sold = {"ESH-A": (2, 0, 0), "ESH-B": (2, 0, 0)}
    assert held(any_base, as_of="2018-07-01", known_at=before_reversal) == sold
    assert held(any_base, known_at=before_reversal) == sold
    assert held(any_base, as_of="2018-05-31", known_at=before_reversal) == BASE
    conn = any_base.session.current()
    then = queries.history(conn, "U1", known_at=before_reversal)
    now = queries.history(conn, "U1")
    assert [(h.id, h.reversed) for h in then or []] == [("OPEN-A", False), ("S1", False)]
    assert [(h.id, h.reversed) for h in now or []] == [
        ("OPEN-A", False),
        ("S1", True),
        ("REV-1", False),
    ]
