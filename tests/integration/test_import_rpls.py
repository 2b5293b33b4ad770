"""`import --format rpls` with the ledger as it is: usage errors, files rejected before
anything is written, a file whose units need none of the `register_units` extension
(recorded, then recorded again as nothing), and the booking's errors on the CSV line of
their unit; on SQLite and PostgreSQL (docs/rpls.md, "Import")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from cli import main

EXAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "example.jsonl"
ZONING_2024 = (
    Path(__file__).resolve().parents[2] / "ledger" / "reference" / "zonage-abc-2024-07.csv"
)
#: No financing and no filed attribute: the unit objects of today's `register_units`.
PLAIN = (
    "rpls_id;si_id;right;commune;zone;segment;rooms;surface_m2;year_built;exit_reason\n"
    "0930661111;U-0001;1;93066;A;;3;64.50;1972;9\n"
    ";U-0002;1;93066;A;intermediate;2;;1972;\n"
    ";U-0009;1;93066;A;;3;58;1972;1\n"
)


def run(url: str, *args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(main, ["--db", url, *args], input=stdin)


def entities(url: str) -> None:
    lines = EXAMPLE.read_text("utf-8").splitlines()[:6]
    result = run(url, "import", "-", stdin="\n".join(lines) + "\n")
    assert result.exit_code == 0, result.output


def rpls(url: str, path: Path, *args: str) -> Result:
    return run(url, "import", "--format", "rpls", "--entity", "ESH-IDF",
               "--as-of", "2017-01-01", *args, str(path))  # fmt: skip


def holdings(url: str) -> list[dict[str, Any]]:
    import json

    result = run(url, "holdings", "--as-of", "2017-01-01", "--format", "json")
    assert result.exit_code == 0, result.output
    return list(json.loads(result.output)["rows"])


def journal_size(url: str) -> int:
    result = run(url, "journal", "--format", "jsonl")
    assert result.exit_code == 0, result.output
    return len(result.output.splitlines())


@pytest.fixture
def ledger_url(db_url: str) -> str:
    entities(db_url)
    return db_url


@pytest.fixture
def plain(tmp_path: Path) -> Path:
    path = tmp_path / "esh.csv"
    path.write_text(PLAIN, "utf-8")
    return path


@pytest.mark.parametrize(
    "args",
    [
        ["--format", "rpls", "--as-of", "2017-01-01", "x.csv"],
        ["--format", "rpls", "--entity", "ESH-IDF", "x.csv"],
        ["--format", "rpls", "--entity", "ESH-IDF", "--as-of", "2017-01-01", "a.csv", "b.csv"],
        ["--format", "rpls", "--entity", "ESH-IDF", "--as-of", "2017-13-01", "x.csv"],
        ["--entity", "ESH-IDF", "x.jsonl"],
        ["--as-of", "2017-01-01", "x.jsonl"],
        ["--id-prefix", "P", "x.jsonl"],
        ["--reference", "R", "x.jsonl"],
        ["--format", "csv", "x.jsonl"],
    ],
)
def test_usage_errors_exit_2(sqlite_url: str, args: list[str]) -> None:
    assert run(sqlite_url, "import", *args).exit_code == 2


def test_a_file_without_extension_fields_is_recorded_once(ledger_url: str, plain: Path) -> None:
    before = journal_size(ledger_url)
    result = rpls(ledger_url, plain, "--reference", "RPLS 2017")
    assert result.exit_code == 0, result.output
    assert "recorded 1 transaction(s)" in result.output
    assert "2 unit(s) registered, 1 line(s) skipped" in result.output
    assert journal_size(ledger_url) == before + 1
    again = rpls(ledger_url, plain, "--reference", "RPLS 2017")
    assert again.exit_code == 0, again.output
    assert "recorded 0 transaction(s) (0 events), 1 already recorded" in again.output
    assert journal_size(ledger_url) == before + 1
    assert holdings(ledger_url) == [
        {"entity": "ESH-IDF", "full_ownership": 2, "usufruct": 0, "bare_ownership": 0}
    ]


def test_the_recorded_transaction_is_the_files_units(ledger_url: str, plain: Path) -> None:
    import json

    assert rpls(ledger_url, plain, "--reference", "RPLS 2017").exit_code == 0
    last: dict[str, Any] = json.loads(
        run(ledger_url, "journal", "--format", "jsonl").output.splitlines()[-1]
    )
    last.pop("journal")
    assert last == {
        "id": "RPLS-ESH-IDF-2017-01-01-001", "type": "register_units", "date": "2017-01-01",
        "entity": "ESH-IDF", "note": "imported from an RPLS-shaped file",
        "reference": "RPLS 2017",
        "units": [
            {"unit_id": "U-0001", "commune": "93066", "zone": "A", "segment": "social",
             "rooms": 3, "surface_m2": "64.50", "year_built": 1972, "rpls_id": "0930661111"},
            {"unit_id": "U-0002", "commune": "93066", "zone": "A",
             "segment": "intermediate", "rooms": 2, "year_built": 1972},
        ],
    }  # fmt: skip


def test_the_same_ids_with_other_content_fail_with_duplicate_id(
    ledger_url: str, plain: Path, tmp_path: Path
) -> None:
    assert rpls(ledger_url, plain).exit_code == 0
    other = tmp_path / "other.csv"
    other.write_text(PLAIN.replace("64.50", "65"), "utf-8")
    result = rpls(ledger_url, other)
    assert result.exit_code == 1
    assert "other.csv:2: register_units RPLS-ESH-IDF-2017-01-01-001:" in result.output
    assert "is already recorded with different content" in result.output


def test_a_unit_already_in_the_ledger_is_reported_on_its_line(
    ledger_url: str, plain: Path, tmp_path: Path
) -> None:
    assert rpls(ledger_url, plain).exit_code == 0
    before = journal_size(ledger_url)
    again = tmp_path / "esh.csv"
    again.write_text("si_id;right;commune;zone\nU-0100;1;93066;A\nU-0002;1;93066;A\n", "utf-8")
    result = rpls(ledger_url, again, "--id-prefix", "SECOND")
    assert result.exit_code == 1
    assert f"{again}:3: register_units SECOND-001: unit U-0002 is already in the ledger" in (
        result.output
    )
    assert journal_size(ledger_url) == before


def test_file_errors_are_all_printed_and_nothing_is_written(
    ledger_url: str, tmp_path: Path
) -> None:
    before = journal_size(ledger_url)
    path = tmp_path / "esh.csv"
    path.write_text(
        "si_id;right;commune;zone;rooms\nU-1;1;93066;A;12\nU-2;3;93066;A;2\nU-3;1;93066;A;2\n",
        "utf-8",
    )
    result = rpls(ledger_url, path)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == f'{path}:2: unit U-1: rooms "12" must be an integer from 1 to 9 (field 24)'
    assert lines[1].startswith(f"{path}:3: unit U-2: right 3 (emphyteutic lease)")
    assert "2 error(s): nothing was recorded" in result.output
    assert journal_size(ledger_url) == before
    assert holdings(ledger_url) == []


def test_an_entity_not_registered_on_the_as_of_date_is_an_error_on_line_1(
    ledger_url: str, plain: Path
) -> None:
    result = run(ledger_url, "import", "--format", "rpls", "--entity", "ESH-IDF",
                 "--as-of", "2016-12-31", str(plain))  # fmt: skip
    assert result.exit_code == 1
    assert f"{plain}:1: entity ESH-IDF is not registered on 2016-12-31" in result.output


def test_standard_input_and_a_zoning_file(ledger_url: str) -> None:
    text = "si_id;right;commune\nU-0001;1;93066\nU-0003;1;77288\n"
    zoning = ["--zoning", str(ZONING_2024)]
    result = run(ledger_url, "import", "--format", "rpls", "--entity", "ESH-IDF",
                 "--as-of", "2017-01-01", *zoning, "-", stdin=text)  # fmt: skip
    assert result.exit_code == 0, result.output
    units = run(ledger_url, "holdings", "--as-of", "2017-01-01", "--by", "zone", "--format", "csv")
    assert units.exit_code == 0, units.output
    assert "Abis" in units.output and ",A," in units.output.replace(";", ",")


def test_a_bad_zoning_file_is_reported_as_zoning_line(ledger_url: str, tmp_path: Path) -> None:
    zoning = tmp_path / "z.csv"
    zoning.write_text("code;zone\n93066;D\n", "utf-8")
    path = tmp_path / "esh.csv"
    path.write_text("si_id;right;commune\nU-1;1;93066\n", "utf-8")
    result = rpls(ledger_url, path, "--zoning", str(zoning))
    assert result.exit_code == 1
    assert f'{zoning}:2: commune 93066: zone "D" is not one of' in result.output
