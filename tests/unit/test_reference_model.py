"""Tests of the reference model (tests/reference_model.py) and of the ledger strategies.

The model is the oracle of the product's property tests, so it is checked twice: on
hand-written ledgers whose answers are worked out by hand in the comments, and on
random ledgers for the invariants every valid ledger must keep. The strategies are
checked too: their ledgers must break no rule, and each bad transaction exactly one.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from tests import reference_model as model
from tests.strategies import BAD_RULES, ledger_and_bad_tx, ledgers

Tx = dict[str, Any]
PROPERTY = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

#: The example file of the input format (tests/fixtures/example.jsonl).
EXAMPLE_JSONL = (Path(__file__).resolve().parents[1] / "fixtures" / "example.jsonl").read_text(
    "utf-8"
)  # noqa: E501
EXAMPLE: list[Tx] = [json.loads(line) for line in EXAMPLE_JSONL.splitlines() if line.strip()]


def row(entity: str, full: int = 0, usufruct: int = 0, bare: int = 0, **key: Any) -> Tx:
    return {
        "entity": entity,
        **key,
        "full_ownership": full,
        "usufruct": usufruct,
        "bare_ownership": bare,
    }


def movement(entity: str, **counts: int) -> Tx:
    return {"entity": entity, **dict.fromkeys(model.MOVEMENT_FIELDS, 0), **counts}


# --------------------------------------------------------------------------- the example
#
# By hand. ESH-IDF registers U-0001 (A, PLUS), U-0002 (A, PLAI), U-0003 (B1, PLS); AFL
# registers U-0101 (Abis) and U-0102 (A), no financing; LLI-IDF acquires U-1001 and
# U-1002 (A, PLI) on 2017-03-15. 2017-06-20: U-0001 sold to its sitting tenant (leaves).
# 2017-07-01: AFL gives the bare ownership of U-0101 and U-0102 to AGIRC-ARRCO and keeps
# the usufruct. ADB-1 (AL-GROUPE's business, no units) is divested. 2018-01-01: LLI-EST,
# holding nothing, is absorbed by LLI-IDF. The 2018-04-02 sale of U-0002 and U-0003 is
# reversed, so it never took effect. 2018-09-30: U-0102's usufruct ends, AGIRC-ARRCO is
# full owner.


def test_example_holdings_as_of_end_of_2017_count_each_right_once():
    # AFL: usufruct of U-0101, U-0102; AGIRC-ARRCO: their bare ownership;
    # ESH-IDF: U-0002, U-0003 (U-0001 was sold); LLI-IDF: U-1001, U-1002.
    assert model.holdings(EXAMPLE, as_of="2017-12-31") == [
        row("AFL", usufruct=2),
        row("AGIRC-ARRCO", bare=2),
        row("ESH-IDF", full=2),
        row("LLI-IDF", full=2),
    ]


def test_example_holdings_at_the_end_ignore_the_reversed_sale():
    # U-0102 reunited in AGIRC-ARRCO's hands; the reversed sale leaves ESH-IDF with 2.
    assert model.holdings(EXAMPLE) == [
        row("AFL", usufruct=1),
        row("AGIRC-ARRCO", full=1, bare=1),
        row("ESH-IDF", full=2),
        row("LLI-IDF", full=2),
    ]


def test_example_holdings_before_anything_happened_are_empty():
    assert model.holdings(EXAMPLE, as_of="2016-12-31") == []


def test_example_holdings_between_the_sale_and_its_reversal_ignore_it_too():
    # The reversal is recorded in the list, so the sale never took effect on any date.
    assert model.holdings(EXAMPLE, as_of="2018-04-10", entity="ESH-IDF") == [row("ESH-IDF", full=2)]


def test_example_holdings_by_zone_are_sorted_by_entity_then_zone():
    # "A" < "Abis" in code-point order.
    assert model.holdings(EXAMPLE, by="zone") == [
        row("AFL", usufruct=1, zone="Abis"),
        row("AGIRC-ARRCO", full=1, zone="A"),
        row("AGIRC-ARRCO", bare=1, zone="Abis"),
        row("ESH-IDF", full=1, zone="A"),
        row("ESH-IDF", full=1, zone="B1"),
        row("LLI-IDF", full=2, zone="A"),
    ]


def test_example_holdings_by_financing_count_a_missing_financing_as_other():
    assert model.holdings(EXAMPLE, by="financing") == [
        row("AFL", usufruct=1, financing="other"),
        row("AGIRC-ARRCO", full=1, bare=1, financing="other"),
        row("ESH-IDF", full=1, financing="PLAI"),
        row("ESH-IDF", full=1, financing="PLS"),
        row("LLI-IDF", full=2, financing="PLI"),
    ]


def test_example_holdings_by_region_use_the_holders_region_or_none():
    assert model.holdings(EXAMPLE, by="region") == [
        row("AFL", usufruct=1, region="11"),
        row("AGIRC-ARRCO", full=1, bare=1, region=None),
        row("ESH-IDF", full=2, region="11"),
        row("LLI-IDF", full=2, region="11"),
    ]


def test_example_holdings_by_tense_are_booleans():
    # Every unit left is in Abis, A or B1.
    assert model.holdings(EXAMPLE, by="tense") == [
        row("AFL", usufruct=1, tense=True),
        row("AGIRC-ARRCO", full=1, bare=1, tense=True),
        row("ESH-IDF", full=2, tense=True),
        row("LLI-IDF", full=2, tense=True),
    ]


def test_example_holdings_by_commune_and_segment_for_one_entity():
    assert model.holdings(EXAMPLE, by="commune", entity="ESH-IDF") == [
        row("ESH-IDF", full=1, commune="77288"),
        row("ESH-IDF", full=1, commune="93066"),
    ]
    assert model.holdings(EXAMPLE, by="segment", entity="LLI-IDF") == [
        row("LLI-IDF", full=2, segment="intermediate"),
    ]


def test_example_movements_of_2017():
    # The opening balances are registered as of 2017-01-01: 2017's stock on 1 January
    # (and 2016's flows). AFL keeps its 2 in stock as usufructuary (2 dismembered);
    # AGIRC-ARRCO's bare ownership is not stock, so it has no row; ESH-IDF sells 1;
    # LLI-IDF acquires 2; AL-GROUPE only has a business: no row.
    assert model.movements(EXAMPLE, 2017) == [
        movement("AFL", opening=2, closing=2, dismembered=2),
        movement("ESH-IDF", opening=3, sold=1, closing=2),
        movement("LLI-IDF", acquired=2, opening=0, closing=2),
    ]
    assert model.movements(EXAMPLE, 2016) == [
        movement("AFL", registered=2, closing=2),
        movement("ESH-IDF", registered=3, closing=3),
    ]


def test_example_movements_of_2018():
    # The extinction moves U-0102 from AFL's stock to AGIRC-ARRCO's; the merger moves
    # nothing; the reversed sale does not count.
    assert model.movements(EXAMPLE, 2018) == [
        movement("AFL", opening=2, usufruct_ended=1, closing=1),
        movement("AGIRC-ARRCO", reunited=1, closing=1),
        movement("ESH-IDF", opening=2, closing=2),
        movement("LLI-IDF", opening=2, closing=2),
    ]


def test_example_dismembered_units_and_register():
    assert model.dismembered_units(EXAMPLE, as_of="2017-12-31") == {("AFL", "AGIRC-ARRCO"): 2}
    assert model.dismembered_units(EXAMPLE) == {("AFL", "AGIRC-ARRCO"): 1}
    # the usufruct ended at its term (2042): out of `units`, overdue until recorded
    assert model.dismemberment(EXAMPLE, as_of="2043-01-01") == [
        {
            "usufructuary": "AFL",
            "bare_owner": "AGIRC-ARRCO",
            "units": 0,
            "maturities": {},
            "overdue": 1,
        },
    ]


def test_example_sales_statements():
    (row_2017,) = model.sales(EXAMPLE, 2017)  # the HLM bodies only: ESH-IDF
    assert row_2017 == {
        "entity": "ESH-IDF",
        "kind": "hlm",
        "opening_stock": 3,
        "units_sold": 1,
        "by_category": {
            "sitting_tenant": 1,
            "tenant_family": 0,
            "tenant": 0,
            "caretaker": 0,
            "individual": 0,
            "social_landlord": 0,
            "sem": 0,
            "local_authority": 0,
            "approved_body": 0,
            "institutional": 0,
            "other": 0,
        },
        "sold_to_households": 1,
        "sold_in_blocks": 0,
        "sold_within_group": 0,
        "sitting_tenant_share": "1.0000",
        "block_sold_to_institutionals": 0,
        "proceeds_eur": "118000.00",
        "net_proceeds_eur": None,
        "units_with_net_proceeds": 0,
        "sales_rate": "0.3333",
        "household_sales_rate": "0.3333",
        "target_rate": "0.01",
        "target_met": True,
        "household_target_met": True,
    }
    rows_2018 = model.sales(EXAMPLE, 2018, sellers="all")
    assert [
        (r["entity"], r["opening_stock"], r["units_sold"], r["sales_rate"], r["target_met"])
        for r in rows_2018
    ] == [
        ("AFL", 2, 0, "0.0000", False),
        ("ESH-IDF", 2, 0, "0.0000", False),
        ("LLI-IDF", 2, 0, "0.0000", False),
    ]


def test_example_breaks_no_rule_and_conserves_units():
    assert model.violations(EXAMPLE) == []
    for as_of in (None, "2017-06-20", "2017-12-31", "2018-04-02", "2018-12-31"):
        model.conservation_check(EXAMPLE, as_of)


# --------------------------------------------------------------------------- mergers


def entities(*ids: str, date: str = "2020-01-01") -> list[Tx]:
    return [
        {
            "id": f"E-{e}",
            "type": "register_entity",
            "date": date,
            "entity": e,
            "name": e,
            "kind": "hlm",
            **({"region": "11"} if e == "B" else {}),
        }
        for e in ids
    ]


def units(entity: str, *ids: str, date: str = "2020-01-01", zone: str = "A") -> Tx:
    return {
        "id": f"R-{entity}-{ids[0]}",
        "type": "register_units",
        "date": date,
        "entity": entity,
        "units": [
            {"unit_id": u, "commune": "75056", "zone": zone, "segment": "social"} for u in ids
        ],
    }


def bot(tx_id: str, transferor: str, bare_owner: str, *ids: str, date: str = "2020-02-01") -> Tx:
    return {
        "id": tx_id,
        "type": "bare_ownership_transfer",
        "date": date,
        "entity": transferor,
        "bare_owner": bare_owner,
        "units": list(ids),
        "usufruct_end": "2040-01-31",
        "consideration": "gratuitous",
    }


def merger(tx_id: str, absorbed: list[str], into: str, date: str = "2021-03-01") -> Tx:
    return {"id": tx_id, "type": "merger", "date": date, "absorbed": absorbed, "into": into}


def test_merger_of_the_usufructuary_into_the_bare_owner_consolidates_once_in_received():
    txs = [
        *entities("A", "B"),
        units("A", "U1", "U2"),
        bot("BOT-1", "A", "B", "U1"),
        merger("M-1", ["A"], "B"),
    ]
    assert model.violations(txs) == []
    assert model.holdings(txs) == [row("B", full=2)]
    assert model.movements(txs, 2021) == [
        movement("A", opening=2, transferred=2),
        movement("B", received=2, closing=2),
    ]


def test_merger_of_the_bare_owner_into_the_usufructuary_moves_no_stock():
    txs = [
        *entities("A", "B"),
        units("A", "U1"),
        bot("BOT-1", "A", "B", "U1"),
        merger("M-1", ["B"], "A"),
    ]
    assert model.holdings(txs) == [row("A", full=1)]
    # A had U1 in stock as usufructuary and still has it as full owner: no movement.
    assert model.movements(txs, 2021) == [movement("A", opening=1, closing=1)]


def test_merger_of_a_bare_owner_into_a_third_entity_moves_only_bare_ownership():
    txs = [
        *entities("A", "B", "C"),
        units("A", "U1"),
        bot("BOT-1", "A", "B", "U1"),
        merger("M-1", ["B"], "C"),
    ]
    assert model.holdings(txs) == [row("A", usufruct=1), row("C", bare=1)]
    assert model.dismembered_units(txs) == {("A", "C"): 1}
    assert model.movements(txs, 2021) == [movement("A", opening=1, closing=1)]


def test_merger_absorbing_both_holders_consolidates_in_into():
    txs = [
        *entities("A", "B", "C"),
        units("A", "U1"),
        bot("BOT-1", "A", "B", "U1"),
        merger("M-1", ["A", "B"], "C"),
    ]
    assert model.holdings(txs) == [row("C", full=1)]
    assert model.movements(txs, 2021) == [
        movement("A", opening=1, transferred=1),
        movement("C", received=1, closing=1),
    ]


def test_merger_moves_businesses_still_held_but_not_divested_ones():
    txs = [
        *entities("A", "B"),
        {
            "id": "BIZ-1",
            "type": "register_business",
            "date": "2020-01-01",
            "entity": "A",
            "business": "B1",
            "name": "x",
            "sector": "other",
            "headcount": 3,
        },
        {
            "id": "BIZ-2",
            "type": "register_business",
            "date": "2020-01-01",
            "entity": "A",
            "business": "B2",
            "name": "y",
            "sector": "other",
            "headcount": 3,
        },
        {
            "id": "DIV-1",
            "type": "divestment",
            "date": "2020-06-01",
            "entity": "A",
            "business": "B2",
            "buyer": "Z",
            "price_eur": "1.00",
            "employees_transferred": 3,
            "no_redundancy": True,
        },
        merger("M-1", ["A"], "B"),
    ]
    state = model.fold(txs)
    assert state.business_owner == {"B1": "B", "B2": "A"}
    model.conservation_check(txs)


# --------------------------------------------------------------------------- reversals


def reversal(tx_id: str, target: str, date: str = "2022-01-01") -> Tx:
    return {"id": tx_id, "type": "reversal", "date": date, "reverses": target, "reason": "r"}


def test_reversed_acquisition_frees_the_unit_id_for_a_corrected_registration():
    txs = [
        *entities("A"),
        units("A", "U1", zone="C", date="2020-03-01"),
        reversal("REV-1", "R-A-U1"),
        units("A", "U1", zone="Abis", date="2020-03-01"),
    ]
    txs[-1]["id"] = "R-A-U1-bis"
    assert model.violations(txs) == []
    assert model.holdings(txs, by="zone") == [row("A", full=1, zone="Abis")]
    assert model.holdings(txs, as_of="2020-02-29") == []
    model.conservation_check(txs)


def test_reversed_merger_gives_the_absorbed_entity_its_rights_back():
    txs = [
        *entities("A", "B"),
        units("A", "U1"),
        merger("M-1", ["A"], "B"),
        reversal("REV-1", "M-1"),
        units("A", "U2", date="2022-02-01"),
    ]
    assert model.violations(txs) == []
    assert model.holdings(txs) == [row("A", full=2)]


def test_reversed_extinction_lets_an_earlier_merger_carry_the_usufruct():
    # The extinction does not name A, and the merger did not move U1 (A held nothing of
    # it then), so the reversal is allowed; as if the extinction never happened, the
    # merger now moves A's usufruct to C.
    txs = [
        *entities("A", "B", "C"),
        units("A", "U1"),
        bot("BOT-1", "A", "B", "U1"),
        {"id": "EXT-1", "type": "usufruct_extinguished", "date": "2020-06-01", "units": ["U1"]},
        merger("M-1", ["A"], "C"),
        reversal("REV-1", "EXT-1"),
    ]
    assert model.violations(txs) == []
    assert model.holdings(txs) == [row("B", bare=1), row("C", usufruct=1)]
    assert model.movements(txs, 2021) == [
        movement("A", opening=1, transferred=1),
        movement("C", received=1, closing=1),
    ]


def test_a_reversal_is_refused_when_a_later_transaction_touched_the_same_unit():
    txs = [
        *entities("A"),
        units("A", "U1"),
        {
            "id": "S-1",
            "type": "sale",
            "date": "2020-05-01",
            "entity": "A",
            "units": ["U1"],
            "buyer": {"category": "individual"},
            "price_eur": "1.00",
        },
        reversal("REV-1", "R-A-U1"),
    ]
    assert [code for _, code, _ in model.violations(txs)] == ["reversal_blocked"]


# --------------------------------------------------------------------------- conventions


def test_identical_repeated_transaction_is_already_recorded_not_an_error():
    txs = [*entities("A"), units("A", "U1"), units("A", "U1")]
    txs[-1] = dict(txs[-1], journal={"position": 2})
    assert model.violations(txs) == []
    assert model.holdings(txs) == [row("A", full=1)]


def test_usufruct_may_last_exactly_thirty_years_and_29_february_caps_at_28_february():
    txs = [
        *entities("A", "B", date="2019-01-01"),
        units("A", "U1", "U2", date="2019-01-01"),
        dict(bot("BOT-1", "A", "B", "U1", date="2020-02-29"), usufruct_end="2050-02-28"),
        dict(bot("BOT-2", "A", "B", "U2", date="2020-03-01"), usufruct_end="2050-03-01"),
    ]
    assert model.violations(txs) == []
    too_long = dict(bot("BOT-3", "A", "B", "U2", date="2020-02-29"), usufruct_end="2050-03-01")
    txs[-1] = too_long
    assert [code for _, code, _ in model.violations(txs)] == ["usufruct_too_long"]


def test_region_none_sorts_before_region_codes_and_false_before_true():
    txs = [
        *entities("A", "B"),
        units("B", "U1"),
        units("A", "U2", zone="C"),
        units("A", "U3", zone="A"),
    ]
    # A has no region, B has "11"; sort key (entity, (key is not None, key)).
    assert model.holdings(txs, by="region") == [
        row("A", full=2, region=None),
        row("B", full=1, region="11"),
    ]
    assert model.holdings(txs, by="tense") == [
        row("A", full=1, tense=False),
        row("A", full=1, tense=True),
        row("B", full=1, tense=True),
    ]


def test_conservation_check_catches_a_unit_held_by_an_absorbed_entity():
    txs = [
        *entities("A", "B"),
        units("A", "U1"),
        merger("M-1", ["A"], "B"),
        units("A", "U2", date="2022-01-01"),
    ]  # invalid: A is inactive
    assert [code for _, code, _ in model.violations(txs)] == ["entity_inactive"]
    with pytest.raises(AssertionError, match="U2 is held by A"):
        model.conservation_check(txs)


# --------------------------------------------------------------------------- zoning vintages
#
# By hand. V1 (in force from 2020-01-01) puts Paris in A and Lyon in B1; V2 (from
# 2021-01-01) puts Paris in Abis and does not list Lyon. A registers U1 in Paris
# (75056, zone left out: A by V1), U2 in the 8th arrondissement (75108, declared A: its
# city's class) and U3 in Lyon (declared B1), all on 2020-06-01.


def vintage(tx_id: str, date: str, zones: dict[str, str], sha: str) -> Tx:
    return {
        "id": tx_id,
        "type": "zoning_vintage",
        "date": date,
        "source": "test",
        "sha256": sha * 64,
        "zones": zones,
    }


def zoned() -> list[Tx]:
    return [
        *entities("A", date="2019-01-01"),
        vintage("V1", "2020-01-01", {"75056": "A", "69123": "B1"}, "1"),
        vintage("V2", "2021-01-01", {"75056": "Abis"}, "2"),
        {
            "id": "R-1",
            "type": "register_units",
            "date": "2020-06-01",
            "entity": "A",
            "units": [
                {"unit_id": "U1", "commune": "75056", "segment": "social"},
                {"unit_id": "U2", "commune": "75108", "zone": "A", "segment": "social"},
                {"unit_id": "U3", "commune": "69123", "zone": "B1", "segment": "social"},
            ],
        },
    ]


def zones_of(txs: list[Tx], as_of: str | None = None) -> list[tuple[str, str, str]]:
    return [(r["unit_id"], r["zone"], r["zone_source"]) for r in model.units(txs, as_of)]


def test_a_unit_s_zone_is_the_class_of_the_vintage_in_force_on_the_date():
    txs = zoned()
    assert model.violations(txs) == []
    # 2020: V1's classes; from 2021: V2's for Paris, and U3's recorded zone for Lyon,
    # which V2 does not list. The latest date is the registration's (2020-06-01): a
    # vintage's date is not a date of the holdings.
    assert zones_of(txs) == [("U1", "A", "V1"), ("U2", "A", "V1"), ("U3", "B1", "V1")]
    assert zones_of(txs, "2021-01-01") == [
        ("U1", "Abis", "V2"),
        ("U2", "Abis", "V2"),
        ("U3", "B1", "declared"),
    ]
    assert model.holdings(txs, "2021-06-30", by="zone") == [
        row("A", full=2, zone="Abis"),
        row("A", full=1, zone="B1"),
    ]
    assert [r["unit_id"] for r in model.units(txs, "2021-06-30", zone="Abis")] == ["U1", "U2"]


def test_a_reversed_vintage_leaves_the_zone_it_gave_and_the_one_before_is_in_force_again():
    txs = [*zoned(), reversal("REV-1", "V1", date="2022-01-01")]
    assert model.violations(txs) == []
    # U1 keeps the A it was recorded with; no vintage is in force in 2020 any more.
    assert zones_of(txs, "2020-12-31") == [
        ("U1", "A", "declared"),
        ("U2", "A", "declared"),
        ("U3", "B1", "declared"),
    ]
    txs.append(reversal("REV-2", "V2", date="2022-01-01"))
    assert zones_of(txs, "2021-06-30") == zones_of(txs, "2020-12-31")


def test_the_zoning_rules_of_unit_lines_and_vintages():
    txs = zoned()
    line = txs[-1]

    def codes(*units: Tx, date: str = "2021-03-01") -> list[str]:
        tx = {**line, "id": "R-2", "date": date, "units": list(units)}
        return [code for _, code, _ in model.violations([*txs, tx])]

    assert codes({"unit_id": "N1", "commune": "75056", "zone": "A", "segment": "social"}) == [
        "zone_mismatch"
    ]
    assert codes({"unit_id": "N1", "commune": "69123", "segment": "social"}) == [
        "commune_not_in_zoning"
    ]
    no_zone = {"unit_id": "N1", "commune": "69123", "segment": "social"}
    assert codes(no_zone, date="2019-12-31") == ["zone_required"]
    assert codes({**no_zone, "zone": "C"}, date="2019-12-31") == []  # declared before V1
    again = vintage("V3", "2021-01-01", {"75056": "C"}, "3")
    assert [code for _, code, _ in model.violations([*txs, again])] == ["zoning_date_taken"]
    again = vintage("V3", "2022-01-01", {"75056": "C"}, "2")
    assert [code for _, code, _ in model.violations([*txs, again])] == ["zoning_file_recorded"]
    # once V2 is reversed, its file may be recorded again, on its date too
    reversed_v2 = [*txs, reversal("REV-2", "V2", date="2022-01-01")]
    again = vintage("V3", "2021-01-01", {"75056": "Abis"}, "2")
    assert model.violations([*reversed_v2, again]) == []


# --------------------------------------------------------------------------- properties


def years_of(txs: list[Tx]) -> range:
    years = [int(tx["date"][:4]) for tx in txs]
    return range(min(years) - 1, max(years) + 2)  # 1 January closes the year before


@PROPERTY
@given(ledgers())
def test_generated_ledgers_break_no_rule(txs):
    assert model.violations(txs) == []


@PROPERTY
@given(ledgers())
def test_units_are_conserved_as_of_every_date_of_a_generated_ledger(txs):
    for as_of in sorted({tx["date"] for tx in txs}) + [None]:
        model.conservation_check(txs, as_of)


@PROPERTY
@given(ledgers())
def test_movement_identity_holds_and_each_year_opens_at_last_years_closing(txs):
    closing_before: dict[str, int] = {}
    for year in years_of(txs):
        rows = model.movements(txs, year)
        for r in rows:
            assert model.movement_identity_holds(r), r
            assert r["opening"] == closing_before.get(r["entity"], 0), (year, r)
        closing = {r["entity"]: r["closing"] for r in rows if r["closing"]}
        assert closing == model.stock(txs, f"{year + 1}-01-01")  # the next 1 January
        closing_before = closing


@PROPERTY
@given(ledgers())
def test_as_of_views_do_not_depend_on_the_journal_order_of_dates(txs):
    # Dates never go back per unit, business and merged entity, so folding the
    # effective transactions sorted by date (stable) gives the same views.
    by_date = sorted(model.effective(txs), key=lambda tx: tx["date"])
    for as_of in sorted({tx["date"] for tx in txs}):
        assert model.holdings(txs, as_of) == model.holdings(by_date, as_of)


@PROPERTY
@given(ledgers())
def test_holdings_by_any_dimension_add_up_to_plain_holdings(txs):
    plain = {r["entity"]: r for r in model.holdings(txs)}
    for dimension in model.DIMENSIONS:
        totals: dict[str, Counter[str]] = {}
        for r in model.holdings(txs, by=dimension):
            totals.setdefault(r["entity"], Counter()).update(
                {k: r[k] for k in ("full_ownership", "usufruct", "bare_ownership")}
            )
        assert {e: dict(c) for e, c in totals.items()} == {
            e: {k: r[k] for k in ("full_ownership", "usufruct", "bare_ownership")}
            for e, r in plain.items()
        }


@PROPERTY
@given(ledger_and_bad_tx())
def test_a_bad_transaction_breaks_exactly_its_rule(case):
    txs, bad, rule = case
    assert model.violations(txs) == []
    assert [(i, code) for i, code, _ in model.violations([*txs, bad])] == [(len(txs), rule)]


def test_bad_transactions_cover_known_rule_codes_only():
    assert set(BAD_RULES) <= model.RULE_CODES
    assert len(BAD_RULES) >= 30


@pytest.mark.parametrize("rule", BAD_RULES)
def test_every_rule_has_a_working_bad_transaction(rule):
    @settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck))
    @given(ledger_and_bad_tx(rules=(rule,), max_transactions=12))
    def check(case):
        txs, bad, named = case
        assert named == rule
        assert [code for _, code, _ in model.violations([*txs, bad])] == [rule]

    check()
