"""An RPLS-shaped file read into `register_units` transactions, with no database
(`ledger.booking.rpls_file`, `rpls_cells`, `zoning`; docs/rpls.md, "Import")."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from ledger.booking import rpls_file
from ledger.booking.rpls_file import ImportOptions, RplsFile, entity_problem
from ledger.booking.zoning import ZoningError, load_zoning, read_zoning
from ledger.domain.entity import Entity

REFERENCE = Path(rpls_file.__file__).resolve().parents[1] / "reference"
ESH_IDF_2017 = """\
rpls_id;si_id;right;commune;zone;rooms;surface_m2;year_built;first_let_year;entry_year;entry_mode;financing;apl_agreement;exit_reason
;U-0001;1;93066;A;3;64.50;1972;1973;1999;2;13;1;9
;U-0002;1;93066;A;2;;1972;1973;1999;2;10;1;9
;U-0003;1;77288;B1;4;;1985;1985;1985;1;14;1;
0930661234;U-0009;1;93066;A;3;58;1972;1973;1999;2;13;1;1
"""
HEADER = "si_id;right;commune;zone"


def read(
    text: str | bytes,
    entity: str = "ESH-IDF",
    as_of: str = "2017-01-01",
    name: str = "esh.csv",
    **options: Any,
) -> tuple[list[dict[str, Any]], list[str], RplsFile]:
    data = text.encode("utf-8") if isinstance(text, str) else text
    f = RplsFile(
        name, io.BytesIO(data), ImportOptions(entity, date.fromisoformat(as_of), **options)
    )
    txs = list(f.transactions())
    return txs, [str(e) for e in f.errors], f


def units(text: str, **options: Any) -> list[dict[str, Any]]:
    txs, errors, _ = read(text, **options)
    assert errors == []
    return [u for tx in txs for u in tx["units"]]


def errors(text: str, **options: Any) -> list[str]:
    return read(text, **options)[1]


def one(line: str, header: str = HEADER, **options: Any) -> list[str]:
    return errors(f"{header}\n{line}\n", **options)


# --- the worked examples -------------------------------------------------------------


def test_the_esh_idf_2017_example_gives_the_register_units_of_the_spec() -> None:
    txs, errs, f = read(ESH_IDF_2017, name="esh-idf-2017.csv")
    assert errs == []
    assert (f.registered, f.skipped) == (3, 1)
    assert txs == [
        {
            "id": "RPLS-ESH-IDF-2017-01-01-001",
            "type": "register_units",
            "date": "2017-01-01",
            "entity": "ESH-IDF",
            "note": "imported from an RPLS-shaped file",
            "units": [
                {"unit_id": "U-0001", "commune": "93066", "zone": "A", "segment": "social",
                 "financing": "PLUS", "rooms": 3, "surface_m2": "64.50", "year_built": 1972,
                 "rpls": {"first_let_year": 1973, "entry_year": 1999, "entry_mode": "2",
                          "financing_code": "13", "apl_agreement": True}},
                {"unit_id": "U-0002", "commune": "93066", "zone": "A", "segment": "social",
                 "financing": "PLAI", "rooms": 2, "year_built": 1972,
                 "rpls": {"first_let_year": 1973, "entry_year": 1999, "entry_mode": "2",
                          "financing_code": "10", "apl_agreement": True}},
                {"unit_id": "U-0003", "commune": "77288", "zone": "B1", "segment": "social",
                 "financing": "PLS", "rooms": 4, "year_built": 1985,
                 "rpls": {"first_let_year": 1985, "entry_year": 1985, "entry_mode": "1",
                          "financing_code": "14", "apl_agreement": True}},
            ],
        }
    ]  # fmt: skip
    assert list(txs[0]) == ["id", "type", "date", "entity", "note", "units"]


def test_a_13_character_rpls_id_is_rejected_with_the_spec_message() -> None:
    text = ESH_IDF_2017.replace(";U-0001;", "0930660000001;U-0001;")
    assert errors(text, name="esh-idf-2017.csv") == [
        'esh-idf-2017.csv:2: unit U-0001: rpls_id "0930660000001" must be 10 letters or '
        "digits (field 1)"
    ]


def test_without_a_zone_column_the_2024_zoning_gives_abis_and_a() -> None:
    lines = [";".join(c for i, c in enumerate(line.split(";")) if i != 4)
             for line in ESH_IDF_2017.splitlines()]  # fmt: skip
    zoning = load_zoning("zonage-abc-2024-07.csv", str(REFERENCE / "zonage-abc-2024-07.csv"))
    got = units("\n".join(lines), zoning=zoning)
    assert [(u["unit_id"], u["zone"]) for u in got] == [
        ("U-0001", "Abis"),
        ("U-0002", "Abis"),
        ("U-0003", "A"),
    ]


def test_a_usufruct_line_records_right_bare_owner_and_end() -> None:
    text = (
        "si_id;right;commune;zone;segment;rooms;exit_reason;bare_owner;usufruct_end\n"
        "U-0101;4;75118;Abis;other;3;9;AGIRC-ARRCO;2042-06-30\n"
    )
    txs, errs, _ = read(text, entity="AFL", as_of="2018-01-01")
    assert errs == []
    assert txs[0]["id"] == "RPLS-AFL-2018-01-01-001"
    assert txs[0]["units"] == [
        {"unit_id": "U-0101", "commune": "75118", "zone": "Abis", "segment": "other",
         "rooms": 3, "right": "usufruct", "bare_owner": "AGIRC-ARRCO",
         "usufruct_end": "2042-06-30"}
    ]  # fmt: skip


# --- the CSV dialect ----------------------------------------------------------------


def test_bom_crlf_blank_lines_quotes_trimming_and_column_order_are_accepted() -> None:
    text = (
        '\ufeffzone;commune ; si_id;right\r\n\r\n  \t\r\n"A";\t93066 ;"U-1";1\r\n'
        '"A";93066;"U-2";"1"\r\n'
    )
    got = units(text)
    assert [(u["unit_id"], u["zone"], u["commune"]) for u in got] == [
        ("U-1", "A", "93066"),
        ("U-2", "A", "93066"),
    ]


def test_a_quoted_cell_may_hold_a_semicolon_and_a_doubled_quote() -> None:
    text = f'{HEADER};previous_owner\nU-1;1;93066;A;"Foncière; ""Les Pins"""\n'
    assert units(text)[0]["rpls"] == {"previous_owner": 'Foncière; "Les Pins"'}


