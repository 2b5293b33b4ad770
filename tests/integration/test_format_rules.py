"""The input FORMAT of docs/transactions.md, one rule per test (the parse level).

Each test feeds a file whose first line is valid and whose second line breaks one rule
of the format, and checks that:
- the error starts with the exact `FILE:LINE:` prefix (and the transaction, when the
  line has a valid id),
- the message names the field and the rule in words,
- nothing at all was written (the valid first line neither: a file is all or nothing).
"""

from __future__ import annotations

import copy
import io
import json
from typing import Any

import pytest
from click.testing import CliRunner

from cli import main
from ledger.booking.service import ImportResult
from ledger.booking.transactions import parse_transaction
from tests.support import LedgerHarness, jsonl

# --- a valid file to break ---------------------------------------------------------

ENTITY = {
    "id": "ENT-A",
    "type": "register_entity",
    "date": "2017-01-01",
    "entity": "ESH-A",
    "name": "ESH A",
    "kind": "hlm",
    "region": "11",
}


def unit(uid: str = "N1", **extra: Any) -> dict[str, Any]:
    return {"unit_id": uid, "commune": "75056", "zone": "A", "segment": "social", **extra}


def acquisition(**extra: Any) -> dict[str, Any]:
    return {
        "id": "ACQ-1",
        "type": "acquisition",
        "date": "2018-03-01",
        "entity": "ESH-A",
        "mode": "vefa",
        "price_eur": "250000.00",
        "units": [unit()],
        **extra,
    }


SAMPLES: dict[str, dict[str, Any]] = {
    "register_entity": ENTITY,
    "register_units": {
        "id": "REG-1",
        "type": "register_units",
        "date": "2018-03-01",
        "entity": "ESH-A",
        "units": [unit()],
    },
    "acquisition": acquisition(),
    "sale": {
        "id": "SALE-1",
        "type": "sale",
        "date": "2018-03-01",
        "entity": "ESH-A",
        "units": ["U1"],
        "buyer": {"category": "individual", "name": "M. X"},
        "price_eur": "100000.00",
    },
    "bare_ownership_transfer": {
        "id": "BOT-1",
        "type": "bare_ownership_transfer",
        "date": "2018-03-01",
        "entity": "ESH-A",
        "bare_owner": "FUND",
        "units": ["U1"],
        "usufruct_end": "2038-03-01",
        "consideration": "onerous",
        "price_eur": "1000.00",
    },
    "usufruct_extinguished": {
        "id": "EXT-1",
        "type": "usufruct_extinguished",
        "date": "2018-03-01",
        "units": ["U1"],
    },
    "merger": {
        "id": "MRG-1",
        "type": "merger",
        "date": "2018-03-01",
        "absorbed": ["ESH-B"],
        "into": "ESH-A",
    },
    "register_business": {
        "id": "BIZ-1",
        "type": "register_business",
        "date": "2018-03-01",
        "entity": "ESH-A",
        "business": "ADB",
        "name": "Property management",
        "sector": "property_management",
        "headcount": 10,
    },
    "divestment": {
        "id": "DIV-1",
        "type": "divestment",
        "date": "2018-03-01",
        "entity": "ESH-A",
        "business": "ADB",
        "buyer": "Group Y",
        "price_eur": "1000000.00",
        "employees_transferred": 10,
        "no_redundancy": True,
    },
    "reversal": {
        "id": "REV-1",
        "type": "reversal",
        "date": "2018-03-01",
        "reverses": "ACQ-1",
        "reason": "wrong zone",
    },
}


