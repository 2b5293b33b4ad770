"""`report rpls`: the RPLS extract, on SQLite and PostgreSQL.

The worked examples of docs/rpls.md on `tests/fixtures/example.jsonl` (CSV byte for byte,
JSON value for value), then properties on the demo ledger
(`ledger.demo.generate(units=1500, seed=2017)`): the extract agrees with `holdings`, the
unit register, `report movements` and `report sales`; `--known-at` reproduces a filed
extract; both databases give the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cli import main
from ledger.demo import generate
from projections import register
from tests.conftest import require_pg
from tests.support import LedgerHarness, fresh_pg_database

EXAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "example.jsonl"
HEADER = (
    "rpls_id;si_id;right;commune;construction_type;rooms;surface_m2;year_built;"
    "first_let_year;entry_year;entry_mode;previous_owner;previous_owner_siret;financing;"
    "financing_label;apl_agreement;exit_reason;occupancy;cus_segment;sale_type;"
    "sale_price_eur;net_proceeds_eur;transfer_n1;zone;segment;bare_owner;usufruct_end"
)
NULL_ROW = dict.fromkeys(HEADER.split(";"))
DEMO = list(generate(units=1500, seed=2017))


def run(url: str, *args: str) -> Any:
    return CliRunner().invoke(main, ["--db", url, *args])


def rpls(url: str, *args: str) -> str:
    result = run(url, "report", "rpls", *args)
    assert result.exit_code == 0, result.output
    return result.output


def rows(url: str, entity: str, year: int, *args: str) -> list[dict[str, Any]]:
    doc = json.loads(rpls(url, "--entity", entity, "--year", str(year), "--format", "json", *args))
    assert list(doc) == ["entity", "year", "position", "rows"]
    return list(doc["rows"])


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def example_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    with _database(request.param, tmp_path_factory) as url:
        result = run(url, "import", str(EXAMPLE))
        assert result.exit_code == 0, result.output
        yield url


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo ledger on SQLite."""
    with _database("sqlite", tmp_path_factory) as url:
        harness = LedgerHarness(url)
        harness.ok(*DEMO)
        harness.close()
        yield url


