"""Entity kinds and the group perimeter by date (issue 13, part 1).

Every rule of the kinds and of the perimeter is rejected with its code and a message
naming the entities; the membership projection (`hl_memberships`, read by
`projections/perimeter.py` and the `entities` command) answers as of a date and known at
a position, follows reversals, and is the same on SQLite and PostgreSQL, by catch-up and
by replay.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner

from cli import main
from ledger.domain import Entity, entity_key
from ledger.domain.entity import upcast_registration_v1_v2
from ledger.domain.values import BUYER_KINDS, HLM_BODIES, EntityKind, buyer_fits
from ledger.storage.application import HousingLedger, persistence_env
from projections.perimeter import kinds, perimeter
from projections.queries import position_at
from tests.support import LedgerHarness

Tx = dict[str, Any]


def entity(eid: str, kind: str, date: str = "2017-01-01", **extra: Any) -> Tx:
    return {
        "id": f"ENT-{eid}",
        "type": "register_entity",
        "date": date,
        "entity": eid,
        "name": f"Entité {eid}",
        "kind": kind,
        **extra,
    }


def units(eid: str, *ids: str, date: str = "2017-01-01") -> Tx:
    return {
        "id": f"REG-{eid}-{ids[0]}",
        "type": "register_units",
        "date": date,
        "entity": eid,
        "units": [
            {"unit_id": u, "commune": "75056", "zone": "A", "segment": "social"} for u in ids
        ],
    }


def perimeter_tx(tx_id: str, kind: str, date: str, eid: str, **extra: Any) -> Tx:
    return {"id": tx_id, "type": kind, "date": date, "entity": eid, **extra}


def group() -> list[Tx]:
    """ALI holds the shares of ESH-IDF and of two LLI companies; AGIRC-ARRCO is outside."""
    return [
        entity("ALI", "group"),
        entity("ESH-IDF", "esh", parent="ALI"),
        entity("ESH-NORD", "hlm", parent="ALI"),
        entity("INLI", "lli", parent="ALI"),
        entity("INLI-ARA", "lli", parent="ALI"),
        entity("AGIRC-ARRCO", "pension_fund"),
        entity("ONV", "sales_company", parent="ALI"),
        units("ESH-IDF", "U1", "U2", "U3"),
    ]


def rejected(ledger: LedgerHarness, *txs: Tx) -> str:
    (error,) = ledger.rejected(*group(), *txs)
    return error


# --------------------------------------------------------------------------- kinds


def test_a_merger_of_a_pension_fund_into_an_hlm_body_is_rejected_naming_both_families(
    ledger: LedgerHarness,
) -> None:
    merger = {
        "id": "M-1",
        "type": "merger",
        "date": "2019-01-01",
        "absorbed": ["AGIRC-ARRCO"],
        "into": "ESH-IDF",
    }
    assert rejected(ledger, merger).endswith(
        "merger M-1: AGIRC-ARRCO (pension fund) cannot be absorbed by ESH-IDF (HLM body): "
        "a merger joins entities of the same family"
    )


def test_a_pension_fund_cannot_absorb_an_hlm_body_but_hlm_bodies_of_any_form_merge(
    ledger: LedgerHarness,
) -> None:
    merger = {"id": "M-1", "type": "merger", "date": "2019-01-01", "into": "AGIRC-ARRCO"}
    error = rejected(ledger, {**merger, "absorbed": ["ESH-NORD"]})
    assert "ESH-NORD (HLM body) cannot be absorbed by AGIRC-ARRCO (pension fund)" in error
    ledger.ok(*group(), {**merger, "into": "ESH-IDF", "absorbed": ["ESH-NORD"]})


def test_a_social_landlord_buyer_must_be_an_hlm_body_or_a_sales_company(
    ledger: LedgerHarness,
) -> None:
    sale = {
        "id": "S-1",
        "type": "sale",
        "date": "2019-01-01",
        "entity": "ESH-IDF",
        "units": ["U1"],
        "price_eur": "1000.00",
    }
    error = rejected(
        ledger, {**sale, "buyer": {"category": "social_landlord", "entity": "AGIRC-ARRCO"}}
    )
    assert error.endswith(
        "sale S-1: buyer.entity AGIRC-ARRCO is of kind pension_fund: a buyer of category "
        "social_landlord is of kind coop, esh, hlm, oph, sales_company"
    )
    error = rejected(ledger, {**sale, "buyer": {"category": "individual", "entity": "INLI"}})
    assert "a buyer of category individual is a natural person, never an entity" in error
    ledger.ok(
        *group(),
        {**sale, "buyer": {"category": "social_landlord", "entity": "ONV"}},
        {
            **sale,
            "id": "S-2",
            "units": ["U2"],
            "buyer": {"category": "institutional", "entity": "AGIRC-ARRCO"},
        },
    )


def test_the_buyer_table_lets_every_kind_buy_under_some_legal_person_category() -> None:
    legal = ("social_landlord", "sem", "approved_body", "institutional", "other")
    for kind in EntityKind:
        assert any(buyer_fits(c, kind) for c in legal), kind
    assert all(
        not kinds for c, kinds in BUYER_KINDS.items() if c not in legal and c != "local_authority"
    )
    assert {EntityKind.HLM, EntityKind.ESH, EntityKind.OPH, EntityKind.COOP} == HLM_BODIES


# --------------------------------------------------------------------------- the perimeter rules


@pytest.mark.parametrize(
    ("txs", "message"),
    [
        (
            [perimeter_tx("G-1", "group_entry", "2019-01-01", "ESH-IDF")],
            "group_entry G-1: entity ESH-IDF is already a member of the group",
        ),
        (
            [perimeter_tx("X-1", "group_exit", "2019-01-01", "AGIRC-ARRCO")],
            "group_exit X-1: entity AGIRC-ARRCO is not a member of the group",
        ),
        (
            [perimeter_tx("T-1", "share_transfer", "2019-01-01", "AGIRC-ARRCO", parent="ALI")],
            "share_transfer T-1: entity AGIRC-ARRCO is not a member of the group: its shares "
            "cannot move to a member (record its group_entry)",
        ),
        (
            [perimeter_tx("T-1", "share_transfer", "2019-01-01", "INLI-ARA", parent="ALI")],
            "share_transfer T-1: the shares of INLI-ARA are already held by ALI",
        ),
        (
            [perimeter_tx("T-1", "share_transfer", "2019-01-01", "INLI-ARA", parent="INLI-ARA")],
            "share_transfer T-1: parent INLI-ARA is the entity itself",
        ),
        (
            [perimeter_tx("T-1", "share_transfer", "2019-01-01", "INLI-ARA", parent="AGIRC-ARRCO")],
            "share_transfer T-1: parent AGIRC-ARRCO is not a member of the group",
        ),
        (
            [perimeter_tx("G-1", "group_entry", "2019-01-01", "AGIRC-ARRCO", parent="NOPE")],
            "group_entry G-1: parent NOPE is not a registered entity",
        ),
        (
            [entity("SCI-1", "other", date="2018-01-01", parent="AGIRC-ARRCO")],
            "register_entity ENT-SCI-1: parent AGIRC-ARRCO is not a member of the group",
        ),
        (
            [
                perimeter_tx("G-1", "group_entry", "2019-06-01", "AGIRC-ARRCO"),
                perimeter_tx(
                    "T-1", "share_transfer", "2019-01-01", "INLI-ARA", parent="AGIRC-ARRCO"
                ),
            ],
            "share_transfer T-1: parent AGIRC-ARRCO is a member of the group from 2019-06-01, "
            "after 2019-01-01",
        ),
        (
            [
                perimeter_tx("T-1", "share_transfer", "2024-12-31", "INLI-ARA", parent="INLI"),
                perimeter_tx("X-1", "group_exit", "2024-06-01", "INLI-ARA"),
            ],
            "group_exit X-1: entity INLI-ARA is named by T-1 dated 2024-12-31; a group_exit "
            "naming it cannot be dated 2024-06-01",
        ),
    ],
)
def test_each_perimeter_rule_is_rejected_naming_the_entity(
    ledger: LedgerHarness, txs: list[Tx], message: str
) -> None:
    assert rejected(ledger, *txs).endswith(message)


def test_a_parent_with_group_false_is_rejected_when_parsed(ledger: LedgerHarness) -> None:
    error = rejected(ledger, entity("SCI-1", "other", group=False, parent="ALI"))
    assert "field 'parent' ALI is given with group false" in error


# --------------------------------------------------------------------------- the projection


def in_li_case() -> list[Tx]:
    return [
        *group(),
        perimeter_tx("T-1", "share_transfer", "2024-12-31", "INLI-ARA", parent="INLI"),
        perimeter_tx("G-1", "group_entry", "2020-01-01", "AGIRC-ARRCO", parent="ALI"),
        perimeter_tx("X-1", "group_exit", "2025-03-01", "AGIRC-ARRCO"),
        {
            "id": "M-1",
            "type": "merger",
            "date": "2021-01-01",
            "absorbed": ["ESH-NORD"],
            "into": "ESH-IDF",
        },
    ]


def test_the_perimeter_answers_as_of_each_date(ledger: LedgerHarness) -> None:
    ledger.ok(*in_li_case())
    conn = ledger.session.current()
    found = perimeter(conn, position_at(conn, None))
    assert found.parent("INLI-ARA", "2024-12-30") == "ALI"
    assert found.parent("INLI-ARA", "2024-12-31") == "INLI"
    assert found.is_member("INLI-ARA", None)
    assert not found.is_member("AGIRC-ARRCO", "2019-12-31")
    assert found.is_member("AGIRC-ARRCO", "2025-02-28")
    assert not found.is_member("AGIRC-ARRCO", "2025-03-01")
    assert found.is_member("ESH-NORD", "2020-12-31") and not found.is_member(
        "ESH-NORD", "2021-01-01"
    )
    assert found.members("2022-01-01") == {
        "ALI",
        "ESH-IDF",
        "INLI",
        "INLI-ARA",
        "ONV",
        "AGIRC-ARRCO",
    }
    assert kinds(conn, position_at(conn, None))["ONV"] == "sales_company"


def test_known_at_a_position_gives_the_perimeter_before_a_later_transaction_and_a_reversal(
    ledger: LedgerHarness,
) -> None:
    ledger.ok(*group())
    before = ledger.position()
    ledger.ok(perimeter_tx("T-1", "share_transfer", "2024-12-31", "INLI-ARA", parent="INLI"))
    moved = ledger.position()
    ledger.ok(
        {
            "id": "R-1",
            "type": "reversal",
            "date": "2025-01-02",
            "reverses": "T-1",
            "reason": "Erreur",
        }
    )
    conn = ledger.session.current()
    assert perimeter(conn, before).parent("INLI-ARA", "2025-01-01") == "ALI"
    assert perimeter(conn, moved).parent("INLI-ARA", "2025-01-01") == "INLI"
    assert perimeter(conn, ledger.position()).parent("INLI-ARA", "2025-01-01") == "ALI"
    ledger.ok(perimeter_tx("T-2", "share_transfer", "2025-01-02", "INLI-ARA", parent="INLI"))
    assert perimeter(ledger.session.current(), ledger.position()).parent("INLI-ARA", None) == "INLI"


def test_a_reversed_merger_and_exit_put_the_entities_back_in_the_group(
    ledger: LedgerHarness,
) -> None:
    ledger.ok(*in_li_case())
    ledger.ok(
        {
            "id": "R-1",
            "type": "reversal",
            "date": "2025-06-01",
            "reverses": "M-1",
            "reason": "Erreur",
        },
        {
            "id": "R-2",
            "type": "reversal",
            "date": "2025-06-01",
            "reverses": "X-1",
            "reason": "Erreur",
        },
    )
    conn = ledger.session.current()
    found = perimeter(conn, ledger.position())
    assert found.is_member("ESH-NORD", "2022-01-01") and found.parent("ESH-NORD", None) == "ALI"
    assert found.is_member("AGIRC-ARRCO", None)


def test_a_perimeter_change_blocks_the_reversal_of_what_it_names_and_is_blocked_by_later_naming(
    ledger: LedgerHarness,
) -> None:
    ledger.ok(
        *group(), perimeter_tx("T-1", "share_transfer", "2024-12-31", "INLI-ARA", parent="INLI")
    )
    (error,) = ledger.rejected(
        {
            "id": "R-1",
            "type": "reversal",
            "date": "2025-01-02",
            "reverses": "ENT-INLI",
            "reason": "x",
        }
    )
    assert "reversal_blocked" in error or "is named by a later transaction, T-1" in error
    ledger.ok(perimeter_tx("X-1", "group_exit", "2025-02-01", "INLI-ARA"))
    (error,) = ledger.rejected(
        {"id": "R-2", "type": "reversal", "date": "2025-02-02", "reverses": "T-1", "reason": "x"}
    )
    assert "entity INLI-ARA is named by a later transaction, X-1" in error


def answer(url: str, *args: str) -> Any:
    result = CliRunner().invoke(main, ["--db", url, *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_the_same_perimeter_on_both_databases_by_catch_up_replay_and_round_trip(
    any_ledger: LedgerHarness, tmp_path: Any
) -> None:
    any_ledger.ok(*in_li_case())
    url = any_ledger.url
    rows = answer(url, "entities", "--as-of", "2025-01-15", "--format", "json")["rows"]
    by_id = {r["entity"]: r for r in rows}
    assert by_id["INLI-ARA"] == {
        "entity": "INLI-ARA",
        "name": "Entité INLI-ARA",
        "kind": "lli",
        "region": None,
        "status": "active",
        "group": True,
        "parent": "INLI",
    }
    assert by_id["ESH-NORD"]["status"] == "absorbed" and not by_id["ESH-NORD"]["group"]
    replayed = answer(url, "replay", "--check", "--format", "json")
    assert replayed["check"] == "ok"
    journal = CliRunner().invoke(main, ["--db", url, "journal", "--format", "jsonl"]).output
    copy = tmp_path / "journal.jsonl"
    copy.write_text(journal, encoding="utf-8")
    other = f"sqlite:///{tmp_path}/copy.db"
    CliRunner().invoke(main, ["--db", other, "import", str(copy)])
    assert answer(other, "replay", "--format", "json")["digest"] == replayed["digest"]
    assert answer(other, "entities", "--as-of", "2025-01-15", "--format", "json")["rows"] == rows


# --------------------------------------------------------------------------- events


def test_a_registration_of_version_1_reads_with_the_kinds_default_membership() -> None:
    state = {"entity_id": "AGIRC", "kind": "pension_fund"}
    upcast_registration_v1_v2(state)
    assert state == {"entity_id": "AGIRC", "kind": "pension_fund", "group": False, "parent": None}
    state = {"entity_id": "ESH", "kind": "hlm"}
    upcast_registration_v1_v2(state)
    assert state["group"] is True


def test_the_library_rebuilds_an_entity_with_its_membership(ledger: LedgerHarness) -> None:
    ledger.ok(*in_li_case())
    app = HousingLedger(env=persistence_env(ledger.url))
    rebuilt: Entity = app.repository.get(entity_key("INLI-ARA"))
    assert (rebuilt.member, rebuilt.parent) == (True, "INLI")
    outside: Entity = app.repository.get(entity_key("AGIRC-ARRCO"))
    assert not outside.member