def test_a_line_break_inside_a_quoted_cell_is_an_error() -> None:
    text = f'{HEADER};previous_owner\nU-1;1;93066;A;"two\nlines"\nU-2;1;93066;A;x\n'
    assert errors(text) == ["esh.csv:2: a line break inside a quoted cell"]


def test_invalid_utf8_and_a_wrong_cell_count_are_errors_on_their_line() -> None:
    data = f"{HEADER}\nU-1;1;93066;A\nU-\xe9;1;93066;A\nU-3;1;93066\n".encode("latin-1")
    assert read(data)[1] == [
        "esh.csv:3: invalid UTF-8 at byte 2",
        "esh.csv:4: 3 cells, the header has 4",
    ]


# --- the header ---------------------------------------------------------------------


def test_header_errors_name_unknown_missing_and_repeated_columns() -> None:
    assert errors("si_id;commune;surface;rooms;rooms;zone\nU-1;93066;1;2;2;A\n") == [
        'esh.csv:1: unknown column "surface"',
        'esh.csv:1: column "rooms" appears twice',
        'esh.csv:1: missing column "right"',
    ]


def test_without_a_zone_column_or_a_zoning_file_the_units_leave_their_zone_out() -> None:
    """The ledger's zoning vintage in force on the date gives it (or the booking says
    that none does: tests/integration/test_zoning.py)."""
    assert units("si_id;right;commune\nU-1;1;93066\n") == [
        {"unit_id": "U-1", "commune": "93066", "segment": "social"}
    ]


def test_the_ignored_columns_of_the_arrete_are_accepted() -> None:
    text = f"{HEADER};occupancy;sale_type;comment;rent_eur\nU-1;1;93066;A;1;01;hello;500\n"
    assert units(text) == [{"unit_id": "U-1", "commune": "93066", "zone": "A", "segment": "social"}]


def test_a_file_with_nothing_to_register_is_an_error_on_line_1() -> None:
    assert errors("") == ["esh.csv:1: no unit to register"]
    assert errors(f"{HEADER};exit_reason\nU-1;1;93066;A;2\n") == ["esh.csv:1: no unit to register"]


# --- which lines register (§5.2) -------------------------------------------------------