def changed(tx: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    """A deep copy of `tx` with the field at `path` (keys and list indexes) set to `value`."""
    result = copy.deepcopy(tx)
    target = result
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return result


def without(tx: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in tx.items() if k not in keys}


def second_line_error(ledger: LedgerHarness, bad: dict[str, Any]) -> str:
    """Record [valid entity, bad]: exactly one error, on line 2, and nothing written."""
    errors = ledger.rejected(ENTITY, bad)
    assert len(errors) == 1, errors
    assert errors[0].startswith("test.jsonl:2: "), errors[0]
    return errors[0]


def tx_error(ledger: LedgerHarness, bad: dict[str, Any]) -> str:
    """As `second_line_error`, and the message names the transaction (`type id: `)."""
    error = second_line_error(ledger, bad)
    prefix = f"test.jsonl:2: {bad['type']} {bad['id']}: "
    assert error.startswith(prefix), error
    return error[len(prefix) :]


def record_raw(ledger: LedgerHarness, raw: bytes, name: str = "raw.jsonl") -> ImportResult:
    """Record raw bytes (not necessarily JSON) as one file."""
    ledger.session.current()
    result = ledger.session.recorder.record([(name, io.BytesIO(raw))])
    ledger.session.projector.catch_up()
    return result


def rejected_raw(ledger: LedgerHarness, raw: bytes, name: str = "raw.jsonl") -> list[str]:
    before = ledger.journal_size()
    result = record_raw(ledger, raw, name)
    assert result.errors, "expected the file to be rejected"
    assert ledger.journal_size() == before, "a rejected file wrote to the journal"
    return [str(e) for e in result.errors]


def line(tx: dict[str, Any]) -> bytes:
    return json.dumps(tx, ensure_ascii=False).encode() + b"\n"


GOOD_LINE = line(ENTITY)


# --- the file: JSON Lines, UTF-8, one object per line --------------------------------


def test_a_line_that_is_not_valid_json_is_rejected_with_its_line_number(ledger):
    for text in [
        b'{"id": "ENT-B", "type": "register_entity"',
        b'{"id": "ENT-B", "type": "register_entity",}',
        b"{'id': 'ENT-B'}",
        b'{"id": "ENT-B"} {"id": "ENT-C"}',
        b"register_entity ENT-B",
    ]:
        errors = rejected_raw(ledger, GOOD_LINE + text + b"\n")
        assert len(errors) == 1, (text, errors)
        assert errors[0].startswith("raw.jsonl:2: invalid JSON"), (text, errors)


def test_an_object_spread_over_several_lines_is_rejected(ledger):
    pretty = json.dumps(SAMPLES["register_business"], indent=2).encode()
    errors = rejected_raw(ledger, GOOD_LINE + pretty + b"\n")
    assert errors[0].startswith("raw.jsonl:2: invalid JSON"), errors
    assert all("invalid JSON" in e for e in errors)


def test_a_json_value_that_is_not_an_object_is_rejected(ledger):
    for text, kind in [
        (b'[{"id": "ENT-B"}]', "a list"),
        (b'"ENT-B"', "a string"),
        (b"42", "an integer"),
        (b"null", "null"),
        (b"true", "a boolean"),
    ]:
        errors = rejected_raw(ledger, GOOD_LINE + text + b"\n")
        assert errors == [f"raw.jsonl:2: a transaction must be a JSON object, not {kind}"]


def test_blank_lines_are_ignored_but_still_count_in_line_numbers(ledger):
    bad = changed(SAMPLES["register_business"], ("headcount",), -1)
    raw = b"\n" + GOOD_LINE + b"   \n\t\n\r\n" + line(bad) + b"\n\n"
    errors = rejected_raw(ledger, raw)
    assert len(errors) == 1, errors
    assert errors[0].startswith("raw.jsonl:6: register_business BIZ-1: "), errors[0]
    result = record_raw(ledger, b"\n" + GOOD_LINE + b"  \n\n")
    assert (result.errors, result.recorded) == ([], 1)


def test_a_file_with_only_blank_lines_records_nothing_and_is_not_an_error(ledger):
    result = record_raw(ledger, b"\n  \n\n")
    assert (result.errors, result.recorded, result.already_recorded) == ([], 0, 0)
    assert ledger.journal_size() == 0


def test_invalid_utf8_is_rejected_with_its_line_number(ledger):
    bad = line(ENTITY | {"id": "ENT-B", "entity": "ESH-B", "name": "ESH XX"})
    errors = rejected_raw(ledger, GOOD_LINE + bad.replace(b"XX", b"\xff\xfe"))
    assert len(errors) == 1, errors
    assert errors[0].startswith("raw.jsonl:2: invalid UTF-8"), errors[0]


def test_a_key_that_appears_twice_in_an_object_is_rejected(ledger):
    raw = (
        b'{"id": "ENT-B", "type": "register_entity", "date": "2017-01-01", '
        b'"entity": "ESH-B", "name": "B", "kind": "hlm", "kind": "lli"}\n'
    )
    errors = rejected_raw(ledger, GOOD_LINE + raw)
    assert len(errors) == 1, errors
    assert errors[0].startswith("raw.jsonl:2: invalid JSON"), errors[0]
    assert "'kind' appears twice" in errors[0]


def test_a_key_that_appears_twice_in_a_nested_object_is_rejected(ledger):
    raw = line(acquisition()).replace(b'"zone": "A"', b'"zone": "A", "zone": "C"')
    errors = rejected_raw(ledger, GOOD_LINE + raw)
    assert len(errors) == 1 and "'zone' appears twice" in errors[0], errors
    assert errors[0].startswith("raw.jsonl:2: ")


def test_nan_and_infinity_are_rejected(ledger):
    for constant in [b"NaN", b"Infinity", b"-Infinity"]:
        raw = line(acquisition(units=[unit(rooms=3)])).replace(
            b'"rooms": 3', b'"rooms": ' + constant
        )
        errors = rejected_raw(ledger, GOOD_LINE + raw)
        assert len(errors) == 1, errors
        assert errors[0].startswith("raw.jsonl:2: invalid JSON"), errors[0]
        assert constant.lstrip(b"-").decode() in errors[0]


# --- common fields --------------------------------------------------------------------


@pytest.mark.parametrize("field", ["id", "type", "date"])
def test_a_transaction_without_a_required_common_field_is_rejected(ledger, field):
    error = second_line_error(ledger, without(SAMPLES["register_business"], field))
    assert f"missing field '{field}'" in error


@pytest.mark.parametrize("field", ["id", "type", "date", "entity"])
def test_a_required_field_set_to_null_is_rejected(ledger, field):
    error = second_line_error(ledger, changed(SAMPLES["register_business"], (field,), None))
    assert field in error


def test_an_id_that_breaks_the_id_pattern_or_length_is_rejected(ledger):
    for bad_id in ["-ACQ", ".ACQ", "ACQ 1", "ACQ#1", "ACQ-é", "ACQ\n", "", "A" * 81]:
        error = second_line_error(ledger, changed(acquisition(), ("id",), bad_id))
        assert "'id'" in error and "not a valid id" in error, error
        assert "1-80 characters" in error


def test_an_id_that_is_not_a_string_is_rejected(ledger):
    error = second_line_error(ledger, changed(acquisition(), ("id",), 42))
    assert "'id'" in error and "must be a string" in error


def test_an_id_of_80_characters_using_every_allowed_character_is_accepted(ledger):
    tx_id = ("0aZ._:/-" * 10)[:80]
    assert len(tx_id) == 80
    ledger.ok(ENTITY, changed(acquisition(), ("id",), tx_id))
    assert ledger.holdings() == [
        {"entity": "ESH-A", "full_ownership": 1, "usufruct": 0, "bare_ownership": 0}
    ]


@pytest.mark.parametrize(
    "path, named",
    [
        (("entity",), "'entity'"),
        (("units", 0, "unit_id"), "'units[0].unit_id'"),
        (("units", 0, "rpls_id"), "'units[0].rpls_id'"),
    ],
)
def test_every_id_field_follows_the_id_pattern(ledger, path, named):
    assert named in tx_error(ledger, changed(acquisition(), path, "bad id"))
    assert named in tx_error(ledger, changed(acquisition(), path, "X" * 81))


def test_an_unknown_type_is_rejected_and_the_known_types_are_listed(ledger):
    error = second_line_error(ledger, changed(acquisition(), ("type",), "purchase"))
    assert "ACQ-1" in error and "unknown type 'purchase'" in error
    assert "acquisition" in error and "reversal" in error


def test_a_type_that_is_not_a_string_is_rejected(ledger):
    error = second_line_error(ledger, changed(acquisition(), ("type",), ["acquisition"]))
    assert "unknown type" in error


@pytest.mark.parametrize(
    "tx, named",
    [
        (acquisition(colour="blue"), "'colour'"),
        (acquisition(price="1.00"), "'price'"),
        (acquisition(units=[unit(color="blue")]), "'units[0].color'"),
        (changed(SAMPLES["sale"], ("buyer", "phone"), "0600000000"), "'buyer.phone'"),
        (acquisition(units=[unit(journal={"position": 1})]), "'units[0].journal'"),
    ],
)
def test_an_unknown_field_is_rejected(ledger, tx, named):
    error = tx_error(ledger, tx)
    assert f"unknown field {named}" in error


def test_a_field_of_another_type_is_unknown(ledger):
    error = tx_error(
        ledger,
        changed(SAMPLES["register_entity"], ("id",), "ENT-B")
        | {"entity": "ESH-B", "units": [unit()]},
    )
    assert "unknown field 'units'" in error


def test_the_journal_key_added_by_journal_jsonl_is_accepted_and_ignored(ledger):
    exported = acquisition(
        journal={"position": 7, "recorded_at": "2026-01-01T10:00:00+00:00", "chain": "ab" * 32}
    )
    result = ledger.ok(ENTITY, exported)
    assert result.recorded == 2
    # the key is not part of the content: the line without it is the same transaction
    again = ledger.ok(acquisition())
    assert (again.recorded, again.already_recorded) == (0, 1)
    # and a different journal key (another export) is ignored as well
    again = ledger.ok(acquisition(journal={"position": 99}))
    assert (again.recorded, again.already_recorded) == (0, 1)


@pytest.mark.parametrize("field", ["reference", "note"])
def test_reference_and_note_must_be_strings(ledger, field):
    assert f"'{field}'" in tx_error(ledger, acquisition(**{field: 42}))
    ledger.ok(ENTITY, acquisition(**{field: "Acte 2018/12"}))


def test_a_date_that_is_not_a_calendar_date_yyyy_mm_dd_is_rejected(ledger):
    for bad_date in [
        "2018-02-30",
        "2018-13-01",
        "2018-3-01",
        "18-03-01",
        "2018/03/01",
        "20180301",
        "2018-03-01T00:00:00",
        "01-03-2018",
        "",
        "２０１８-03-01",
    ]:
        error = tx_error(ledger, changed(acquisition(), ("date",), bad_date))
        assert "'date'" in error and "YYYY-MM-DD" in error, error


def test_a_date_that_is_not_a_string_is_rejected(ledger):
    error = tx_error(ledger, changed(acquisition(), ("date",), 20180301))
    assert "'date'" in error and "date string" in error


def test_usufruct_end_must_be_a_valid_date(ledger):
    bad = changed(SAMPLES["bare_ownership_transfer"], ("usufruct_end",), "2038-02-29")
    error = tx_error(ledger, bad)
    assert "'usufruct_end'" in error and "YYYY-MM-DD" in error


def test_a_leap_day_is_a_valid_date(ledger):
    ledger.ok(ENTITY, changed(acquisition(), ("date",), "2020-02-29"))
    assert ledger.holdings(as_of="2020-02-29") == [
        {"entity": "ESH-A", "full_ownership": 1, "usufruct": 0, "bare_ownership": 0}
    ]


# --- money ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind, amounts",
    [
        ("float", [250000.0, 250000.5]),
        ("int", [250000, 0]),
    ],
)
def test_money_given_as_a_json_number_is_rejected(ledger, kind, amounts):
    for amount in amounts:
        error = tx_error(ledger, acquisition(price_eur=amount))
        assert "'price_eur'" in error and "decimal string" in error, error


