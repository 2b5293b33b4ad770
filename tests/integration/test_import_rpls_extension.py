"""`import --format rpls` then `report rpls`: the worked examples of docs/rpls.md end to
end, which need the `register_units` extension (a unit's `rpls` values, `right`
usufruct with its `bare_owner` and `usufruct_end`): what is imported comes back in the
extract, and a usufruct line is a dismemberment. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from cli import main

EXAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "example.jsonl"
ZONING_2024 = (
    Path(__file__).resolve().parents[2] / "ledger" / "reference" / "zonage-abc-2024-07.csv"
)
ESH_IDF_2017 = (
    "rpls_id;si_id;right;commune;zone;rooms;surface_m2;year_built;first_let_year;entry_year;"
    "entry_mode;financing;apl_agreement;exit_reason\n"
    ";U-0001;1;93066;A;3;64.50;1972;1973;1999;2;13;1;9\n"
    ";U-0002;1;93066;A;2;;1972;1973;1999;2;10;1;9\n"
    ";U-0003;1;77288;B1;4;;1985;1985;1985;1;14;1;\n"
    "0930661234;U-0009;1;93066;A;3;58;1972;1973;1999;2;13;1;1\n"
)
AFL_2018 = (
    "si_id;right;commune;zone;segment;rooms;exit_reason;bare_owner;usufruct_end\n"
    "U-0101;4;75118;Abis;other;3;9;AGIRC-ARRCO;2042-06-30\n"
)
HEADER = (
    "rpls_id;si_id;right;commune;construction_type;rooms;surface_m2;year_built;"
    "first_let_year;entry_year;entry_mode;previous_owner;previous_owner_siret;financing;"
    "financing_label;apl_agreement;exit_reason;occupancy;cus_segment;sale_type;"
    "sale_price_eur;net_proceeds_eur;transfer_n1;zone;segment;bare_owner;usufruct_end"
)


def run(url: str, *args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(main, ["--db", url, *args], input=stdin)


def ok(url: str, *args: str, stdin: str | None = None) -> str:
    result = run(url, *args, stdin=stdin)
    assert result.exit_code == 0, result.output
    return result.output


def import_rpls(url: str, text: str, entity: str, as_of: str, *args: str) -> str:
    return ok(url, "import", "--format", "rpls", "--entity", entity, "--as-of", as_of,
              *args, "-", stdin=text)  # fmt: skip


@pytest.fixture
def ledger_url(db_url: str) -> str:
    lines = EXAMPLE.read_text("utf-8").splitlines()[:6]
    ok(db_url, "import", "-", stdin="\n".join(lines) + "\n")
    return db_url


def extract(url: str, entity: str, year: int) -> str:
    return ok(url, "report", "rpls", "--entity", entity, "--year", str(year), "--format", "csv")


def test_the_esh_idf_example_comes_back_in_the_extract(ledger_url: str) -> None:
    out = import_rpls(ledger_url, ESH_IDF_2017, "ESH-IDF", "2017-01-01")
    assert "3 unit(s) registered, 1 line(s) skipped" in out
    assert extract(ledger_url, "ESH-IDF", 2017) == (
        f"{HEADER}\n"
        ";U-0001;1;93066;;3;64.50;1972;1973;1999;2;;;13;;1;9;;;;;;9;A;social;;\n"
        ";U-0002;1;93066;;2;;1972;1973;1999;2;;;10;;1;9;;;;;;9;A;social;;\n"
        ";U-0003;1;77288;;4;;1985;1985;1985;1;;;14;;1;9;;;;;;9;B1;social;;\n"
    )


def test_the_recorded_units_carry_their_rpls_objects(ledger_url: str) -> None:
    import_rpls(ledger_url, ESH_IDF_2017, "ESH-IDF", "2017-01-01")
    last: dict[str, Any] = json.loads(
        ok(ledger_url, "journal", "--format", "jsonl").splitlines()[-1]
    )
    assert last["units"][0] == {
        "unit_id": "U-0001", "commune": "93066", "zone": "A", "segment": "social",
        "financing": "PLUS", "rooms": 3, "surface_m2": "64.50", "year_built": 1972,
        "rpls": {"first_let_year": 1973, "entry_year": 1999, "entry_mode": "2",
                 "financing_code": "13", "apl_agreement": True},
    }  # fmt: skip


def test_without_a_zone_column_the_zoning_file_gives_the_zones(ledger_url: str) -> None:
    text = "\n".join(
        ";".join(c for i, c in enumerate(line.split(";")) if i != 4)
        for line in ESH_IDF_2017.splitlines()
    )
    import_rpls(ledger_url, text + "\n", "ESH-IDF", "2017-01-01", "--zoning", str(ZONING_2024))
    rows = json.loads(
        ok(
            ledger_url,
            "report",
            "rpls",
            "--entity",
            "ESH-IDF",
            "--year",
            "2017",
            "--format",
            "json",
        )
    )["rows"]
    assert [(r["si_id"], r["zone"]) for r in rows] == [
        ("U-0001", "Abis"),
        ("U-0002", "Abis"),
        ("U-0003", "A"),
    ]


def test_a_usufruct_line_is_a_dismemberment(ledger_url: str) -> None:
    import_rpls(ledger_url, AFL_2018, "AFL", "2018-01-01")
    assert extract(ledger_url, "AFL", 2018) == (
        f"{HEADER}\n;U-0101;4;75118;;3;;;;;;;;;;;9;;;;;;9;Abis;other;AGIRC-ARRCO;2042-06-30\n"
    )
    doc = json.loads(
        ok(ledger_url, "report", "dismemberment", "--as-of", "2018-01-01", "--format", "json")
    )
    assert [(r["usufructuary"], r["bare_owner"], r["units"]) for r in doc["rows"]] == [
        ("AFL", "AGIRC-ARRCO", 1)
    ]
    held = json.loads(ok(ledger_url, "holdings", "--as-of", "2018-01-01", "--format", "json"))
    by_entity = {r["entity"]: r for r in held["rows"]}
    assert by_entity["AFL"]["usufruct"] == 1
    assert by_entity["AGIRC-ARRCO"]["bare_ownership"] == 1


def test_an_extract_imported_into_a_ledger_without_its_units_gives_the_same_extract(
    ledger_url: str, tmp_path: Path
) -> None:
    text = (
        "rpls_id;si_id;right;commune;zone;segment;construction_type;rooms;surface_m2;"
        "year_built;first_let_year;entry_year;entry_mode;previous_owner;previous_owner_siret;"
        "financing;financing_label;apl_agreement;cus_segment;bare_owner;usufruct_end\n"
        "AB12345678;U-1;1;93066;A;;C;3;64.50;1972;1973;2016;3;Foncière Les Pins;"
        "12345678901234;99;Prêt spécial;2;SEG-1;;\n"
        ";U-2;4;69381;;other;I;2;;1990;;;;;;16;;1;;AGIRC-ARRCO;2040-01-01\n"
    )
    import_rpls(ledger_url, text, "ESH-IDF", "2017-01-01", "--zoning", str(ZONING_2024))
    filed = extract(ledger_url, "ESH-IDF", 2017)
    assert len(filed.splitlines()) == 3
    second = f"sqlite:///{tmp_path}/second.db"
    lines = EXAMPLE.read_text("utf-8").splitlines()[:6]
    ok(second, "import", "-", stdin="\n".join(lines) + "\n")
    out = import_rpls(second, filed, "ESH-IDF", "2017-01-01")
    assert "recorded 1 transaction(s)" in out
    assert extract(second, "ESH-IDF", 2017) == filed