@pytest.mark.parametrize(("exit_reason", "gone"), [("1", ""), ("5", ""), ("", "1"), ("9", "2")])
def test_a_line_that_left_the_stock_is_skipped_with_only_its_codes_checked(
    exit_reason: str, gone: str
) -> None:
    text = (
        f"{HEADER};rooms;exit_reason;no_longer_exists\n"
        f"U-1;3;bad;Z;99;{exit_reason};{gone}\nU-2;1;93066;A;;;\n"
    )
    txs, errs, f = read(text)
    assert errs == []
    assert (f.registered, f.skipped) == (1, 1)
    assert [u["unit_id"] for u in txs[0]["units"]] == ["U-2"]


def test_bad_exit_codes_are_errors_even_on_a_skipped_line() -> None:
    assert one("U-1;1;93066;A;7;3", f"{HEADER};exit_reason;no_longer_exists") == [
        'esh.csv:2: unit U-1: exit_reason "7" must be 1 to 5 (left the stock) or 9 (still in '
        "the stock) (field 37)",
        'esh.csv:2: unit U-1: no_longer_exists "3" must be 1 or 2 (field 38)',
    ]


# --- zone and segment (§5.3) ----------------------------------------------------------


def test_the_zone_cell_wins_over_the_zoning_file(tmp_path: Path) -> None:
    path = tmp_path / "z.csv"
    path.write_text("code;nom;zone\n93066;Saint-Denis;A\n75056;Paris;Abis\n", "utf-8")
    zoning = load_zoning("z.csv", str(path))
    got = units(f"{HEADER}\nU-1;1;93066;B2\nU-2;1;93066;\nU-3;1;75118;\n", zoning=zoning)
    assert [(u["zone"], u["commune"]) for u in got] == [
        ("B2", "93066"),
        ("A", "93066"),
        ("Abis", "75118"),
    ]


def test_arrondissements_of_lyon_and_marseille_are_looked_up_as_their_city(tmp_path: Path) -> None:
    path = tmp_path / "z.csv"
    path.write_text("\ufeffcode;Zone ABC\n69123;A\n13055;B1\n", "utf-8")
    zoning = load_zoning("z.csv", str(path))
    got = units("si_id;right;commune\nU-1;1;69381\nU-2;1;13216\n", zoning=zoning)
    assert [(u["commune"], u["zone"]) for u in got] == [("69381", "A"), ("13216", "B1")]


def test_a_commune_missing_from_the_zoning_file_is_an_error() -> None:
    zoning = load_zoning("zonage-abc-2022.csv", str(REFERENCE / "zonage-abc-2022.csv"))
    assert errors("si_id;right;commune\nU-0020;1;99999\n", zoning=zoning) == [
        "esh.csv:2: unit U-0020: no zone for commune 99999 in zonage-abc-2022.csv"
    ]


def test_an_empty_zone_cell_without_zoning_leaves_the_zone_out() -> None:
    assert units(f"{HEADER}\nU-1;1;93066;\n") == [
        {"unit_id": "U-1", "commune": "93066", "segment": "social"}
    ]


def test_the_shipped_zoning_files_are_read() -> None:
    for name in ("zonage-abc-2022.csv", "zonage-abc-2024-07.csv"):
        zoning = load_zoning(name, str(REFERENCE / name))
        assert len(zoning.zones) > 34_000
        assert zoning.zone_of("75118") == "Abis"


def test_zoning_file_errors_read_zoning_line_message() -> None:
    with pytest.raises(ZoningError) as e:
        read_zoning("z.csv", ["code;nom\n", "93066;x\n"])
    assert e.value.messages == ["z.csv:1: no column named zone or starting with Zone"]
    with pytest.raises(ZoningError) as e:
        read_zoning("z.csv", ["code;zone\n", "93066;A\n", "9306;A\n", "75056;D\n", "93066;A\n"])
    assert e.value.messages == [
        'z.csv:3: "9306" is not an INSEE commune code',
        'z.csv:4: commune 75056: zone "D" is not one of A, Abis, B1, B2, C',
        "z.csv:5: commune 93066 is listed twice",
    ]


def test_segment_defaults_to_intermediate_for_pli_else_social() -> None:
    got = units(
        f"{HEADER};segment;financing\nU-1;1;93066;A;;16\nU-2;1;93066;A;;13\nU-3;1;93066;A;other;16\n"
    )
    assert [u["segment"] for u in got] == ["intermediate", "social", "other"]