def test_money_with_more_than_two_decimals_or_not_a_plain_decimal_is_rejected(ledger):
    for amount in ["250000.001", "0.125", "2.5e5", "250 000.00", "250000,00", "", "EUR 12"]:
        error = tx_error(ledger, acquisition(price_eur=amount))
        assert "'price_eur'" in error and "at most 2 decimals" in error, error


def test_negative_money_is_rejected(ledger):
    for amount in ["-1.00", "-0.01", "-250000"]:
        error = tx_error(ledger, acquisition(price_eur=amount))
        assert "'price_eur'" in error and ">= 0" in error, error


def test_money_written_with_non_ascii_digits_is_rejected(ledger):
    # "١٠٠.٠٠" is 100.00 in Arabic-Indic digits: not a decimal amount of the format
    error = tx_error(ledger, acquisition(price_eur="١٠٠.٠٠"))
    assert "'price_eur'" in error


def test_money_with_zero_one_or_two_decimals_is_accepted(ledger):
    amounts = ["0", "0.00", "12.5", "1250000.00", "99999999999.99"]
    result = ledger.ok(
        ENTITY,
        *(
            acquisition(id=f"ACQ-{i}", units=[unit(f"N{i}")], price_eur=a)
            for i, a in enumerate(amounts)
        ),
    )
    assert result.recorded == 1 + len(amounts)