@pytest.fixture(scope="module")
def demo_pg_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo ledger on PostgreSQL."""
    with _database("postgresql", tmp_path_factory) as url:
        harness = LedgerHarness(url)
        harness.ok(*DEMO)
        harness.close()
        yield url


@contextmanager
def _database(backend: str, tmp: pytest.TempPathFactory) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp.mktemp('rpls')}/ledger.db"
        return
    require_pg()
    with fresh_pg_database() as url:
        yield url


# --- The worked examples -------------------------------------------------------------


def test_esh_idf_2018_lists_the_unit_sold_to_its_occupant_and_the_two_still_held(example_url):
    assert rpls(example_url, "--entity", "ESH-IDF", "--year", "2018", "--format", "csv") == (
        f"{HEADER}\n"
        "0930660000001;U-0001;1;93066;;3;64.50;1972;;;;;;13;;;1;9;;01;118000.00;;2;A;social;;\n"
        ";U-0002;1;93066;;2;;1972;;;;;;10;;;9;;;;;;9;A;social;;\n"
        ";U-0003;1;77288;;4;;1985;;;;;;14;;;9;;;;;;9;B1;social;;\n"
    )


def test_esh_idf_2019_keeps_the_units_of_a_reversed_sale_in_stock(example_url):
    got = rows(example_url, "ESH-IDF", 2019)
    assert [(r["si_id"], r["exit_reason"], r["sale_type"], r["transfer_n1"]) for r in got] == [
        ("U-0002", "9", None, "9"),
        ("U-0003", "9", None, "9"),
    ]


def test_esh_idf_2019_known_at_37_shows_the_sale_as_filed_before_its_reversal(example_url):
    got = rows(example_url, "ESH-IDF", 2019, "--known-at", "37")
    assert [
        (r["si_id"], r["exit_reason"], r["occupancy"], r["sale_type"], r["sale_price_eur"])
        for r in got
    ] == [("U-0002", "2", "9", "06", "105000.00"), ("U-0003", "2", "9", "06", "105000.00")]


def test_afl_2019_json_has_the_usufruct_still_held_and_the_one_extinguished(example_url):
    doc = json.loads(rpls(example_url, "--entity", "AFL", "--year", "2019", "--format", "json"))
    common = {"right": "4", "segment": "other", "bare_owner": "AGIRC-ARRCO"}
    assert doc == {
        "entity": "AFL",
        "year": 2019,
        "position": 43,
        "rows": [
            {
                **NULL_ROW,
                **common,
                "si_id": "U-0101",
                "commune": "75118",
                "rooms": 3,
                "exit_reason": "9",
                "transfer_n1": "9",
                "zone": "Abis",
                "usufruct_end": "2042-06-30",
            },
            {
                **NULL_ROW,
                **common,
                "si_id": "U-0102",
                "commune": "69381",
                "rooms": 2,
                "exit_reason": "5",
                "occupancy": "9",
                "transfer_n1": "2",
                "zone": "A",
                "usufruct_end": "2042-06-30",
            },
        ],
    }
    assert list(doc["rows"][0]) == HEADER.split(";")


def test_agirc_arrco_2019_files_the_unit_whose_usufruct_ended_but_not_its_bare_ownership(
    example_url,
):
    assert rows(example_url, "AGIRC-ARRCO", 2019) == [
        {
            **NULL_ROW,
            "si_id": "U-0102",
            "right": "1",
            "commune": "69381",
            "rooms": 2,
            "entry_year": 2018,
            "entry_mode": "3",
            "previous_owner": "Foncière Logement",
            "exit_reason": "9",
            "transfer_n1": "1",
            "zone": "A",
            "segment": "other",
        }
    ]


def test_afl_2018_reports_the_bare_ownership_transfer_keeping_the_usufruct(example_url):
    got = rows(example_url, "AFL", 2018)
    assert [(r["si_id"], r["right"], r["transfer_n1"], r["exit_reason"]) for r in got] == [
        ("U-0101", "4", "3", "9"),
        ("U-0102", "4", "3", "9"),
    ]


def test_lli_idf_2018_gives_the_vefa_entry_without_a_previous_owner(example_url):
    got = rows(example_url, "LLI-IDF", 2018)
    assert [
        (
            r["si_id"],
            r["entry_year"],
            r["entry_mode"],
            r["previous_owner"],
            r["financing"],
            r["transfer_n1"],
        )
        for r in got
    ] == [("U-1001", 2017, "4", None, "16", "1"), ("U-1002", 2017, "4", None, "16", "1")]


def test_an_entity_never_registered_is_rejected_with_exit_1(example_url):
    result = run(example_url, "report", "rpls", "--entity", "NOPE", "--year", "2018")
    assert result.exit_code == 1
    assert "unknown entity NOPE" in result.output


def test_an_entity_registered_after_the_known_at_position_is_unknown_there(example_url):
    result = run(
        example_url, "report", "rpls", "--entity", "AFL", "--year", "2018", "--known-at", "1"
    )
    assert result.exit_code == 1
    assert "unknown entity AFL" in result.output


def test_a_csv_cell_holding_a_semicolon_or_a_quote_is_quoted(tmp_path):
    url = f"sqlite:///{tmp_path}/q.db"
    harness = LedgerHarness(url)
    entity = {"type": "register_entity", "date": "2017-01-01", "kind": "hlm"}
    harness.ok(
        {**entity, "id": "E-A", "entity": "A", "name": 'Office "77"; Seine'},
        {**entity, "id": "E-B", "entity": "B", "name": "B"},
        {
            "id": "OPEN-A",
            "type": "register_units",
            "date": "2017-01-01",
            "entity": "A",
            "units": [{"unit_id": "U-1", "commune": "77288", "zone": "B1", "segment": "social"}],
        },
        {
            "id": "S-1",
            "type": "sale",
            "date": "2017-05-01",
            "entity": "A",
            "units": ["U-1"],
            "buyer": {"category": "social_landlord", "entity": "B"},
            "price_eur": "100.01",
        },
    )
    harness.close()
    csv = rpls(url, "--entity", "B", "--year", "2018", "--format", "csv")
    assert csv.splitlines()[1] == (
        ';U-1;1;77288;;;;;;2017;3;"Office ""77""; Seine";;;;;9;;;;;;1;B1;social;;'
    )
    assert not csv.startswith("\ufeff") and "\r" not in csv and csv.endswith("\n")


def test_a_lot_price_is_split_in_cents_and_the_leftover_goes_to_the_first_units(tmp_path):
    url = f"sqlite:///{tmp_path}/p.db"
    harness = LedgerHarness(url)
    units = [
        {"unit_id": f"U-{i}", "commune": "77288", "zone": "B1", "segment": "social"}
        for i in (1, 2, 3)
    ]
    harness.ok(
        {
            "id": "E-A",
            "type": "register_entity",
            "date": "2017-01-01",
            "kind": "hlm",
            "entity": "A",
            "name": "A",
        },
        {
            "id": "OPEN-A",
            "type": "register_units",
            "date": "2017-01-01",
            "entity": "A",
            "units": units,
        },
        {
            "id": "S-1",
            "type": "sale",
            "date": "2017-05-01",
            "entity": "A",
            "units": ["U-3", "U-1", "U-2"],
            "buyer": {"category": "institutional"},
            "price_eur": "100.00",
        },
    )
    harness.close()
    got = {
        r["si_id"]: (r["exit_reason"], r["sale_type"], r["sale_price_eur"])
        for r in rows(url, "A", 2018)
    }
    assert got == {
        "U-3": ("3", "10", "33.34"),
        "U-1": ("3", "10", "33.33"),
        "U-2": ("3", "10", "33.33"),
    }


# --- Properties on the demo ledger ---------------------------------------------------


def _involved(t: dict[str, Any]) -> set[str]:
    names = {t.get("entity"), t.get("into"), t.get("bare_owner"), *t.get("absorbed", ())}
    names.add((t.get("buyer") or {}).get("entity") if isinstance(t.get("buyer"), dict) else None)
    return {n for n in names if n}


#: Every entity that ever held units, for years with mergers and sales on and off 1 January.
CASES = [
    (e, y)
    for y in (2018, 2019, 2020, 2021, 2025)
    for e in sorted({t["entity"] for t in DEMO if t["type"] in ("register_units", "acquisition")})
]


def _dated_on_first_january(entity: str, year: int) -> bool:
    """A transaction of the entity (or an end of usufruct, which names no entity) dated
    1 January N-1 or N: there `report movements` and the extract cut the year apart
    differently (docs/rpls.md)."""
    days = {f"{year - 1}-01-01", f"{year}-01-01"}
    return any(
        t["date"] in days and (entity in _involved(t) or t["type"] == "usufruct_extinguished")
        for t in DEMO
        if t["type"] not in ("register_entity", "register_business")
    )


MOVEMENT_CASES = [c for c in CASES if not _dated_on_first_january(*c)]
SKIPPED_MOVEMENT_CASES = [c for c in CASES if _dated_on_first_january(*c)]


def _held(url: str, entity: str, day: str) -> set[str]:
    harness = LedgerHarness(url)
    conn = harness.session.current()
    position = harness.position()
    found = {
        r.unit_id
        for r in register.units(conn, position, day, register.Filters(entity=entity))
        if r.right in ("full_ownership", "usufruct")
    }
    harness.close()
    return found


def _report_json(url: str, *args: str) -> dict[str, Any]:
    result = run(url, "report", *args, "--format", "json")
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.output))


@pytest.mark.parametrize("entity,year", CASES)
def test_rows_still_held_are_the_holdings_on_1_january_n_and_the_others_were_held_a_year_before(
    demo_url, entity, year
):
    url = demo_url
    got = rows(url, entity, year)
    d1, d2 = _held(url, entity, f"{year - 1}-01-01"), _held(url, entity, f"{year}-01-01")
    assert {r["si_id"] for r in got if r["exit_reason"] == "9"} == d2
    assert {r["si_id"] for r in got} == d1 | d2
    assert [r["si_id"] for r in got] == sorted(d1 | d2)
    holdings = _report_holdings(url, entity, f"{year}-01-01")
    assert sum(r["exit_reason"] == "9" for r in got) == holdings
    assert sum(r["si_id"] in d1 for r in got) == _report_holdings(url, entity, f"{year - 1}-01-01")


def _report_holdings(url: str, entity: str, day: str) -> int:
    result = run(url, "holdings", "--as-of", day, "--entity", entity, "--format", "json")
    assert result.exit_code == 0, result.output
    return sum(r["full_ownership"] + r["usufruct"] for r in json.loads(result.output)["rows"])


def test_the_movement_cases_leave_out_only_entities_with_a_transaction_on_1_january():
    assert SKIPPED_MOVEMENT_CASES, "the demo has mergers on 1 January: some cases must be skipped"
    assert len(MOVEMENT_CASES) >= 20


@pytest.mark.parametrize("entity,year", MOVEMENT_CASES)
def test_without_a_transaction_on_1_january_the_extract_reconciles_with_report_movements(
    demo_url, entity, year
):
    url = demo_url
    got = rows(url, entity, year)
    mine = [
        r
        for r in _report_json(url, "movements", "--year", str(year - 1))["rows"]
        if r["entity"] == entity
    ]
    m = (
        mine[0]
        if mine
        else dict.fromkeys(("opening", "closing", "sold", "transferred", "usufruct_ended"), 0)
    )
    d1 = _held(url, entity, f"{year - 1}-01-01")
    assert m["closing"] == sum(r["exit_reason"] == "9" for r in got)
    assert m["opening"] == sum(r["si_id"] in d1 for r in got)
    assert m["sold"] + m["transferred"] + m["usufruct_ended"] == sum(
        r["exit_reason"] != "9" for r in got
    )


def _sales_comparable(entity: str, year: int) -> bool:
    """Whether the extract's sale prices must add up to the entity's proceeds in `report
    sales --year N-1`, which counts every sale dated in N-1 (to a ledger entity too): the
    entity sold in N-1, sold no unit twice, gained no unit during N-1 (so every unit it
    sold was held on 1 January N-1), and nothing of it is dated 1 January N-1 or N."""
    d1, d2 = f"{year - 1}-01-01", f"{year}-01-01"
    sales = [
        t
        for t in DEMO
        if t["type"] == "sale" and t["entity"] == entity and t["date"][:4] == str(year - 1)
    ]
    sold = [u for t in sales for u in t["units"]]
    gained = [
        t
        for t in DEMO
        if d1 < t["date"] <= d2
        and (
            t["type"] == "usufruct_extinguished"
            or (t["type"] == "acquisition" and t["entity"] == entity)
            or (t["type"] == "merger" and t["into"] == entity)
            or (t["type"] == "sale" and t["buyer"].get("entity") == entity)
        )
    ]
    return (
        bool(sales)
        and not gained
        and len(sold) == len(set(sold))
        and not _dated_on_first_january(entity, year)
    )


SALES_CASES = [c for c in CASES if _sales_comparable(*c)]


def test_there_are_sales_cases_to_compare():
    assert len(SALES_CASES) >= 5


@pytest.mark.parametrize("entity,year", SALES_CASES)
def test_sale_prices_of_the_rows_that_left_by_sale_add_up_to_the_years_proceeds(
    demo_url, entity, year
):
    got = rows(demo_url, entity, year)
    prices = sum(Decimal(r["sale_price_eur"]) for r in got if r["exit_reason"] in ("1", "2", "3"))
    sales = _report_json(demo_url, "sales", "--year", str(year - 1))["rows"]
    assert prices == Decimal(next(r for r in sales if r["entity"] == entity)["proceeds_eur"])
    assert all(r["sale_price_eur"] is None for r in got if r["exit_reason"] not in ("1", "2", "3"))


@pytest.mark.postgres
@pytest.mark.parametrize("fmt", ["csv", "json", "table"])
def test_sqlite_and_postgresql_give_the_same_bytes_on_the_demo_ledger(demo_url, demo_pg_url, fmt):
    for entity, year in CASES[::3]:
        args = ("--entity", entity, "--year", str(year), "--format", fmt)
        assert rpls(demo_url, *args) == rpls(demo_pg_url, *args)


@pytest.mark.postgres
def test_sqlite_and_postgresql_give_the_same_bytes_on_the_example_ledger(tmp_path_factory):
    outputs = []
    for backend in ("sqlite", "postgresql"):
        with _database(backend, tmp_path_factory) as url:
            assert run(url, "import", str(EXAMPLE)).exit_code == 0
            outputs.append(
                [
                    rpls(url, "--entity", e, "--year", y, "--format", f)
                    for e in ("ESH-IDF", "AFL", "AGIRC-ARRCO", "LLI-IDF")
                    for y in ("2018", "2019")
                    for f in ("csv", "json")
                ]
            )
    assert outputs[0] == outputs[1]


def test_known_at_reproduces_a_filed_extract_after_later_transactions(tmp_path):
    url = f"sqlite:///{tmp_path}/filed.db"
    harness = LedgerHarness(url)
    harness.ok(*DEMO)
    sale = [
        t
        for t in DEMO
        if t["type"] == "sale" and t["date"].startswith("2021") and "entity" not in t["buyer"]
    ][-1]
    args = ("--entity", sale["entity"], "--year", "2022", "--format", "csv")
    filed, position = rpls(url, *args), harness.position()
    harness.ok(
        {
            "id": "REV-LATE",
            "type": "reversal",
            "date": "2022-03-01",
            "reverses": sale["id"],
            "reason": "deed cancelled",
        }
    )
    harness.close()
    assert rpls(url, *args) != filed
    assert rpls(url, *args, "--known-at", str(position)) == filed