# --- financing (§5.4) -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "family"),
    [("10", "PLAI"), ("11", "PLAI"), ("12", "PLUS"), ("13", "PLUS"), ("14", "PLS"),
     ("16", "PLI"), ("15", "other"), ("17", "other"), ("49", "other"), ("50", "other"),
     ("55", "other"), ("99", "other")],
)  # fmt: skip
def test_each_financing_code_maps_to_its_family_and_is_kept(code: str, family: str) -> None:
    (unit,) = units(f"{HEADER};financing\nU-1;1;93066;A;{code}\n")
    assert (unit["financing"], unit["rpls"]) == (family, {"financing_code": code})


def test_no_financing_cell_means_no_financing_and_no_rpls() -> None:
    (unit,) = units(f"{HEADER};financing\nU-1;1;93066;A;\n")
    assert "financing" not in unit and "rpls" not in unit


@pytest.mark.parametrize("code", ["18", "1", "56", "PLUS"])
def test_other_financing_values_are_errors(code: str) -> None:
    assert one(f"U-0005;1;93066;A;{code}", f"{HEADER};financing") == [
        f'esh.csv:2: unit U-0005: financing "{code}" is not a code of the arrêté (field 32)'
    ]


# --- every check of §5.5 --------------------------------------------------------------

FULL = (
    "rpls_id;si_id;right;commune;zone;segment;construction_type;rooms;surface_m2;year_built;"
    "first_let_year;entry_year;entry_mode;previous_owner;previous_owner_siret;financing;"
    "financing_label;apl_agreement;cus_segment;bare_owner;usufruct_end"
)


def full(**cells: str) -> str:
    values = dict.fromkeys(FULL.split(";"), "")
    values.update(si_id="U-1", right="1", commune="93066", zone="A")
    values.update(cells)
    return ";".join(values.values())