@pytest.mark.parametrize(
    "tx, field",
    [
        (SAMPLES["sale"], "price_eur"),
        (SAMPLES["bare_ownership_transfer"], "price_eur"),
        (SAMPLES["divestment"], "price_eur"),
    ],
)
def test_every_money_field_refuses_floats(ledger, tx, field):
    error = tx_error(ledger, changed(tx, (field,), 1000.0))
    assert f"'{field}'" in error and "floats are not allowed" in error


# --- unit objects -----------------------------------------------------------------------


def test_rooms_outside_1_to_20_are_rejected(ledger):
    for rooms in [0, 21, -1, 100]:
        error = tx_error(ledger, acquisition(units=[unit(rooms=rooms)]))
        assert "'units[0].rooms'" in error and "between 1 and 20" in error, error


def test_rooms_of_1_and_20_are_accepted(ledger):
    ledger.ok(ENTITY, acquisition(units=[unit("N1", rooms=1), unit("N2", rooms=20)]))
    assert ledger.holdings()[0]["full_ownership"] == 2


def test_rooms_must_be_an_integer(ledger):
    for rooms, kind in [("3", "a string"), (3.0, "floats are not allowed"), (True, "a boolean")]:
        error = tx_error(ledger, acquisition(units=[unit(rooms=rooms)]))
        assert "'units[0].rooms'" in error and "must be an integer" in error and kind in error


