"""The unit objects of `register_units` with a right and RPLS values (docs/transactions.md):
the parse rules, the booking rules, the `Unit` aggregate, the fold, and version 1 of
`Unit.Entered` read by the library's mapper (upcast) and by the fold alike."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import orjson
import pytest
from eventsourcing.persistence import StoredEvent

from ledger.booking.book import named_entities as book_names
from ledger.booking.created import created
from ledger.booking.transactions import parse_transaction
from ledger.booking.unitextras import RplsValues
from ledger.booking.unitlines import unit_values
from ledger.domain import Unit, unit_key
from ledger.domain.holding import Holding
from ledger.errors import InvalidField
from ledger.storage.application import HousingLedger
from projections.fold.decoding import named_entities
from projections.fold.rows import StoredRow
from tests.fakes import InMemoryLedger, current, fold_journal

ENTITIES = [
    {"id": f"ENT-{e}", "type": "register_entity", "date": "2017-01-01", "entity": e,
     "name": e, "kind": kind}
    for e, kind in (("AFL", "fonciere"), ("AGIRC", "association"), ("ESH", "hlm"))
]  # fmt: skip
USUFRUCT = {
    "unit_id": "U-1",
    "commune": "75118",
    "zone": "Abis",
    "segment": "other",
    "right": "usufruct",
    "bare_owner": "AGIRC",
    "usufruct_end": "2042-06-30",
}
RPLS_UNIT = {
    "unit_id": "U-2",
    "commune": "93066",
    "zone": "A",
    "segment": "social",
    "financing": "PLUS",
    "year_built": 1972,
    "rpls": {
        "first_let_year": 1973,
        "entry_year": 1999,
        "entry_mode": "2",
        "financing_code": "13",
        "apl_agreement": True,
    },
}


def register(
    *units: dict[str, Any], entity: str = "AFL", day: str = "2018-01-01"
) -> dict[str, Any]:
    return {
        "id": "OPEN",
        "type": "register_units",
        "date": day,
        "entity": entity,
        "units": list(units),
    }


def code_of(tx: dict[str, Any]) -> str:
    with pytest.raises(InvalidField) as error:
        parse_transaction(tx)
    return error.value.code


# --- parsing --------------------------------------------------------------------------


def test_a_unit_in_usufruct_and_one_with_rpls_values_parse() -> None:
    tx = parse_transaction(register(USUFRUCT, RPLS_UNIT))
    usufruct, rpls = tx["units"]
    assert (usufruct.bare_owner, usufruct.usufruct_end) == ("AGIRC", date(2042, 6, 30))
    assert rpls.rpls == RplsValues(
        first_let_year=1973, entry_year=1999, entry_mode="2", financing_code="13",
        apl_agreement=True,
    )  # fmt: skip
    assert rpls.rpls.to_json() == (
        '{"first_let_year":1973,"entry_year":1999,"entry_mode":"2","financing_code":"13",'
        '"apl_agreement":true}'
    )


def test_full_ownership_given_explicitly_is_the_default() -> None:
    plain = {k: v for k, v in RPLS_UNIT.items() if k != "rpls"}
    explicit = parse_transaction(register({**plain, "right": "full_ownership"}))["units"][0]
    assert explicit == parse_transaction(register(plain))["units"][0]


@pytest.mark.parametrize(
    ("unit", "code"),
    [
        ({**USUFRUCT, "bare_owner": None}, "missing_field"),
        ({k: v for k, v in USUFRUCT.items() if k != "usufruct_end"}, "missing_field"),
        ({**USUFRUCT, "right": "full_ownership"}, "forbidden_field"),
        ({**{k: v for k, v in USUFRUCT.items() if k != "right"}}, "forbidden_field"),
        ({**USUFRUCT, "right": "emphyteutic_lease"}, "value_list"),
        ({**USUFRUCT, "usufruct_end": "2042-02-30"}, "date_format"),
        ({**USUFRUCT, "bare_owner": "bad id"}, "id_format"),
        ({**RPLS_UNIT, "rpls": []}, "type"),
        ({**RPLS_UNIT, "rpls": {"entry_yaer": 1999}}, "unknown_field"),
        ({**RPLS_UNIT, "rpls": {"construction_type": "X"}}, "value_list"),
        ({**RPLS_UNIT, "rpls": {"entry_mode": 2}}, "value_list"),
        ({**RPLS_UNIT, "rpls": {"entry_mode": "5"}}, "value_list"),
        ({**RPLS_UNIT, "rpls": {"first_let_year": 1799}}, "range"),
        ({**RPLS_UNIT, "rpls": {"entry_year": True}}, "type"),
        ({**RPLS_UNIT, "rpls": {"previous_owner": "x" * 101}}, "too_long"),
        ({**RPLS_UNIT, "rpls": {"previous_owner": ""}}, "empty"),
        ({**RPLS_UNIT, "rpls": {"previous_owner_siret": "1234"}}, "siret_format"),
        ({**RPLS_UNIT, "rpls": {"financing_code": "18"}}, "value_list"),
        ({**RPLS_UNIT, "rpls": {"financing_code": "10"}}, "financing_mismatch"),
        ({**RPLS_UNIT, "financing": None, "rpls": {"financing_code": "13"}}, "financing_mismatch"),
        ({**RPLS_UNIT, "rpls": {"financing_label": "PCLS"}}, "financing_label"),
        ({**RPLS_UNIT, "rpls": {"financing_label": "x" * 31}}, "too_long"),
        ({**RPLS_UNIT, "rpls": {"apl_agreement": "1"}}, "type"),
        ({**RPLS_UNIT, "rpls": {"cus_segment": "x" * 21}}, "too_long"),
    ],
)
def test_each_rule_of_the_extension_has_its_code(unit: dict[str, Any], code: str) -> None:
    assert code_of(register(unit)) == code


def test_an_other_financing_may_have_its_label() -> None:
    unit = {**RPLS_UNIT, "financing": "other"}
    unit["rpls"] = {"financing_code": "99", "financing_label": "Prêt spécial"}
    assert parse_transaction(register(unit))["units"][0].rpls.financing_label == "Prêt spécial"


def test_the_extension_is_for_register_units_only() -> None:
    acquisition = {
        "id": "ACQ", "type": "acquisition", "date": "2018-01-01", "entity": "AFL",
        "mode": "existing", "price_eur": "1.00", "units": [RPLS_UNIT],
    }  # fmt: skip
    with pytest.raises(InvalidField) as error:
        parse_transaction(acquisition)
    assert error.value.code == "unknown_field"
    assert "units[0].rpls" in error.value.message


def test_messages_name_the_field() -> None:
    with pytest.raises(InvalidField) as error:
        parse_transaction(register({**RPLS_UNIT, "rpls": {"previous_owner_siret": "12"}}))
    assert "units[0].rpls.previous_owner_siret" in error.value.message


# --- booking and the aggregate ----------------------------------------------------------


def test_a_unit_registered_in_usufruct_is_held_as_after_a_bare_ownership_transfer() -> None:
    ledger = InMemoryLedger()
    ledger.ok(*ENTITIES, register(USUFRUCT))
    unit = ledger.aggregate(unit_key("U-1"))
    assert unit.holding == Holding(
        usufructuary="AFL", bare_owner="AGIRC", usufruct_end=date(2042, 6, 30)
    )
    ledger.ok(
        {"id": "EXT", "type": "usufruct_extinguished", "date": "2019-01-01", "units": ["U-1"]}
    )
    assert ledger.aggregate(unit_key("U-1")).holding == Holding(full_owner="AGIRC")


@pytest.mark.parametrize(
    ("unit", "entity", "message"),
    [
        ({**USUFRUCT, "bare_owner": "AFL"}, "AFL", "bare_owner AFL is the entity"),
        ({**USUFRUCT, "bare_owner": "NOBODY"}, "AFL", "bare_owner NOBODY is not a registered"),
        ({**USUFRUCT, "usufruct_end": "2048-01-02"}, "AFL", "Civil Code art. 619"),
        ({**USUFRUCT, "usufruct_end": "2018-01-01"}, "AFL", "Civil Code art. 619"),
        ({**RPLS_UNIT, "rpls": {"entry_year": 2019}}, "ESH", "rpls.entry_year 2019 is after 2018"),
        ({**RPLS_UNIT, "rpls": {"first_let_year": 2019}}, "ESH", "first_let_year 2019"),
        ({**RPLS_UNIT, "rpls": {"entry_year": 1970}}, "ESH", "before year_built 1972"),
    ],
)
def test_the_booking_rules(unit: dict[str, Any], entity: str, message: str) -> None:
    ledger = InMemoryLedger()
    ledger.ok(*ENTITIES)
    result = ledger.record(register(unit, entity=entity))
    assert len(result.errors) == 1 and message in str(result.errors[0])


def test_the_term_rule_is_the_one_of_a_bare_ownership_transfer() -> None:
    ledger = InMemoryLedger()
    ledger.ok(*ENTITIES, register({**RPLS_UNIT, "rpls": None}, entity="AFL"))
    transfer = {
        "id": "BOT", "type": "bare_ownership_transfer", "date": "2018-01-01", "entity": "AFL",
        "bare_owner": "AGIRC", "units": ["U-2"], "usufruct_end": "2048-01-02",
        "consideration": "gratuitous",
    }  # fmt: skip
    registered = ledger.record({**register({**USUFRUCT, "usufruct_end": "2048-01-02"}), "id": "R2"})
    transferred = ledger.record(transfer)
    assert [str(e).split(": ", 2)[-1] for e in registered.errors] == [
        str(e).split(": ", 2)[-1] for e in transferred.errors
    ]


def test_a_bare_owner_absorbed_or_registered_later_is_refused() -> None:
    ledger = InMemoryLedger()
    ledger.ok(*ENTITIES)
    later = {**ENTITIES[0], "id": "ENT-LATE", "entity": "LATE", "date": "2019-01-01"}
    ledger.ok(later)
    result = ledger.record(register({**USUFRUCT, "bare_owner": "LATE"}))
    assert result.errors and "LATE" in str(result.errors[0])


def test_a_merger_in_the_same_file_moves_a_unit_registered_in_usufruct() -> None:
    ledger = InMemoryLedger()
    merger = {
        "id": "MRG", "type": "merger", "date": "2018-06-01", "absorbed": ["AGIRC"], "into": "AFL"
    }  # fmt: skip
    ledger.ok(*ENTITIES, register(USUFRUCT), merger)
    assert ledger.aggregate(unit_key("U-1")).holding == Holding(full_owner="AFL")


# --- the fold -----------------------------------------------------------------------------


def test_the_fold_opens_the_usufruct_and_the_bare_ownership_and_counts_registered_once() -> None:
    ledger = InMemoryLedger()
    ledger.ok(*ENTITIES, register(USUFRUCT, RPLS_UNIT))
    ws = fold_journal(ledger.store.rows())
    key = unit_key("U-1").hex
    periods = sorted(
        (r["holder"], r["held_as"], r["usufruct_end"])
        for r in current(ws, "hl_periods")
        if r["unit_key"] == key
    )
    assert periods == [
        ("AFL", "usufruct", "2042-06-30"),
        ("AGIRC", "bare_ownership", "2042-06-30"),
        ("AGIRC", "full_ownership", None),  # from the day after the term
    ]
    moves = [(r["entity"], r["kind"]) for r in ws.new["hl_movements"] if r["unit_key"] == key]
    assert moves == [("AFL", "usufruct_ended"), ("AGIRC", "reunited"), ("AFL", "registered")]
    units = {r["unit_id"]: r["rpls"] for r in current(ws, "hl_units")}
    assert units["U-1"] is None
    assert orjson.loads(units["U-2"])["financing_code"] == "13"


V2_ONLY = ("bare_owner", "usufruct_end", "rpls", "class_version")


def test_new_entries_are_version_2_with_null_defaults() -> None:
    ledger = InMemoryLedger()
    ledger.ok(*ENTITIES, register({**RPLS_UNIT, "rpls": None}))
    (state,) = [r.state for r in ledger.store.rows() if r.topic.endswith("Unit.Entered")]
    assert [state[k] for k in V2_ONLY] == [None, None, None, 2]


def test_a_version_1_entry_reads_as_before_through_the_library_and_the_fold() -> None:
    """An `Entered` stored before version 2 (no new keys, no `class_version`): the mapper
    upcasts it to a full owner without RPLS values; the fold gives the rows of today's."""
    ledger = InMemoryLedger()
    ledger.ok(*ENTITIES, register({**RPLS_UNIT, "rpls": None}))
    rows = ledger.store.rows()
    (at,) = [i for i, r in enumerate(rows) if r.topic.endswith("Unit.Entered")]
    v1_state = {k: v for k, v in rows[at].state.items() if k not in V2_ONLY}
    v1_rows = [*rows[:at], StoredRow(rows[at].position, rows[at].key, rows[at].topic, v1_state)]
    v1_rows += rows[at + 1 :]
    v2, v1 = fold_journal(rows), fold_journal(v1_rows)
    assert v1.new == v2.new

    app = HousingLedger(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    (stored,) = [e for e in ledger.store.events if e.topic.endswith("Unit.Entered")]
    old = StoredEvent(
        originator_id=stored.originator_id,
        originator_version=stored.originator_version,
        topic=stored.topic,
        state=json.dumps(v1_state, separators=(",", ":"), ensure_ascii=False).encode(),
    )
    event: Any = app.mapper.to_domain_event(old)
    assert (event.bare_owner, event.usufruct_end, event.rpls) == (None, None, None)
    new: Any = app.mapper.to_domain_event(stored)
    assert event.mutate(None).__dict__ == new.mutate(None).__dict__
    assert app.mapper.to_stored_event(event).state == stored.state


def test_created_writes_the_version_2_state_of_a_unit_in_usufruct() -> None:
    app = HousingLedger(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    fields: dict[str, Any] = dict(
        unit_id="U-1", holder="AFL", mode="registration", commune="75118", zone="Abis",
        segment="other", financing=None, rooms=None, surface_m2=None, year_built=None,
        rpls_id=None, transaction="OPEN", on=date(2018, 1, 1), bare_owner="AGIRC",
        usufruct_end=date(2042, 6, 30), rpls='{"entry_mode":"2"}',
    )  # fmt: skip
    key = unit_key("U-1")
    ours = created(app.mapper, Unit, Unit.Entered, key, **fields)
    unit = Unit._create(Unit.Entered, id=key, timestamp=orjson_timestamp(ours), **fields)
    (pending,) = unit.collect_events()
    assert app.mapper.to_stored_event(pending).state == ours.state
    assert orjson.loads(ours.state)["class_version"] == 2


def orjson_timestamp(stored: StoredEvent) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(orjson.loads(stored.state)["timestamp"]["_data_"])


def test_the_journal_names_the_bare_owner_of_a_unit_registered_in_usufruct() -> None:
    content = register(USUFRUCT, RPLS_UNIT)
    assert named_entities(content) == ["AFL", "AGIRC"]
    assert book_names(parse_transaction(content)) == ["AFL", "AGIRC"]


def test_the_fast_path_leaves_every_extension_field_to_the_generic_parser() -> None:
    for key in ("right", "bare_owner", "usufruct_end", "rpls"):
        item = {k: v for k, v in RPLS_UNIT.items() if k != "rpls"}
        assert unit_values(item) is not None
        assert unit_values({**item, key: USUFRUCT.get(key, RPLS_UNIT["rpls"])}) is None