def test_every_filed_attribute_goes_to_the_rpls_object_in_order() -> None:
    line = full(rpls_id="AB12345678", construction_type="C", rooms="9", surface_m2="7",
                year_built="1990", first_let_year="1991", entry_year="2016", entry_mode="3",
                previous_owner="Foncière", previous_owner_siret="12345678901234",
                financing="99", financing_label="Prêt X", apl_agreement="2",
                cus_segment="SEG-1")  # fmt: skip
    (unit,) = units(f"{FULL}\n{line}\n")
    assert unit == {
        "unit_id": "U-1", "commune": "93066", "zone": "A", "segment": "social",
        "financing": "other", "rooms": 9, "surface_m2": "7", "year_built": 1990,
        "rpls_id": "AB12345678",
        "rpls": {"construction_type": "C", "first_let_year": 1991, "entry_year": 2016,
                 "entry_mode": "3", "previous_owner": "Foncière",
                 "previous_owner_siret": "12345678901234", "financing_code": "99",
                 "financing_label": "Prêt X", "apl_agreement": False, "cus_segment": "SEG-1"},
    }  # fmt: skip


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        ({"si_id": ""}, "si_id is required (field 2)"),
        (
            {"si_id": "U 1"},
            'unit U 1: si_id "U 1" must be an id of letters, digits and ._:/- of at most 80 '
            "characters (field 2)",
        ),
        (
            {"si_id": "U" * 81},
            f'unit {"U" * 81}: si_id "{"U" * 81}" must be an id of letters, digits and ._:/- of '
            f"at most 80 characters (field 2)",
        ),
        (
            {"rpls_id": "ABC-123456"},
            'unit U-1: rpls_id "ABC-123456" must be 10 letters or digits (field 1)',
        ),
        (
            {"right": "3"},
            "unit U-1: right 3 (emphyteutic lease) cannot be imported: the ledger holds units in "
            "full ownership (1) or usufruct (4) only",
        ),
        (
            {"right": "2"},
            "unit U-1: right 2 (rehabilitation lease) cannot be imported: the ledger holds units "
            "in full ownership (1) or usufruct (4) only",
        ),
        (
            {"right": "7"},
            'unit U-1: right "7" must be 1 (full ownership) or 4 (usufruct) (field 3)',
        ),
        ({"right": ""}, "unit U-1: right is required (field 3)"),
        ({"right": "4"}, "unit U-1: right 4 (usufruct) needs bare_owner and usufruct_end"),
        (
            {"right": "4", "bare_owner": "AGIRC-ARRCO"},
            "unit U-1: right 4 (usufruct) needs bare_owner and usufruct_end",
        ),
        (
            {"bare_owner": "AGIRC-ARRCO"},
            "unit U-1: bare_owner and usufruct_end are only for right 4 (usufruct)",
        ),
        (
            {"right": "4", "bare_owner": "ESH-IDF", "usufruct_end": "2030-01-01"},
            "unit U-1: bare_owner ESH-IDF is the entity itself",
        ),
        (
            {"right": "4", "bare_owner": "A B", "usufruct_end": "2030-01-01"},
            'unit U-1: bare_owner "A B" is not an entity id',
        ),
        (
            {"right": "4", "bare_owner": "AGIRC-ARRCO", "usufruct_end": "2047-01-02"},
            "unit U-1: usufruct_end 2047-01-02 must be after 2017-01-01 and at most 30 years "
            "later (Civil Code art. 619)",
        ),
        (
            {"right": "4", "bare_owner": "AGIRC-ARRCO", "usufruct_end": "2017-01-01"},
            "unit U-1: usufruct_end 2017-01-01 must be after 2017-01-01 and at most 30 years "
            "later (Civil Code art. 619)",
        ),
        (
            {"right": "4", "bare_owner": "AGIRC-ARRCO", "usufruct_end": "2030-02-30"},
            'unit U-1: usufruct_end "2030-02-30" is not a date in the form YYYY-MM-DD',
        ),
        ({"commune": ""}, "unit U-1: commune is required (field 4)"),
        ({"commune": "2C123"}, 'unit U-1: commune "2C123" is not an INSEE commune code (field 4)'),
        ({"zone": "D"}, 'unit U-1: zone "D" must be one of Abis, A, B1, B2, C'),
        (
            {"segment": "private"},
            'unit U-1: segment "private" must be one of social, intermediate, other',
        ),
        (
            {"construction_type": "c"},
            'unit U-1: construction_type "c" must be C (collective) or I (individual) (field 23)',
        ),
        ({"rooms": "12"}, 'unit U-1: rooms "12" must be an integer from 1 to 9 (field 24)'),
        ({"rooms": "0"}, 'unit U-1: rooms "0" must be an integer from 1 to 9 (field 24)'),
        (
            {"surface_m2": "64,5"},
            'unit U-1: surface_m2 "64,5" must be a decimal > 0 with a dot and at most 2 decimals '
            "(field 25)",
        ),
        (
            {"surface_m2": "64.505"},
            'unit U-1: surface_m2 "64.505" must be a decimal > 0 with a dot and at most 2 '
            "decimals (field 25)",
        ),
        (
            {"surface_m2": "0.00"},
            'unit U-1: surface_m2 "0.00" must be a decimal > 0 with a dot and at most 2 decimals '
            "(field 25)",
        ),
        (
            {"year_built": "2023"},
            'unit U-1: year_built "2023" must be a year from 1800 to 2022 (field 26)',
        ),
        (
            {"year_built": "1799"},
            'unit U-1: year_built "1799" must be a year from 1800 to 2022 (field 26)',
        ),
        (
            {"first_let_year": "2018"},
            'unit U-1: first_let_year "2018" must be a year from 1800 to 2017 (field 27)',
        ),
        (
            {"entry_year": "19x9"},
            'unit U-1: entry_year "19x9" must be a year from 1800 to 2017 (field 28)',
        ),
        (
            {"year_built": "1985", "entry_year": "1980"},
            "unit U-1: entry_year 1980 is before year_built 1985 (field 28)",
        ),
        ({"entry_mode": "5"}, 'unit U-1: entry_mode "5" must be 1, 2, 3 or 4 (field 29)'),
        (
            {"apl_agreement": "0"},
            'unit U-1: apl_agreement "0" must be 1 (yes) or 2 (no) (field 34)',
        ),
        (
            {"previous_owner": "x" * 101},
            "unit U-1: previous_owner is longer than 100 characters (field 30)",
        ),
        (
            {"previous_owner_siret": "1234"},
            "unit U-1: previous_owner_siret must be 14 digits (field 31)",
        ),
        (
            {"financing": "49", "financing_label": "x" * 31},
            "unit U-1: financing_label is longer than 30 characters (field 33)",
        ),
        (
            {"financing": "13", "financing_label": "x"},
            "unit U-1: financing_label is only for financing 49 or 99 (field 33)",
        ),
        (
            {"cus_segment": "x" * 21},
            "unit U-1: cus_segment is longer than 20 characters (field 54)",
        ),
    ],
)
def test_each_check_of_a_line_gives_its_message(cells: dict[str, str], message: str) -> None:
    assert errors(f"{FULL}\n{full(**cells)}\n") == [f"esh.csv:2: {message}"]