def test_year_built_before_1800_is_rejected(ledger):
    error = tx_error(ledger, acquisition(units=[unit(year_built=1799)]))
    assert "'units[0].year_built'" in error and "1800" in error
    ledger.ok(ENTITY, acquisition(units=[unit(year_built=1800)]))


def test_year_built_up_to_the_transaction_year_plus_5_is_accepted(ledger):
    ledger.ok(ENTITY, acquisition(date="2018-03-01", units=[unit(year_built=2023)]))
    assert ledger.holdings()[0]["full_ownership"] == 1


def test_year_built_after_the_transaction_year_plus_5_is_rejected(ledger):
    error = tx_error(
        ledger, acquisition(date="2018-03-01", units=[unit("N1"), unit("N2", year_built=2024)])
    )
    assert "unit N2" in error and "year_built 2024" in error and "2023" in error


def test_a_commune_that_is_not_an_insee_code_is_rejected(ledger):
    for commune in ["7505", "750560", "2C004", "2a004", "2A04", "ABCDE", "", " 75056", 75056]:
        error = tx_error(ledger, acquisition(units=[unit(commune=commune)]))
        assert "'units[0].commune'" in error and "INSEE" in error, error


def test_a_commune_written_with_non_ascii_digits_is_rejected(ledger):
    # "٧٥٠٥٦" is 75056 in Arabic-Indic digits: not an INSEE code
    error = tx_error(ledger, acquisition(units=[unit(commune="٧٥٠٥٦")]))
    assert "'units[0].commune'" in error and "INSEE" in error


