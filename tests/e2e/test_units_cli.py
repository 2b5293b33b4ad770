"""End-to-end tests of `housing-ledger units`, the unit register, on the example of the
input format (tests/fixtures/example.jsonl, summarised in tests/e2e/test_cli.py) and on
the demo ledger: its formats, filters, usage errors, paging, and the same bytes on
SQLite and PostgreSQL.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from ledger.demo import generate
from projections import register
from tests.conftest import require_pg
from tests.support import fresh_pg_database, jsonl

EXAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "example.jsonl"


def run(url: str, *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(main, ["--db", url, *args])
    assert result.exit_code == code, result.output
    return result.output


@pytest.fixture
def example_url(sqlite_url: str) -> str:
    run(sqlite_url, "import", str(EXAMPLE))
    return sqlite_url


def test_units_as_json_lists_each_unit_and_right_with_its_position(example_url: str) -> None:
    doc = json.loads(run(example_url, "units", "--format", "json"))
    assert list(doc) == ["as_of", "position", "rows"]
    assert doc["as_of"] is None and doc["position"] > 0
    assert [(r["entity"], r["unit_id"], r["right"], r["entry"]) for r in doc["rows"]] == [
        ("AFL", "U-0101", "usufruct", "dismembered"),
        ("AGIRC-ARRCO", "U-0101", "bare_ownership", "bare_ownership_received"),
        ("AGIRC-ARRCO", "U-0102", "full_ownership", "reunited"),
        ("ESH-IDF", "U-0002", "full_ownership", "registered"),
        ("ESH-IDF", "U-0003", "full_ownership", "registered"),
        ("LLI-IDF", "U-1001", "full_ownership", "acquired"),
        ("LLI-IDF", "U-1002", "full_ownership", "acquired"),
    ]
    assert all(list(r) == list(register.COLUMNS) for r in doc["rows"])
    afl = doc["rows"][0]
    assert (afl["bare_owner"], afl["usufruct_end"], afl["entered_on"]) == (
        "AGIRC-ARRCO",
        "2042-06-30",
        "2017-07-01",
    )


def test_units_as_csv_has_a_header_and_one_line_per_row(example_url: str) -> None:
    out = run(
        example_url, "units", "--as-of", "2017-12-31", "--right", "usufruct", "--format", "csv"
    )
    lines = list(csv.reader(io.StringIO(out)))
    assert lines[0] == list(register.COLUMNS)
    assert [(r[0], r[1], r[6], r[8]) for r in lines[1:]] == [
        ("AFL", "U-0101", "AGIRC-ARRCO", "2042-06-30"),
        ("AFL", "U-0102", "AGIRC-ARRCO", "2042-06-30"),
    ]


def test_units_as_a_table_has_a_title_a_header_and_the_rows(example_url: str) -> None:
    out = run(
        example_url, "units", "--entity", "LLI-IDF", "--zone", "A", "--segment", "intermediate"
    )
    lines = out.splitlines()
    assert lines[0].startswith("position: ")
    assert lines[1].split()[:3] == ["entity", "unit_id", "right"]
    assert [line.split()[:2] for line in lines[3:]] == [
        ["LLI-IDF", "U-1001"],
        ["LLI-IDF", "U-1002"],
    ]
    assert "(no rows)" in run(example_url, "units", "--commune", "00000")


@pytest.mark.parametrize(
    "option",
    [["--right", "lease"], ["--zone", "Z"], ["--segment", "luxury"], ["--as-of", "2017-13-01"]],
)
def test_an_unknown_right_zone_segment_or_date_is_a_usage_error(
    example_url: str, option: list[str]
) -> None:
    run(example_url, "units", *option, code=2)


def test_the_command_prints_the_same_output_when_pages_are_smaller_than_the_register(
    example_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for fmt in ("json", "csv", "table"):
        whole = run(example_url, "units", "--as-of", "2017-12-31", "--format", fmt)
        with monkeypatch.context() as patched:
            patched.setattr(register, "PAGE_ROWS", 2)
            assert run(example_url, "units", "--as-of", "2017-12-31", "--format", fmt) == whole


def test_units_help_says_how_a_table_gets_its_widths() -> None:
    out = CliRunner().invoke(main, ["units", "--help"]).output
    assert "column widths from its first 1,000 rows" in " ".join(out.split())


@pytest.mark.postgres
def test_units_json_is_byte_identical_on_sqlite_and_postgresql(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_pg()
    demo = tmp_path / "demo.jsonl"
    demo.write_bytes(jsonl(generate(units=1500, seed=2017)))
    with fresh_pg_database() as pg_url, fresh_pg_database() as pg_example:
        sqlite_example = sqlite_url.replace("ledger.db", "example.db")
        for url in (sqlite_example, pg_example):
            run(url, "import", str(EXAMPLE))
        for args in ([], ["--as-of", "2017-12-31"], ["--known-at", "30"]):
            command = ["units", "--format", "json", *args]
            assert run(sqlite_example, *command) == run(pg_example, *command), args
        for url in (sqlite_url, pg_url):
            run(url, "import", str(demo))
        monkeypatch.setattr(register, "PAGE_ROWS", 97)
        compared = 0
        for args in (
            [],
            ["--as-of", "2017-12-31"],
            ["--as-of", "2019-06-30", "--right", "usufruct"],
            ["--known-at", "2500"],
            ["--entity", "AGIRC-ARRCO"],
        ):
            command = ["units", "--format", "json", *args]
            sqlite_json, pg_json = run(sqlite_url, *command), run(pg_url, *command)
            assert sqlite_json == pg_json, args
            assert json.loads(sqlite_json)["rows"], args
            compared += 1
        assert compared == 5