def test_si_id_and_rpls_id_are_unique_in_the_file() -> None:
    lines = [full(rpls_id="A123456789"), full(si_id="U-2"), full(rpls_id="A123456789", si_id="U-3")]
    text = "\n".join([FULL, *lines, full()]) + "\n"
    assert errors(text) == [
        'esh.csv:4: unit U-3: rpls_id "A123456789" already on line 2 (field 1)',
        "esh.csv:5: unit U-1: si_id already on line 2",
    ]


def test_every_error_is_reported_in_line_order_and_no_transaction_is_complete() -> None:
    text = f"{HEADER};rooms\nU-1;1;93066;A;0\nU-2;1;93066;A;2\nU-3;3;93066;A;x\n"
    txs, errs, f = read(text)
    assert [e.split(":")[1] for e in errs] == ["2", "4", "4"]
    assert f.registered == 1


def test_the_entity_must_be_registered_and_active_on_the_as_of_date() -> None:
    day = date(2017, 1, 1)
    assert entity_problem(None, "ESH-IDF", day) == "entity ESH-IDF is not registered on 2017-01-01"
    entity = Entity.__new__(Entity)  # a state as the aggregate's events leave it
    entity.status, entity.registered_on, entity.into = Entity.VOID, None, None
    assert (
        entity_problem(entity, "ESH-IDF", day) == "entity ESH-IDF is not registered on 2017-01-01"
    )
    entity.status, entity.registered_on = Entity.ACTIVE, date(2017, 1, 2)
    assert (
        entity_problem(entity, "ESH-IDF", day) == "entity ESH-IDF is not registered on 2017-01-01"
    )
    entity.registered_on = day
    assert entity_problem(entity, "ESH-IDF", day) is None
    entity.status, entity.into = Entity.ABSORBED, "GRP"
    assert entity_problem(entity, "ESH-IDF", day) == (
        "entity ESH-IDF was absorbed by GRP and is no longer active"
    )


# --- what is recorded (§5.6) ----------------------------------------------------------


def test_transactions_hold_at_most_the_chunk_size_with_numbered_ids(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(rpls_file, "CHUNK_UNITS", 2)
    lines = "".join(f"U-{i};1;93066;A;{'1' if i == 3 else ''}\n" for i in range(1, 7))
    txs, errs, f = read(f"{HEADER};exit_reason\n{lines}", prefix="P", reference="R-1")
    assert errs == []
    assert [tx["id"] for tx in txs] == ["P-001", "P-002", "P-003"]
    assert [[u["unit_id"] for u in tx["units"]] for tx in txs] == [
        ["U-1", "U-2"], ["U-4", "U-5"], ["U-6"]
    ]  # fmt: skip
    assert all(tx["reference"] == "R-1" for tx in txs)
    assert f.first_lines == [2, 5, 7]


def test_booking_errors_map_to_the_named_units_line_or_the_transactions_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(rpls_file, "CHUNK_UNITS", 2)
    lines = "".join(f"U-{i};1;93066;A\n" for i in range(1, 5))
    _, _, f = read(f"{HEADER}\n{lines}")
    assert f.line_of(1, "register_units P-001: unit U-2 is already in the ledger") == 3
    assert f.line_of(2, "register_units P-002: unit U-4 is already in the ledger") == 5
    assert f.line_of(2, "register_units P-002: entity ESH-IDF is not registered") == 4
    assert f.line_of(2, "register_units P-002: unit U-1 named elsewhere") == 4


def test_an_id_prefix_making_ids_over_80_characters_is_an_error() -> None:
    assert errors(f"{HEADER}\nU-1;1;93066;A\n", prefix="P" * 77) == [
        f'esh.csv:1: transaction id "{"P" * 77}-001" is not a valid id of at most 80 '
        "characters: choose another --id-prefix"
    ]
