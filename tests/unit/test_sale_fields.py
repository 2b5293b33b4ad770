"""What the RPLS asks of a sale (issue 12, part 4), with no database: the arrêté's sale
types as buyer categories, a sale's net proceeds, an acquisition's seller SIRET (the
parse and booking rules), the split of a lot's amounts in cents, the code mappings, and
version 1 of `Unit.Sold` read by the library's mapper (upcast) and by the fold alike."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import orjson
import pytest
from eventsourcing.persistence import StoredEvent
from hypothesis import given
from hypothesis import strategies as st

from ledger.booking.transactions import parse_transaction
from ledger.domain import Unit, unit_key
from ledger.domain.unit import SALE_V2_FIELDS
from ledger.domain.values import SINGLE_HOME_BUYERS, BuyerCategory, split_cents
from ledger.errors import InvalidField
from ledger.storage.application import HousingLedger
from projections.fold.rows import StoredRow
from projections.reports import rpls_codes as codes
from tests.fakes import InMemoryLedger, current, fold_journal

ENTITIES = [
    {"id": f"ENT-{e}", "type": "register_entity", "date": "2017-01-01", "entity": e,
     "name": e, "kind": kind}
    for e, kind in (("ESH", "hlm"), ("SEM-93", "other"))
]  # fmt: skip
OPEN = {
    "id": "OPEN", "type": "register_units", "date": "2017-01-01", "entity": "ESH",
    "units": [
        {"unit_id": f"U-{i}", "commune": "93066", "zone": "A", "segment": "social"}
        for i in range(1, 5)
    ],
}  # fmt: skip
SALE = {
    "id": "S1", "type": "sale", "date": "2018-03-01", "entity": "ESH",
    "units": ["U-3", "U-1", "U-2"], "buyer": {"category": "sem", "entity": "SEM-93"},
    "price_eur": "100000.00", "net_proceeds_eur": "-100.01",
}  # fmt: skip
ACQUISITION = {
    "id": "ACQ", "type": "acquisition", "date": "2018-01-01", "entity": "ESH",
    "mode": "existing", "price_eur": "150000.00", "seller": "SCI Les Tilleuls",
    "seller_siret": "41234567800012",
    "units": [{"unit_id": "U-9", "commune": "93066", "zone": "A", "segment": "social"}],
}  # fmt: skip


def invalid(tx: dict[str, Any]) -> InvalidField:
    with pytest.raises(InvalidField) as error:
        parse_transaction(tx)
    return error.value


# --- the input format -----------------------------------------------------------------


@pytest.mark.parametrize("category", [c.value for c in BuyerCategory])
def test_every_category_of_the_arrete_is_a_buyer_category(category: str) -> None:
    tx = parse_transaction({**SALE, "buyer": {"category": category}})
    assert tx["buyer"]["category"] == category


def test_the_new_categories_are_the_missing_sale_types() -> None:
    added = {"tenant_family", "caretaker", "sem", "local_authority", "approved_body"}
    assert added <= {c.value for c in BuyerCategory}
    assert len(BuyerCategory) == 11


@pytest.mark.parametrize("net", ["100000.00", "0.00", "-0.01", "-250000.50", "99999.99"])
def test_net_proceeds_may_be_negative_and_up_to_the_price(net: str) -> None:
    assert parse_transaction({**SALE, "net_proceeds_eur": net})["net_proceeds_eur"] == Decimal(net)


def test_a_sale_without_net_proceeds_has_none() -> None:
    tx = {k: v for k, v in SALE.items() if k != "net_proceeds_eur"}
    assert parse_transaction(tx)["net_proceeds_eur"] is None
    assert parse_transaction({**tx, "net_proceeds_eur": None})["net_proceeds_eur"] is None


@pytest.mark.parametrize(
    ("net", "code", "says"),
    [
        ("100000.01", "net_proceeds_above_price", "is more than price_eur 100000.00"),
        ("1e5", "money_format", "is not an amount"),
        ("12.345", "money_format", "is not an amount"),
        (-100, "money_type", "must be a decimal string"),
        (12.5, "money_type", "must be a decimal string"),
    ],
)
def test_net_proceeds_rules(net: Any, code: str, says: str) -> None:
    error = invalid({**SALE, "net_proceeds_eur": net})
    assert (error.code, "'net_proceeds_eur'" in error.message) == (code, True)
    assert says in error.message and error.message.startswith("sale S1: ")


def test_an_acquisition_may_give_its_sellers_siret() -> None:
    assert parse_transaction(ACQUISITION)["seller_siret"] == "41234567800012"
    assert parse_transaction({**ACQUISITION, "seller_siret": None})["seller_siret"] is None


@pytest.mark.parametrize("siret", ["4123456780001", "412345678000123", "4123456780001A", 1])
def test_a_seller_siret_is_14_digits(siret: Any) -> None:
    error = invalid({**ACQUISITION, "seller_siret": siret})
    assert error.code == "siret_format"
    assert "field 'seller_siret' must be 14 digits (a SIRET)" in error.message


def test_a_seller_siret_needs_the_seller() -> None:
    error = invalid({k: v for k, v in ACQUISITION.items() if k != "seller"})
    assert error.code == "missing_field" and "'seller'" in error.message


def test_the_new_fields_belong_to_their_type_only() -> None:
    assert invalid({**ACQUISITION, "net_proceeds_eur": "1.00"}).code == "unknown_field"
    assert invalid({**SALE, "seller_siret": "41234567800012"}).code == "unknown_field"


# --- the booking ----------------------------------------------------------------------


@pytest.mark.parametrize("category", sorted(SINGLE_HOME_BUYERS))
def test_a_sale_of_the_tenants_home_is_of_one_unit(category: str) -> None:
    ledger = InMemoryLedger()
    ledger.ok(*ENTITIES, OPEN)
    result = ledger.record({**SALE, "units": ["U-1", "U-2"], "buyer": {"category": category}})
    assert len(result.errors) == 1
    assert "exactly one unit" in str(result.errors[0])
    ledger.ok({**SALE, "units": ["U-1"], "buyer": {"category": category}})


def test_each_unit_sold_records_its_shares_of_the_lots_amounts() -> None:
    ledger = InMemoryLedger()
    ledger.ok(*ENTITIES, OPEN, SALE)
    sold = {
        row.state["transaction"] + ":" + row.key: row.state
        for row in ledger.store.rows()
        if row.topic.endswith("Unit.Sold")
    }
    shares = {
        unit: sold[f"S1:{unit_key(unit).hex}"] for unit in ("U-3", "U-1", "U-2")
    }  # in the sale's order: the first unit gets the leftover cent
    assert {u: s["price_eur"]["_data_"] for u, s in shares.items()} == {
        "U-3": "33333.34", "U-1": "33333.33", "U-2": "33333.33",
    }  # fmt: skip
    assert {u: s["net_proceeds_eur"]["_data_"] for u, s in shares.items()} == {
        "U-3": "-33.33", "U-1": "-33.34", "U-2": "-33.34",
    }  # fmt: skip
    assert {s["class_version"] for s in shares.values()} == {2}
    moves = {
        (r["unit_key"], r["entity"], r["kind"]): (r["price_eur"], r["net_proceeds_eur"])
        for r in fold_journal(ledger.store.rows()).new["hl_movements"]
        if r["txn"] == "S1"
    }
    assert moves[(unit_key("U-3").hex, "ESH", "transferred")] == ("33333.34", "-33.33")
    assert moves[(unit_key("U-3").hex, "SEM-93", "received")] == (None, None)


# --- the split in cents ---------------------------------------------------------------


@given(
    st.integers(-(10**17) + 1, 10**17 - 1),
    st.integers(1, 400),
)
def test_shares_add_up_to_the_total_and_differ_by_one_cent_at_most(cents: int, parts: int) -> None:
    total = Decimal(cents).scaleb(-2)
    shares = split_cents(total, parts)
    assert len(shares) == parts
    assert sum(shares) == total
    in_cents = [int(s.scaleb(2)) for s in shares]
    assert max(in_cents) - min(in_cents) <= 1
    assert in_cents == sorted(in_cents, reverse=True)  # the leftover cents go to the first
    assert all(s.as_tuple().exponent == -2 for s in shares)  # 2 decimals, "0.00" included


def test_the_split_of_a_loss_gives_the_first_units_the_smaller_loss() -> None:
    assert split_cents(Decimal("-1.01"), 2) == [Decimal("-0.50"), Decimal("-0.51")]
    assert split_cents(Decimal("100.00"), 3) == [Decimal("33.34"), Decimal("33.33")] + [
        Decimal("33.33")
    ]
    assert [str(s) for s in split_cents(Decimal("0.05"), 3)] == ["0.02", "0.02", "0.01"]


@pytest.mark.parametrize(("total", "parts"), [(Decimal("1.001"), 2), (Decimal("1.00"), 0)])
def test_the_split_refuses_what_is_not_money_or_no_unit(total: Decimal, parts: int) -> None:
    with pytest.raises(ValueError):
        split_cents(total, parts)


# --- the RPLS codes -------------------------------------------------------------------


def test_every_buyer_category_has_a_sale_type_and_an_exit_reason() -> None:
    assert set(codes.SALE_TYPE) == set(BuyerCategory) == set(codes.SALE_EXIT)
    assert sorted(set(codes.SALE_TYPE.values())) == [f"{n:02d}" for n in range(1, 11)]
    assert {c for c, t in codes.SALE_TYPE.items() if t == "10"} == {
        BuyerCategory.INSTITUTIONAL, BuyerCategory.OTHER,
    }  # fmt: skip


def test_exit_1_is_the_occupant_and_exit_2_the_social_landlords() -> None:
    by_exit: dict[codes.Exit, set[str]] = {}
    for category, exit_reason in codes.SALE_EXIT.items():
        by_exit.setdefault(exit_reason, set()).add(category.value)
    assert by_exit == {
        codes.Exit.SOLD_TO_OCCUPANT: {"sitting_tenant"},
        codes.Exit.SOLD_TO_SOCIAL_LANDLORD: {"social_landlord", "sem", "approved_body"},
        codes.Exit.OTHER_SALE: {
            "tenant_family", "tenant", "caretaker", "individual", "local_authority",
            "institutional", "other",
        },
    }  # fmt: skip


# --- version 1 of `Unit.Sold` -----------------------------------------------------------

V2_ONLY = (*SALE_V2_FIELDS, "class_version")


def as_version_1(row: StoredRow) -> StoredRow:
    state = {k: v for k, v in row.state.items() if k not in V2_ONLY}
    return StoredRow(row.position, row.key, row.topic, state)


def test_a_version_1_sale_reads_as_version_2_without_shares_through_the_mapper() -> None:
    ledger = InMemoryLedger()
    ledger.ok(*ENTITIES, OPEN, SALE)
    app = HousingLedger(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    (stored, *_) = [e for e in ledger.store.events if e.topic.endswith("Unit.Sold")]
    v1_state = {k: v for k, v in orjson.loads(stored.state).items() if k not in V2_ONLY}
    assert set(v1_state) == {"timestamp", "seller", "buyer", "category", "transaction", "on"}
    old = StoredEvent(
        originator_id=stored.originator_id,
        originator_version=stored.originator_version,
        topic=stored.topic,
        state=json.dumps(v1_state, separators=(",", ":")).encode(),
    )
    event: Any = app.mapper.to_domain_event(old)
    assert isinstance(event, Unit.Sold)
    assert (event.price_eur, event.net_proceeds_eur) == (None, None)
    new: Any = app.mapper.to_domain_event(stored)
    assert (event.seller, event.buyer, event.category, event.on) == (
        new.seller, new.buyer, new.category, new.on,
    )  # fmt: skip
    again = orjson.loads(app.mapper.to_stored_event(event).state)
    assert again == {**v1_state, "price_eur": None, "net_proceeds_eur": None, "class_version": 2}

    # The aggregate rebuilt from the version 1 sale is the one rebuilt from version 2.
    key = stored.originator_id
    earlier = [app.mapper.to_domain_event(e) for e in ledger.store.load([key])]
    before: Any = None
    for e in earlier[: stored.originator_version - 1]:
        before = e.mutate(before)
    with_v1, with_v2 = event.mutate(before), None
    for e in earlier[: stored.originator_version]:
        with_v2 = e.mutate(with_v2)
    assert vars(with_v1) == vars(with_v2)


def test_the_fold_gives_a_version_1_sale_the_rows_of_version_2_without_shares() -> None:
    ledger = InMemoryLedger()
    ledger.ok(*ENTITIES, OPEN, SALE)
    rows = ledger.store.rows()
    v1_rows = [as_version_1(r) if r.topic.endswith("Unit.Sold") else r for r in rows]
    v2, v1 = fold_journal(rows), fold_journal(v1_rows)
    shares = ("price_eur", "net_proceeds_eur")
    for table in v2.new:
        if table != "hl_movements":
            assert current(v1, table) == current(v2, table), table
    moved_v1 = v1.new["hl_movements"]
    moved_v2 = [{**r, **dict.fromkeys(shares)} for r in v2.new["hl_movements"]]
    assert moved_v1 == moved_v2
    assert all(r["price_eur"] is None for r in moved_v1)
    assert sum(1 for r in v2.new["hl_movements"] if r["price_eur"] is not None) == 3