def test_insee_communes_including_corsica_2a_2b_are_accepted(ledger):
    communes = ["75056", "01001", "97411", "2A004", "2B033"]
    ledger.ok(ENTITY, acquisition(units=[unit(f"N{i}", commune=c) for i, c in enumerate(communes)]))
    rows = ledger.holdings(by="commune")
    assert sorted(r["commune"] for r in rows) == sorted(communes)
    assert all(r["full_ownership"] == 1 for r in rows)


def test_a_surface_that_is_not_a_positive_decimal_string_is_rejected(ledger):
    for surface, rule in [
        ("0", "> 0"),
        ("0.00", "> 0"),
        ("-12.00", "> 0"),
        (45.5, "decimal string"),
        ("abc", "not a decimal"),
    ]:
        error = tx_error(ledger, acquisition(units=[unit(surface_m2=surface)]))
        assert "'units[0].surface_m2'" in error and rule in error, error


def test_a_positive_decimal_surface_is_accepted(ledger):
    surfaces = ["45", "45.5", "64.50"]
    ledger.ok(
        ENTITY, acquisition(units=[unit(f"N{i}", surface_m2=s) for i, s in enumerate(surfaces)])
    )
    assert ledger.holdings()[0]["full_ownership"] == 3


def test_a_surface_with_more_than_two_decimals_is_accepted(ledger):
    # the 2-decimal limit is for money; surface_m2 is only a "decimal > 0"
    ledger.ok(ENTITY, acquisition(units=[unit(surface_m2="64.125")]))
    assert ledger.holdings()[0]["full_ownership"] == 1


def test_a_region_that_is_not_two_digits_is_rejected(ledger):
    for region in ["1", "111", "ab", 11, ""]:
        error = tx_error(
            ledger,
            SAMPLES["register_entity"] | {"id": "ENT-B", "entity": "ESH-B", "region": region},
        )
        assert "'region'" in error and "2-digit" in error, error


# --- value lists ------------------------------------------------------------------------

VALUE_LISTS = [
    (
        "register_entity",
        ("kind",),
        "kind",
        ["group", "hlm", "lli", "fonciere", "pension_fund", "other"],
    ),
    ("acquisition", ("units", 0, "zone"), "units[0].zone", ["Abis", "A", "B1", "B2", "C"]),
    (
        "acquisition",
        ("units", 0, "segment"),
        "units[0].segment",
        ["social", "intermediate", "other"],
    ),
    (
        "acquisition",
        ("units", 0, "financing"),
        "units[0].financing",
        ["PLAI", "PLUS", "PLS", "PLI", "other"],
    ),
    (
        "sale",
        ("buyer", "category"),
        "buyer.category",
        [
            "sitting_tenant",
            "tenant_family",
            "tenant",
            "caretaker",
            "individual",
            "social_landlord",
            "sem",
            "local_authority",
            "approved_body",
            "institutional",
            "other",
        ],
    ),
    (
        "register_business",
        ("sector",),
        "sector",
        ["property_management", "private_development", "other"],
    ),
    ("bare_ownership_transfer", ("consideration",), "consideration", ["gratuitous", "onerous"]),
    ("acquisition", ("mode",), "mode", ["vefa", "new_build", "existing"]),
]


@pytest.mark.parametrize(
    "tx_type, path, named, allowed", VALUE_LISTS, ids=[v[2] for v in VALUE_LISTS]
)
def test_a_value_outside_its_value_list_is_rejected(ledger, tx_type, path, named, allowed):
    sample = SAMPLES[tx_type]
    if tx_type == "register_entity":
        sample = sample | {"id": "ENT-B", "entity": "ESH-B"}
    for bad in ["unknown", allowed[0].swapcase(), "", 1]:
        error = tx_error(ledger, changed(sample, path, bad))
        assert f"'{named}'" in error and "expected one of" in error, error
        for value in allowed:
            assert value in error


@pytest.mark.parametrize(
    "tx_type, path, named, allowed", VALUE_LISTS, ids=[v[2] for v in VALUE_LISTS]
)
def test_every_value_of_a_value_list_is_accepted_by_the_format(tx_type, path, named, allowed):
    for value in allowed:
        parsed = parse_transaction(changed(SAMPLES[tx_type], path, value))
        assert parsed.id == SAMPLES[tx_type]["id"]


def test_a_buyer_without_a_category_is_rejected(ledger):
    error = tx_error(ledger, changed(SAMPLES["sale"], ("buyer",), {"name": "M. X"}))
    assert "missing field 'buyer.category'" in error


# --- lists ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tx_type, field",
    [
        ("register_units", "units"),
        ("acquisition", "units"),
        ("sale", "units"),
        ("bare_ownership_transfer", "units"),
        ("usufruct_extinguished", "units"),
        ("merger", "absorbed"),
    ],
)
def test_an_empty_list_is_rejected(ledger, tx_type, field):
    error = tx_error(ledger, changed(SAMPLES[tx_type], (field,), []))
    assert f"'{field}'" in error and "at least one" in error


@pytest.mark.parametrize("tx_type", ["register_units", "acquisition"])
def test_a_unit_object_listed_twice_in_one_transaction_is_rejected(ledger, tx_type):
    error = tx_error(
        ledger,
        changed(SAMPLES[tx_type], ("units",), [unit("N1"), unit("N2"), unit("N1", zone="C")]),
    )
    assert "'units'" in error and "N1 twice" in error


@pytest.mark.parametrize(
    "tx_type, field, value",
    [
        ("sale", "units", ["U1", "U2", "U1"]),
        ("bare_ownership_transfer", "units", ["U1", "U1"]),
        ("usufruct_extinguished", "units", ["U1", "U1"]),
        ("merger", "absorbed", ["ESH-B", "ESH-C", "ESH-B"]),
    ],
)
def test_an_id_listed_twice_in_one_transaction_is_rejected(ledger, tx_type, field, value):
    error = tx_error(ledger, changed(SAMPLES[tx_type], (field,), value))
    assert f"'{field}'" in error and f"{value[0]} twice" in error


def test_a_unit_list_that_is_not_a_list_is_rejected(ledger):
    error = tx_error(ledger, changed(SAMPLES["sale"], ("units",), "U1"))
    assert "'units'" in error and "must be a list" in error


# --- integers and booleans ----------------------------------------------------------------


@pytest.mark.parametrize(
    "tx_type, path, named",
    [
        ("acquisition", ("units", 0, "rooms"), "units[0].rooms"),
        ("acquisition", ("units", 0, "year_built"), "units[0].year_built"),
        ("register_business", ("headcount",), "headcount"),
        ("divestment", ("employees_transferred",), "employees_transferred"),
    ],
)
def test_a_boolean_where_an_integer_is_expected_is_rejected(ledger, tx_type, path, named):
    for flag in [True, False]:
        error = tx_error(ledger, changed(SAMPLES[tx_type], path, flag))
        assert f"'{named}'" in error and "must be an integer" in error and "a boolean" in error


def test_no_redundancy_must_be_true_or_false(ledger):
    for value in [1, 0, "true", None]:
        error = tx_error(ledger, changed(SAMPLES["divestment"], ("no_redundancy",), value))
        assert "'no_redundancy'" in error and "true or false" in error, error


@pytest.mark.parametrize(
    "tx_type, field", [("register_business", "headcount"), ("divestment", "employees_transferred")]
)
def test_a_negative_count_is_rejected(ledger, tx_type, field):
    error = tx_error(ledger, changed(SAMPLES[tx_type], (field,), -1))
    assert f"'{field}'" in error and "between 0 and" in error


def test_a_reversal_needs_a_non_empty_reason(ledger):
    error = tx_error(ledger, changed(SAMPLES["reversal"], ("reason",), ""))
    assert "'reason'" in error and "empty" in error
    error = tx_error(ledger, without(SAMPLES["reversal"], "reason"))
    assert "missing field 'reason'" in error


@pytest.mark.parametrize(
    "tx_type, field",
    [
        ("register_entity", "name"),
        ("register_units", "entity"),
        ("acquisition", "mode"),
        ("sale", "buyer"),
        ("bare_ownership_transfer", "usufruct_end"),
        ("merger", "into"),
        ("register_business", "headcount"),
        ("divestment", "no_redundancy"),
        ("reversal", "reverses"),
    ],
)
def test_a_transaction_without_a_field_its_type_requires_is_rejected(ledger, tx_type, field):
    sample = SAMPLES[tx_type]
    if tx_type == "register_entity":
        sample = sample | {"id": "ENT-B", "entity": "ESH-B"}
    error = tx_error(ledger, without(sample, field))
    assert f"missing field '{field}'" in error


def test_a_unit_without_a_required_field_is_rejected(ledger):
    bad = acquisition(units=[unit("N1"), {"unit_id": "N2", "zone": "A", "segment": "social"}])
    assert "missing field 'units[1].commune'" in tx_error(ledger, bad)


# --- several errors: all reported, in line order, nothing written -----------------------------


def test_every_error_of_a_file_is_reported_in_line_order_and_nothing_is_written(any_ledger):
    ledger = any_ledger
    raw = b"".join(
        [
            GOOD_LINE,  # 1
            line(SAMPLES["sale"] | {"id": "SALE-X", "units": ["NOPE"]}),  # 2 domain
            line(acquisition(price_eur=1.5)),  # 3 field
            b'{"id": "BROKEN"\n',  # 4 JSON
            b"\n",  # 5 blank
            line(acquisition(id="ACQ-2", units=[unit("N2")])),  # 6 valid
            b"[1]\n",  # 7 not obj
            line(acquisition(id="ACQ-3", units=[unit("N2")])),  # 8 domain
            b'{"id": "\xff"}\n',  # 9 UTF-8
        ]
    )
    before = ledger.journal_size()
    result = record_raw(ledger, raw, "stock.jsonl")
    lines = [e.line for e in result.errors]
    assert lines == [2, 3, 4, 7, 8, 9]
    assert all(str(e).startswith(f"stock.jsonl:{e.line}: ") for e in result.errors)
    assert "unit NOPE is not in the ledger" in str(result.errors[0])
    assert "unit N2 is already in the ledger" in str(result.errors[4])
    assert ledger.journal_size() == before == 0


def test_errors_of_several_files_are_reported_file_by_file_and_nothing_is_written(ledger):
    ledger.session.current()
    first = GOOD_LINE + line(acquisition(price_eur="x"))
    second = line(acquisition(id="ACQ-2", units=[unit("N2", rooms=0)])) + b"[]\n"
    result = ledger.session.recorder.record(
        [("b.jsonl", io.BytesIO(first)), ("a.jsonl", io.BytesIO(second))]
    )
    assert [(e.source, e.line) for e in result.errors] == [
        ("b.jsonl", 2),
        ("a.jsonl", 1),
        ("a.jsonl", 2),
    ]
    assert ledger.journal_size() == 0


def test_the_import_command_prints_every_error_and_exits_1(tmp_path):
    url = f"sqlite:///{tmp_path}/cli.db"
    path = tmp_path / "stock.jsonl"
    path.write_bytes(GOOD_LINE + line(acquisition(price_eur=1.5)) + b"nope\n")
    runner = CliRunner()
    result = runner.invoke(main, ["--db", url, "import", str(path)])
    assert result.exit_code == 1, result.output
    err_lines = [x for x in result.stderr.splitlines() if x.startswith(f"{path}:")]
    assert [x.split(":")[1] for x in err_lines] == ["2", "3"]
    assert "Traceback" not in result.stderr
    check = LedgerHarness(url)
    try:
        assert check.journal_size() == 0
    finally:
        check.close()


def test_a_valid_file_records_every_line_and_reports_no_error(ledger):
    result = record_raw(ledger, jsonl([ENTITY, acquisition()]))
    assert (result.errors, result.recorded, result.already_recorded) == ([], 2, 0)
    assert ledger.holdings() == [
        {"entity": "ESH-A", "full_ownership": 1, "usufruct": 0, "bare_ownership": 0}
    ]
