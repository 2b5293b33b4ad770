"""End-to-end tests of the `housing-ledger` command line against its contract.

Every test drives the click group `main` as a user would (`--db URL COMMAND ...`) and
checks what the contract promises (README.md, docs/cli.md): exit codes, stdout/stderr,
JSON keys and values. The expected holdings are worked out by hand from the input
format's example, tests/fixtures/example.jsonl (summarised below), and written in the
tests.

The example, line by line (entity regions in brackets):
  entities AL-GROUPE [-], ESH-IDF [11], LLI-IDF [11], LLI-EST [44], AFL [11], AGIRC-ARRCO [-]
  2017-01-01 OPEN-ESH-IDF   ESH-IDF registers U-0001 (A, PLUS, 93066), U-0002 (A, PLAI, 93066),
                            U-0003 (B1, PLS, 77288), all social
  2017-01-01 OPEN-AFL       AFL registers U-0101 (Abis, 75118), U-0102 (A, 69381), segment other,
                            no financing
  2017-03-15 ACQ-2017-0001  LLI-IDF acquires U-1001, U-1002 (A, intermediate, PLI, 92050)
  2017-06-20 SALE-2017-0001 ESH-IDF sells U-0001 to its tenant: it leaves the ledger
  2017-07-01 BOT-2017-AFL-01 AFL keeps the usufruct of U-0101, U-0102; AGIRC-ARRCO gets the bare
                            ownership
  (a business registered and divested; LLI-EST, holding nothing, merged into LLI-IDF)
  2018-04-02 SALE-2018-0007 ESH-IDF sells U-0002, U-0003 ... reversed by REV-2018-0001 (2018-04-20)
  2018-09-30 EXT-2018-AFL-01 usufruct of U-0102 extinguished: AGIRC-ARRCO full owner of it
So now: AFL usufruct 1 (U-0101); AGIRC-ARRCO full 1 (U-0102) + bare 1 (U-0101);
ESH-IDF full 2 (U-0002, U-0003: the sale was reversed); LLI-IDF full 2.

Journal positions are not numbered by transaction (a transaction may take several
positions), so the tests read them from `history` instead of assuming 1..17.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result

from cli import main
from tests.conftest import require_pg
from tests.support import fresh_pg_database

REPO = Path(__file__).resolve().parents[2]
#: The example file of the input format's specification (17 transactions, every type).
EXAMPLE_JSONL = (REPO / "tests" / "fixtures" / "example.jsonl").read_text("utf-8")  # noqa: E501

UNITS = ["U-0001", "U-0002", "U-0003", "U-0101", "U-0102", "U-1001", "U-1002"]
DIMENSIONS = ["zone", "segment", "financing", "commune", "region", "tense"]
COUNTS = ["full_ownership", "usufruct", "bare_ownership"]
UNREACHABLE = "postgresql+psycopg2://u:s3cret@127.0.0.1:1/x"
SECRET = "s3cret"


def row(entity: str, full: int = 0, usufruct: int = 0, bare: int = 0, **key: Any) -> dict[str, Any]:
    return {
        "entity": entity,
        **key,
        "full_ownership": full,
        "usufruct": usufruct,
        "bare_ownership": bare,
    }


# ------------------------------------------------------------------ expected, by hand

CURRENT = [
    row("AFL", usufruct=1),
    row("AGIRC-ARRCO", full=1, bare=1),
    row("ESH-IDF", full=2),
    row("LLI-IDF", full=2),
]

CURRENT_BY = {
    # U-0101 is Abis (AFL usufruct, AGIRC bare); U-0102 A (AGIRC full);
    # U-0002 A, U-0003 B1 (ESH-IDF); U-1001/U-1002 A (LLI-IDF). "A" sorts before "Abis".
    "zone": [
        row("AFL", usufruct=1, zone="Abis"),
        row("AGIRC-ARRCO", full=1, zone="A"),
        row("AGIRC-ARRCO", bare=1, zone="Abis"),
        row("ESH-IDF", full=1, zone="A"),
        row("ESH-IDF", full=1, zone="B1"),
        row("LLI-IDF", full=2, zone="A"),
    ],
    "segment": [
        row("AFL", usufruct=1, segment="other"),
        row("AGIRC-ARRCO", full=1, bare=1, segment="other"),
        row("ESH-IDF", full=2, segment="social"),
        row("LLI-IDF", full=2, segment="intermediate"),
    ],
    # AFL's units have no financing: they count under "other".
    "financing": [
        row("AFL", usufruct=1, financing="other"),
        row("AGIRC-ARRCO", full=1, bare=1, financing="other"),
        row("ESH-IDF", full=1, financing="PLAI"),
        row("ESH-IDF", full=1, financing="PLS"),
        row("LLI-IDF", full=2, financing="PLI"),
    ],
    "commune": [
        row("AFL", usufruct=1, commune="75118"),
        row("AGIRC-ARRCO", full=1, commune="69381"),
        row("AGIRC-ARRCO", bare=1, commune="75118"),
        row("ESH-IDF", full=1, commune="77288"),
        row("ESH-IDF", full=1, commune="93066"),
        row("LLI-IDF", full=2, commune="92050"),
    ],
    # The holding entity's region; AGIRC-ARRCO was registered without one.
    "region": [
        row("AFL", usufruct=1, region="11"),
        row("AGIRC-ARRCO", full=1, bare=1, region=None),
        row("ESH-IDF", full=2, region="11"),
        row("LLI-IDF", full=2, region="11"),
    ],
    # Every unit of the example is in Abis, A or B1.
    "tense": [
        row("AFL", usufruct=1, tense=True),
        row("AGIRC-ARRCO", full=1, bare=1, tense=True),
        row("ESH-IDF", full=2, tense=True),
        row("LLI-IDF", full=2, tense=True),
    ],
}

OPENING = [row("AFL", full=2), row("ESH-IDF", full=3)]
AFTER_ACQ = [row("AFL", full=2), row("ESH-IDF", full=3), row("LLI-IDF", full=2)]
AFTER_FIRST_SALE = [row("AFL", full=2), row("ESH-IDF", full=2), row("LLI-IDF", full=2)]
DISMEMBERED = [
    row("AFL", usufruct=2),
    row("AGIRC-ARRCO", bare=2),
    row("ESH-IDF", full=2),
    row("LLI-IDF", full=2),
]
AS_OF = {
    "2016-12-31": [],  # before anything
    "2017-01-01": OPENING,  # opening balances
    "2017-03-14": OPENING,
    "2017-03-15": AFTER_ACQ,  # LLI-IDF's VEFA acquisition
    "2017-06-19": AFTER_ACQ,
    "2017-06-20": AFTER_FIRST_SALE,  # U-0001 sold to its tenant, on the deed date
    "2017-06-30": AFTER_FIRST_SALE,
    "2017-07-01": DISMEMBERED,  # AFL -> AGIRC-ARRCO bare ownership
    "2018-04-02": DISMEMBERED,  # the 2018 sale is reversed: as if never
    "2018-04-25": DISMEMBERED,
    "2018-09-29": DISMEMBERED,
    "2018-09-30": CURRENT,  # usufruct of U-0102 extinguished
    "2030-01-01": CURRENT,
}

# Known at a position between SALE-2018-0007 and its reversal: U-0002 and U-0003 have
# left the ledger, ESH-IDF holds nothing (its row is left out), EXT not yet recorded.
BEFORE_REVERSAL = [row("AFL", usufruct=2), row("AGIRC-ARRCO", bare=2), row("LLI-IDF", full=2)]
AT_REVERSAL = DISMEMBERED

# A second file for what the example cannot show: non-tense zones, an explicit
# financing "other" next to a missing one, a region other than 11.
EXTRA: list[dict[str, Any]] = [
    {
        "id": "ENT-ESH-GE",
        "type": "register_entity",
        "date": "2019-01-01",
        "entity": "ESH-GE",
        "name": "ESH Grand Est",
        "kind": "hlm",
        "region": "44",
    },
    {
        "id": "OPEN-2019-ESH-IDF",
        "type": "register_units",
        "date": "2019-01-01",
        "entity": "ESH-IDF",
        "units": [
            {"unit_id": "U-0004", "commune": "23096", "zone": "C", "segment": "social"},
            {
                "unit_id": "U-0005",
                "commune": "87085",
                "zone": "B2",
                "segment": "social",
                "financing": "other",
            },
        ],
    },
    {
        "id": "OPEN-2019-ESH-GE",
        "type": "register_units",
        "date": "2019-01-01",
        "entity": "ESH-GE",
        "units": [
            {
                "unit_id": "U-0201",
                "commune": "67482",
                "zone": "B1",
                "segment": "social",
                "financing": "PLUS",
            }
        ],
    },
]


# ------------------------------------------------------------------ driving the CLI


class Cli:
    """`housing-ledger` in-process. Unexpected exceptions propagate (a traceback is a bug)."""

    def __init__(self, env: dict[str, str | None] | None = None) -> None:
        self.runner = CliRunner(env={"HOUSING_LEDGER_DB": None, **(env or {})})

    def run(self, *args: str, input: str | bytes | None = None) -> Result:
        result = self.runner.invoke(main, list(args), input=input, catch_exceptions=False)
        assert "Traceback" not in result.stdout + result.stderr
        return result

    def ok(self, *args: str, input: str | bytes | None = None) -> Result:
        result = self.run(*args, input=input)
        assert result.exit_code == 0, (args, result.exit_code, result.stdout, result.stderr)
        return result

    def json(self, *args: str) -> dict[str, Any]:
        doc: dict[str, Any] = json.loads(self.ok(*args, "--format", "json").stdout)
        return doc


def counts(stdout: str) -> tuple[int, int]:
    """(recorded, already recorded) from the output of `import`."""
    recorded = re.search(r"recorded (\d+) transaction", stdout)
    already = re.search(r"(\d+) already recorded", stdout)
    assert recorded and already, stdout
    return int(recorded.group(1)), int(already.group(1))


def jsonl(transactions: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(t, ensure_ascii=False) + "\n" for t in transactions)


def csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@pytest.fixture
def cli() -> Cli:
    return Cli()


@pytest.fixture(scope="module")
def example_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("spec") / "example.jsonl"
    path.write_text(EXAMPLE_JSONL, encoding="utf-8")
    return path


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def example_url(
    request: pytest.FixtureRequest, example_file: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A ledger holding exactly example.jsonl, shared by the read-only tests of a module."""

    def imported(url: str) -> str:
        assert counts(Cli().ok("--db", url, "import", str(example_file)).stdout) == (17, 0)
        return url

    if request.param == "sqlite":
        yield imported(f"sqlite:///{tmp_path_factory.mktemp('example')}/ledger.db")
    else:
        require_pg()
        with fresh_pg_database() as url:
            yield imported(url)


@pytest.fixture(scope="module")
def positions(example_url: str) -> dict[str, int]:
    """Journal position of every transaction that touched a unit, read from `history`."""
    found: dict[str, int] = {}
    for unit in UNITS:
        for r in Cli().json("--db", example_url, "history", unit)["rows"]:
            found[r["id"]] = r["position"]
    return found


def between_sale_and_reversal(positions: dict[str, int]) -> int:
    sale, reversal = positions["SALE-2018-0007"], positions["REV-2018-0001"]
    assert sale < reversal
    return reversal - 1


# ------------------------------------------------------------------ --help


def _command_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    for name, command in sorted(group.commands.items()):
        yield (*prefix, name)
        if isinstance(command, click.Group):
            yield from _command_paths(command, (*prefix, name))


def test_the_contract_commands_exist() -> None:
    assert {"init", "import", "holdings", "history", "demo"} <= set(main.commands)


@pytest.mark.parametrize("path", [(), *_command_paths(main)], ids=lambda p: " ".join(p) or "main")
def test_help_works_without_touching_a_database(
    path: tuple[str, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli = Cli()
    missing = tmp_path / "missing" / "ledger.db"
    here = tmp_path / "cwd"
    here.mkdir()
    monkeypatch.chdir(here)
    for db in ([], ["--db", f"sqlite:///{missing}"], ["--db", UNREACHABLE]):
        result = cli.ok(*db, *path, "--help")
        assert result.stdout.startswith("Usage:")
        assert "--help" in result.stdout
        assert result.stderr == ""
    assert os.listdir(here) == []  # not even the default sqlite:///housing-ledger.db
    assert not missing.parent.exists()


def test_holdings_help_lists_the_contract_options(cli: Cli) -> None:
    text = cli.ok("--db", UNREACHABLE, "holdings", "--help").stdout
    for option in ("--as-of", "--entity", "--by", "--known-at", "--format"):
        assert option in text


# ------------------------------------------------------------------ database selection


def test_the_default_database_is_a_sqlite_file_in_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    doc = Cli().json("holdings")
    assert doc["position"] == 0 and doc["rows"] == []
    assert (tmp_path / "housing-ledger.db").is_file()


def test_the_database_comes_from_HOUSING_LEDGER_DB_and_db_overrides_it(
    sqlite_url: str, example_file: Path
) -> None:
    from_env = Cli(env={"HOUSING_LEDGER_DB": sqlite_url})
    assert counts(from_env.ok("import", str(example_file)).stdout) == (17, 0)
    assert Cli().json("--db", sqlite_url, "holdings")["rows"] == CURRENT
    unreachable_env = Cli(env={"HOUSING_LEDGER_DB": UNREACHABLE})
    assert unreachable_env.json("--db", sqlite_url, "holdings")["rows"] == CURRENT


# ------------------------------------------------------------------ init and import


def test_init_is_idempotent_and_keeps_what_was_recorded(
    cli: Cli, db_url: str, example_file: Path
) -> None:
    cli.ok("--db", db_url, "init")
    cli.ok("--db", db_url, "init")
    empty = cli.json("--db", db_url, "holdings")
    assert empty["position"] == 0 and empty["rows"] == []
    cli.ok("--db", db_url, "import", str(example_file))
    before = cli.ok("--db", db_url, "holdings", "--format", "json").stdout
    cli.ok("--db", db_url, "init")
    assert cli.ok("--db", db_url, "holdings", "--format", "json").stdout == before
    assert json.loads(before)["rows"] == CURRENT


def test_import_prints_the_counts_and_a_second_import_records_nothing(
    cli: Cli, db_url: str, example_file: Path
) -> None:
    first = cli.ok("--db", db_url, "import", str(example_file))
    assert counts(first.stdout) == (17, 0)
    before = cli.ok("--db", db_url, "holdings", "--format", "json").stdout
    history_before = cli.ok("--db", db_url, "history", "U-0002", "--format", "json").stdout
    second = cli.ok("--db", db_url, "import", str(example_file))
    assert counts(second.stdout) == (0, 17)
    assert cli.ok("--db", db_url, "holdings", "--format", "json").stdout == before
    assert cli.ok("--db", db_url, "history", "U-0002", "--format", "json").stdout == history_before


def test_import_dash_reads_standard_input(cli: Cli, sqlite_url: str) -> None:
    result = cli.ok("--db", sqlite_url, "import", "-", input=EXAMPLE_JSONL.encode("utf-8"))
    assert counts(result.stdout) == (17, 0)
    assert cli.json("--db", sqlite_url, "holdings")["rows"] == CURRENT
    again = cli.ok("--db", sqlite_url, "import", "-", input=EXAMPLE_JSONL.encode("utf-8"))
    assert counts(again.stdout) == (0, 17)


def test_import_takes_several_files_in_order_including_standard_input(
    cli: Cli, sqlite_url: str, tmp_path: Path
) -> None:
    lines = EXAMPLE_JSONL.splitlines(keepends=True)
    first = tmp_path / "first.jsonl"
    first.write_text("".join(lines[:9]), encoding="utf-8")  # up to the acquisition
    rest = "\n".join(lines[9:])  # blank lines between transactions are allowed
    result = cli.ok("--db", sqlite_url, "import", str(first), "-", input=rest.encode("utf-8"))
    assert counts(result.stdout) == (17, 0)
    assert cli.json("--db", sqlite_url, "holdings")["rows"] == CURRENT


# ------------------------------------------------------------------ exit 1: input rejected

BAD_LINES = [
    # 1: valid on its own, but the file is all or nothing
    {
        "id": "S-2019-OK",
        "type": "sale",
        "date": "2019-01-10",
        "entity": "ESH-IDF",
        "units": ["U-0002"],
        "buyer": {"category": "sitting_tenant"},
        "price_eur": "100000.00",
    },
    None,  # 2: blank line (allowed)
    "this is not json",  # 3
    # 4: U-0002 was sold by line 1
    {
        "id": "S-2019-BAD",
        "type": "sale",
        "date": "2019-01-11",
        "entity": "ESH-IDF",
        "units": ["U-0002"],
        "buyer": {"category": "sitting_tenant"},
        "price_eur": "1.00",
    },
    # 5: unknown field
    {
        "id": "ENT-NEW",
        "type": "register_entity",
        "date": "2019-01-01",
        "entity": "NEW",
        "name": "n",
        "kind": "hlm",
        "colour": "red",
    },
    # 6: an id already recorded with different content
    {
        "id": "SALE-2017-0001",
        "type": "sale",
        "date": "2017-06-20",
        "entity": "ESH-IDF",
        "units": ["U-0001"],
        "buyer": {"category": "sitting_tenant"},
        "price_eur": "1.00",
    },
]


def test_a_rejected_file_exits_1_lists_every_error_and_writes_nothing(
    cli: Cli, db_url: str, example_file: Path, tmp_path: Path
) -> None:
    cli.ok("--db", db_url, "import", str(example_file))
    holdings_before = cli.ok("--db", db_url, "holdings", "--format", "json").stdout
    history_before = cli.ok("--db", db_url, "history", "U-0002", "--format", "json").stdout
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        "".join(
            "\n"
            if x is None
            else (x if isinstance(x, str) else json.dumps(x)) + ("" if x is None else "\n")
            for x in BAD_LINES
        ),
        encoding="utf-8",
    )

    result = cli.run("--db", db_url, "import", str(bad))

    assert result.exit_code == 1
    assert result.stdout == ""
    errors = {
        int(m.group(1)): line
        for line in result.stderr.splitlines()
        if (m := re.match(rf"{re.escape(str(bad))}:(\d+): \S", line))
    }
    assert sorted(errors) == [3, 4, 5, 6]
    assert "U-0002" in errors[4]
    assert "colour" in errors[5]
    assert "SALE-2017-0001" in errors[6]
    assert cli.ok("--db", db_url, "holdings", "--format", "json").stdout == holdings_before
    assert cli.ok("--db", db_url, "history", "U-0002", "--format", "json").stdout == history_before
    # line 1 was not recorded either: it can be recorded now
    bad.write_text(json.dumps(BAD_LINES[0]) + "\n", encoding="utf-8")
    assert counts(cli.ok("--db", db_url, "import", str(bad)).stdout) == (1, 0)


def test_a_missing_file_is_rejected_with_exit_1(cli: Cli, sqlite_url: str, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.jsonl"
    result = cli.run("--db", sqlite_url, "import", str(missing))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert str(missing) in result.stderr


def test_history_of_an_unknown_unit_exits_1(cli: Cli, example_url: str) -> None:
    result = cli.run("--db", example_url, "history", "U-9999")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "unknown unit" in result.stderr and "U-9999" in result.stderr


# ------------------------------------------------------------------ exit 2: usage


@pytest.mark.parametrize(
    "args",
    [
        ["holdings", "--format", "xml"],
        ["history", "U-0002", "--format", "yaml"],
        ["holdings", "--as-of", "2019-02-30"],
        ["holdings", "--as-of", "31/12/2019"],
        ["holdings", "--as-of", "20191231"],
        ["holdings", "--as-of", "2019-12-31T00:00"],
        ["holdings", "--by", "colour"],
        ["holdings", "--known-at", "-1"],
        ["history"],
        ["import"],
        ["no-such-command"],
    ],
    ids=" ".join,
)
def test_a_usage_error_exits_2_before_touching_the_database(
    args: list[str], tmp_path: Path
) -> None:
    db = tmp_path / "ledger.db"
    result = Cli().run("--db", f"sqlite:///{db}", *args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "Usage:" in result.stderr and "Error" in result.stderr
    assert not db.exists()


# ------------------------------------------------------------------ exit 4: unreachable


@pytest.mark.parametrize(
    "args",
    [
        ["init"],
        ["import", "EXAMPLE"],
        ["import", "-"],
        ["holdings"],
        ["holdings", "--format", "json"],
        ["history", "U-0002"],
        ["demo", "--units", "300"],
    ],
    ids=" ".join,
)
def test_an_unreachable_database_exits_4_without_showing_the_password(
    args: list[str], example_file: Path
) -> None:
    args = [str(example_file) if a == "EXAMPLE" else a for a in args]
    result = Cli().run("--db", UNREACHABLE, *args, input=EXAMPLE_JSONL)
    assert result.exit_code == 4
    assert result.stdout == ""
    assert result.stderr.strip()
    assert SECRET not in result.stdout + result.stderr


def test_a_sqlite_file_in_a_missing_folder_is_unreachable(cli: Cli, tmp_path: Path) -> None:
    result = cli.run("--db", f"sqlite:///{tmp_path}/missing/ledger.db", "holdings")
    assert result.exit_code == 4
    assert result.stdout == "" and result.stderr.strip()


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg2//u:s3cret@127.0.0.1:1/x",  # "://" mistyped
        "postgresql+psycopg2://u:s3cret@127.0.0.1:notaport/x",
        "postgresql+psycopg2://u:s3cret@127.0.0.1:1/x?sslmode=bogus",
    ],
)
def test_a_bad_database_url_fails_without_showing_the_password(cli: Cli, url: str) -> None:
    result = cli.run("--db", url, "holdings")
    assert result.exit_code in (2, 4)
    assert result.stdout == ""
    assert SECRET not in result.stderr


def _console_script() -> list[str]:
    script = shutil.which("housing-ledger", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "cli"]


def test_the_installed_command_reports_failures_without_a_traceback(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "HOUSING_LEDGER_DB"}
    command = _console_script()

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*command, *args],
            input=stdin,
            capture_output=True,
            text=True,
            cwd=REPO,
            env=env,
            timeout=60,
        )

    unreachable = run("--db", UNREACHABLE, "holdings", "--format", "json")
    assert unreachable.returncode == 4
    assert unreachable.stdout == ""
    assert "Traceback" not in unreachable.stderr and SECRET not in unreachable.stderr
    assert unreachable.stderr.strip()

    db = f"sqlite:///{tmp_path}/ledger.db"
    rejected = run("--db", db, "import", "-", stdin="not json\n")
    assert rejected.returncode == 1
    assert rejected.stdout == ""
    assert "Traceback" not in rejected.stderr
    assert re.search(r"^\S+:1: \S", rejected.stderr, re.M), rejected.stderr

    unknown = run("--db", db, "history", "U-1")
    assert unknown.returncode == 1 and "Traceback" not in unknown.stderr


# ------------------------------------------------------------------ holdings


def test_holdings_json_has_exactly_the_spec_keys(
    cli: Cli, example_url: str, positions: dict[str, int]
) -> None:
    doc = cli.json("--db", example_url, "holdings")
    assert list(doc) == ["as_of", "position", "rows"]
    assert doc["position"] == positions["EXT-2018-AFL-01"]  # the last transaction
    assert doc["rows"] == CURRENT
    for r in doc["rows"]:
        assert list(r) == ["entity", *COUNTS]
        assert all(type(r[c]) is int for c in COUNTS)


@pytest.mark.parametrize("by", DIMENSIONS)
def test_holdings_by_a_dimension_adds_its_key_to_every_row(
    cli: Cli, example_url: str, by: str
) -> None:
    doc = cli.json("--db", example_url, "holdings", "--by", by)
    assert doc["rows"] == CURRENT_BY[by]
    for r in doc["rows"]:
        assert list(r) == ["entity", by, *COUNTS]
    if by == "tense":
        assert all(type(r["tense"]) is bool for r in doc["rows"])
    # splitting by a dimension never changes the totals per entity
    totals: dict[str, list[int]] = {}
    for r in doc["rows"]:
        t = totals.setdefault(r["entity"], [0, 0, 0])
        for i, c in enumerate(COUNTS):
            t[i] += r[c]
    assert totals == {r["entity"]: [r[c] for c in COUNTS] for r in CURRENT}


@pytest.mark.parametrize("as_of", sorted(AS_OF))
def test_holdings_as_of_a_date(
    cli: Cli, example_url: str, positions: dict[str, int], as_of: str
) -> None:
    doc = cli.json("--db", example_url, "holdings", "--as-of", as_of)
    assert doc["as_of"] == as_of
    assert doc["rows"] == AS_OF[as_of]
    # the statement is computed from the whole journal as recorded
    assert doc["position"] == positions["EXT-2018-AFL-01"]


def test_holdings_by_zone_as_of_the_opening(cli: Cli, example_url: str) -> None:
    doc = cli.json("--db", example_url, "holdings", "--as-of", "2017-01-01", "--by", "zone")
    assert doc["rows"] == [
        row("AFL", full=1, zone="A"),
        row("AFL", full=1, zone="Abis"),
        row("ESH-IDF", full=2, zone="A"),
        row("ESH-IDF", full=1, zone="B1"),
    ]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--entity", "ESH-IDF"], [row("ESH-IDF", full=2)]),
        (["--entity", "AGIRC-ARRCO", "--as-of", "2017-12-31"], [row("AGIRC-ARRCO", bare=2)]),
        (
            ["--entity", "AGIRC-ARRCO", "--by", "zone"],
            [row("AGIRC-ARRCO", full=1, zone="A"), row("AGIRC-ARRCO", bare=1, zone="Abis")],
        ),
        (["--entity", "ESH-IDF", "--as-of", "2017-01-01"], [row("ESH-IDF", full=3)]),
        (["--entity", "AL-GROUPE"], []),  # registered, never held a unit
        (["--entity", "LLI-EST"], []),  # absorbed, held nothing
    ],
    ids=[
        "ESH-IDF",
        "AGIRC-ARRCO as of 2017",
        "AGIRC-ARRCO by zone",
        "ESH-IDF at opening",
        "AL-GROUPE holds no unit",
        "LLI-EST absorbed",
    ],
)
def test_holdings_of_one_entity(
    cli: Cli, example_url: str, args: list[str], expected: list[dict[str, Any]]
) -> None:
    assert cli.json("--db", example_url, "holdings", *args)["rows"] == expected


def test_rows_with_all_counts_zero_are_left_out(cli: Cli, example_url: str) -> None:
    # AL-GROUPE and LLI-EST are registered entities that never held a unit at any date
    for as_of in sorted(AS_OF):
        for by in [None, *DIMENSIONS]:
            args = ["--as-of", as_of] + (["--by", by] if by else [])
            for r in cli.json("--db", example_url, "holdings", *args)["rows"]:
                assert any(r[c] for c in COUNTS), (args, r)
                assert r["entity"] not in ("AL-GROUPE", "LLI-EST")


def test_tense_financing_and_region_keys_on_a_wider_ledger(
    cli: Cli, db_url: str, example_file: Path, tmp_path: Path
) -> None:
    extra = tmp_path / "extra.jsonl"
    extra.write_text(jsonl(EXTRA), encoding="utf-8")
    assert counts(cli.ok("--db", db_url, "import", str(example_file), str(extra)).stdout) == (20, 0)

    assert cli.json("--db", db_url, "holdings", "--by", "tense")["rows"] == [
        row("AFL", usufruct=1, tense=True),
        row("AGIRC-ARRCO", full=1, bare=1, tense=True),
        row("ESH-GE", full=1, tense=True),  # U-0201 in B1
        row("ESH-IDF", full=2, tense=False),  # U-0004 (C), U-0005 (B2)
        row("ESH-IDF", full=2, tense=True),
        row("LLI-IDF", full=2, tense=True),
    ]
    # a missing financing and an explicit "other" are one key
    by_financing = cli.json("--db", db_url, "holdings", "--by", "financing", "--entity", "ESH-IDF")
    assert by_financing["rows"] == [
        row("ESH-IDF", full=1, financing="PLAI"),
        row("ESH-IDF", full=1, financing="PLS"),
        row("ESH-IDF", full=2, financing="other"),
    ]
    assert cli.json("--db", db_url, "holdings", "--by", "region")["rows"] == [
        row("AFL", usufruct=1, region="11"),
        row("AGIRC-ARRCO", full=1, bare=1, region=None),
        row("ESH-GE", full=1, region="44"),
        row("ESH-IDF", full=4, region="11"),
        row("LLI-IDF", full=2, region="11"),
    ]
    # as of 2018, the 2019 registrations do not count
    assert (
        cli.json("--db", db_url, "holdings", "--by", "tense", "--as-of", "2018-12-31")["rows"]
        == CURRENT_BY["tense"]
    )


# ------------------------------------------------------------------ csv and table


@pytest.mark.parametrize("by", [None, *DIMENSIONS])
def test_holdings_csv_has_a_header_and_the_json_rows(
    cli: Cli, example_url: str, by: str | None
) -> None:
    args = ["holdings"] + (["--by", by] if by else [])
    rows = cli.json("--db", example_url, *args)["rows"]
    text = cli.ok("--db", example_url, *args, "--format", "csv").stdout
    lines = text.splitlines()
    columns = ["entity", *([by] if by else []), *COUNTS]
    assert lines[0] == ",".join(columns)
    assert len(lines) == len(rows) + 1
    parsed = list(csv.reader(io.StringIO(text)))
    assert parsed[1:] == [[csv_cell(r[c]) for c in columns] for r in rows]


def test_holdings_csv_with_no_rows_still_has_its_header(cli: Cli, example_url: str) -> None:
    text = cli.ok(
        "--db", example_url, "holdings", "--as-of", "2016-12-31", "--format", "csv"
    ).stdout
    assert text.splitlines() == ["entity,full_ownership,usufruct,bare_ownership"]


@pytest.mark.parametrize("by", [None, "zone"])
def test_holdings_table_is_human_readable(cli: Cli, example_url: str, by: str | None) -> None:
    args = ["holdings"] + (["--by", by] if by else [])
    rows = cli.json("--db", example_url, *args)["rows"]
    result = cli.ok("--db", example_url, *args)  # table is the default
    assert result.stdout == cli.ok("--db", example_url, *args, "--format", "table").stdout
    text = result.stdout
    assert not text.lstrip().startswith("{") and "," not in text
    lines = text.splitlines()
    columns = ["entity", *([by] if by else []), *COUNTS]
    header = next(i for i, line in enumerate(lines) if line.split() == columns)
    body = [line.split() for line in lines[header + 1 :] if line.strip() and set(line) - set("- ")]
    assert body == [[csv_cell(r[c]) for c in columns] for r in rows]
    # aligned columns: every row as wide as the header's columns allow
    assert len({len(line.rstrip()) for line in lines[header : header + 2]}) == 1


# ------------------------------------------------------------------ history


def test_history_lists_the_sale_its_reversal_and_the_registration(
    cli: Cli, example_url: str, positions: dict[str, int]
) -> None:
    doc = cli.json("--db", example_url, "history", "U-0002")
    assert list(doc) == ["unit_id", "position", "rows"]
    assert doc["unit_id"] == "U-0002"
    assert doc["position"] == positions["EXT-2018-AFL-01"]
    rows = doc["rows"]
    for r in rows:
        assert list(r) == ["position", "id", "type", "date", "recorded_at", "reversed"]
    assert [(r["id"], r["type"], r["date"], r["reversed"]) for r in rows] == [
        ("OPEN-ESH-IDF", "register_units", "2017-01-01", False),
        ("SALE-2018-0007", "sale", "2018-04-02", True),
        ("REV-2018-0001", "reversal", "2018-04-20", False),
    ]
    assert all(type(r["position"]) is int for r in rows)
    assert [r["position"] for r in rows] == sorted({r["position"] for r in rows})
    stamps = [datetime.fromisoformat(r["recorded_at"]) for r in rows]
    assert all(s.tzinfo is not None for s in stamps)
    assert stamps == sorted(stamps)


@pytest.mark.parametrize(
    ("unit", "expected"),
    [
        ("U-0001", [("OPEN-ESH-IDF", "register_units", False), ("SALE-2017-0001", "sale", False)]),
        (
            "U-0003",
            [
                ("OPEN-ESH-IDF", "register_units", False),
                ("SALE-2018-0007", "sale", True),
                ("REV-2018-0001", "reversal", False),
            ],
        ),
        (
            "U-0101",
            [
                ("OPEN-AFL", "register_units", False),
                ("BOT-2017-AFL-01", "bare_ownership_transfer", False),
            ],
        ),
        (
            "U-0102",
            [
                ("OPEN-AFL", "register_units", False),
                ("BOT-2017-AFL-01", "bare_ownership_transfer", False),
                ("EXT-2018-AFL-01", "usufruct_extinguished", False),
            ],
        ),
        # the merger of LLI-EST (which held nothing) did not touch LLI-IDF's units
        ("U-1001", [("ACQ-2017-0001", "acquisition", False)]),
    ],
)
def test_history_of_each_unit(
    cli: Cli, example_url: str, unit: str, expected: list[tuple[str, str, bool]]
) -> None:
    rows = cli.json("--db", example_url, "history", unit)["rows"]
    assert [(r["id"], r["type"], r["reversed"]) for r in rows] == expected


def test_history_known_between_the_sale_and_its_reversal_shows_the_sale_standing(
    cli: Cli, example_url: str, positions: dict[str, int]
) -> None:
    sale = positions["SALE-2018-0007"]
    for p in sorted({sale, between_sale_and_reversal(positions)}):
        doc = cli.json("--db", example_url, "history", "U-0002", "--known-at", str(p))
        assert doc["position"] == sale
        assert [(r["id"], r["reversed"]) for r in doc["rows"]] == [
            ("OPEN-ESH-IDF", False),
            ("SALE-2018-0007", False),
        ]
    at_reversal = cli.json(
        "--db", example_url, "history", "U-0002", "--known-at", str(positions["REV-2018-0001"])
    )
    assert [(r["id"], r["reversed"]) for r in at_reversal["rows"]] == [
        ("OPEN-ESH-IDF", False),
        ("SALE-2018-0007", True),
        ("REV-2018-0001", False),
    ]


def test_history_csv_and_table_show_the_same_rows(cli: Cli, example_url: str) -> None:
    rows = cli.json("--db", example_url, "history", "U-0002")["rows"]
    columns = ["position", "id", "type", "date", "recorded_at", "reversed"]
    parsed = list(
        csv.reader(
            io.StringIO(cli.ok("--db", example_url, "history", "U-0002", "--format", "csv").stdout)
        )
    )
    assert parsed == [columns, *([csv_cell(r[c]) for c in columns] for r in rows)]
    table = cli.ok("--db", example_url, "history", "U-0002").stdout
    for r in rows:
        assert any(line.split() == [csv_cell(r[c]) for c in columns] for line in table.splitlines())


WRONG_ZONE: list[dict[str, Any]] = [
    {
        "id": "ACQ-2019-0001",
        "type": "acquisition",
        "date": "2019-02-01",
        "entity": "LLI-IDF",
        "mode": "existing",
        "price_eur": "300000.00",
        "units": [
            {
                "unit_id": "U-1003",
                "commune": "92050",
                "zone": "B2",
                "segment": "intermediate",
                "financing": "PLI",
                "rpls_id": "R-1003",
            }
        ],
    },
    {
        "id": "REV-2019-0001",
        "type": "reversal",
        "date": "2019-02-10",
        "reverses": "ACQ-2019-0001",
        "reason": "wrong zone",
    },
]
RIGHT_ZONE: list[dict[str, Any]] = [
    {
        "id": "ACQ-2019-0001-BIS",
        "type": "acquisition",
        "date": "2019-02-01",
        "entity": "LLI-IDF",
        "mode": "existing",
        "price_eur": "300000.00",
        "units": [
            {
                "unit_id": "U-1003",
                "commune": "92050",
                "zone": "A",
                "segment": "intermediate",
                "financing": "PLI",
                "rpls_id": "R-1003",
            }
        ],
    },
]


def test_a_unit_whose_acquisition_was_reversed_keeps_its_history_and_can_be_recorded_again(
    cli: Cli, db_url: str, example_file: Path
) -> None:
    cli.ok("--db", db_url, "import", str(example_file))
    cli.ok("--db", db_url, "import", "-", input=jsonl(WRONG_ZONE))
    reversed_only = cli.json("--db", db_url, "history", "U-1003")
    assert [(r["id"], r["type"], r["reversed"]) for r in reversed_only["rows"]] == [
        ("ACQ-2019-0001", "acquisition", True),
        ("REV-2019-0001", "reversal", False),
    ]
    assert cli.json("--db", db_url, "holdings", "--entity", "LLI-IDF")["rows"] == [
        row("LLI-IDF", full=2)
    ]

    cli.ok("--db", db_url, "import", "-", input=jsonl(RIGHT_ZONE))
    rows = cli.json("--db", db_url, "history", "U-1003")["rows"]
    assert [(r["id"], r["reversed"]) for r in rows] == [
        ("ACQ-2019-0001", True),
        ("REV-2019-0001", False),
        ("ACQ-2019-0001-BIS", False),
    ]
    assert cli.json("--db", db_url, "holdings", "--entity", "LLI-IDF", "--by", "zone")["rows"] == [
        row("LLI-IDF", full=3, zone="A")
    ]
    # known at the wrong acquisition, the auditor sees it as it was filed
    wrong = str(rows[0]["position"])
    assert cli.json(
        "--db", db_url, "holdings", "--entity", "LLI-IDF", "--by", "zone", "--known-at", wrong
    )["rows"] == [row("LLI-IDF", full=2, zone="A"), row("LLI-IDF", full=1, zone="B2")]
    assert [
        (r["id"], r["reversed"])
        for r in cli.json("--db", db_url, "history", "U-1003", "--known-at", wrong)["rows"]
    ] == [("ACQ-2019-0001", False)]


# ------------------------------------------------------------------ --known-at


def test_holdings_known_before_the_reversal_show_the_units_sold(
    cli: Cli, example_url: str, positions: dict[str, int]
) -> None:
    sale, reversal = positions["SALE-2018-0007"], positions["REV-2018-0001"]
    for p in sorted({sale, between_sale_and_reversal(positions)}):
        doc = cli.json("--db", example_url, "holdings", "--known-at", str(p))
        assert doc["position"] == sale  # the last transaction at or before P
        assert doc["rows"] == BEFORE_REVERSAL
        # ... but as of a date before the sale, ESH-IDF still held them
        before_sale = cli.json(
            "--db", example_url, "holdings", "--known-at", str(p), "--as-of", "2018-04-01"
        )
        assert before_sale["rows"] == DISMEMBERED
        assert before_sale["position"] == sale
        by_zone = cli.json("--db", example_url, "holdings", "--known-at", str(p), "--by", "zone")
        assert "ESH-IDF" not in {r["entity"] for r in by_zone["rows"]}
    doc = cli.json("--db", example_url, "holdings", "--known-at", str(reversal))
    assert doc["position"] == reversal
    assert doc["rows"] == AT_REVERSAL  # U-0002 and U-0003 are back with ESH-IDF


def test_holdings_known_at_the_ends_of_the_journal(
    cli: Cli, example_url: str, positions: dict[str, int]
) -> None:
    start = cli.json("--db", example_url, "holdings", "--known-at", "0")
    assert start["position"] == 0 and start["rows"] == []
    late = cli.json("--db", example_url, "holdings", "--known-at", "1000000")
    assert late == cli.json("--db", example_url, "holdings")
    assert late["position"] == positions["EXT-2018-AFL-01"]
    # known at the acquisition: the opening, the acquisition, nothing later
    acq = positions["ACQ-2017-0001"]
    doc = cli.json("--db", example_url, "holdings", "--known-at", str(acq))
    assert doc["position"] == acq and doc["rows"] == AFTER_ACQ


# ------------------------------------------------------------------ SQLite = PostgreSQL


def test_sqlite_and_postgresql_give_byte_identical_answers(
    sqlite_url: str, pg_url: str, example_file: Path
) -> None:
    cli = Cli()
    for url in (sqlite_url, pg_url):
        assert counts(cli.ok("--db", url, "import", str(example_file)).stdout) == (17, 0)
    sale = {
        url: {r["id"]: r["position"] for r in cli.json("--db", url, "history", "U-0002")["rows"]}
        for url in (sqlite_url, pg_url)
    }
    assert sale[sqlite_url] == sale[pg_url]
    known = [str(p) for p in sale[sqlite_url].values()] + [
        str(sale[sqlite_url]["REV-2018-0001"] - 1)
    ]

    queries: list[list[str]] = []
    for by in [None, *DIMENSIONS]:
        for as_of in [None, "2017-01-01", "2017-07-01", "2018-04-10", "2018-12-31"]:
            queries.append(
                ["holdings", *(["--by", by] if by else []), *(["--as-of", as_of] if as_of else [])]
            )
    for p in known:
        queries.append(["holdings", "--known-at", p])
        queries.append(["holdings", "--known-at", p, "--by", "zone", "--as-of", "2018-04-10"])
    queries.append(["holdings", "--entity", "AGIRC-ARRCO", "--by", "region"])
    for q in queries:
        outputs = [
            cli.ok("--db", url, *q, "--format", "json").stdout.encode()
            for url in (sqlite_url, pg_url)
        ]
        assert outputs[0] == outputs[1], q
    csvs = [
        cli.ok("--db", url, "holdings", "--by", "tense", "--format", "csv").stdout
        for url in (sqlite_url, pg_url)
    ]
    assert csvs[0] == csvs[1]

    def without_recorded_at(doc: dict[str, Any]) -> dict[str, Any]:
        return {
            **doc,
            "rows": [{k: v for k, v in r.items() if k != "recorded_at"} for r in doc["rows"]],
        }

    for unit in UNITS:
        for extra in ([], ["--known-at", known[-1]]):
            docs = [
                cli.ok("--db", url, "history", unit, *extra, "--format", "json").stdout
                for url in (sqlite_url, pg_url)
            ]
            assert without_recorded_at(json.loads(docs[0])) == without_recorded_at(
                json.loads(docs[1])
            ), (unit, extra)
            # same text too, once the timestamps are masked
            masked = [re.sub(r'"recorded_at": "[^"]*"', '"recorded_at": ""', d) for d in docs]
            assert masked[0] == masked[1]


# ------------------------------------------------------------------ demo


def test_demo_records_a_seeded_ledger_prints_its_holdings_and_writes_an_importable_file(
    cli: Cli, db_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "demo.jsonl"
    result = cli.ok("--db", db_url, "demo", "--units", "300", "--output", str(out))

    recorded, already = counts(result.stdout)
    assert recorded > 0 and already == 0
    lines = [x for x in out.read_text("utf-8").splitlines() if x.strip()]
    transactions = [json.loads(x) for x in lines]
    assert len(transactions) == recorded
    assert all(isinstance(t, dict) and {"id", "type", "date"} <= set(t) for t in transactions)
    assert len({t["id"] for t in transactions}) == len(transactions)
    assert {"register_entity", "register_units", "acquisition", "sale"} <= {
        t["type"] for t in transactions
    }
    assert min(t["date"] for t in transactions) == "2017-01-01"

    # what it printed is the ledger's holdings table
    table = cli.ok("--db", db_url, "holdings").stdout
    assert table.strip() in result.stdout
    holdings = cli.json("--db", db_url, "holdings")
    assert sum(r[c] for r in holdings["rows"] for c in COUNTS) > 0

    # the file is the ledger: importing it again records nothing
    again = cli.ok("--db", db_url, "import", str(out))
    assert counts(again.stdout) == (0, recorded)
    assert cli.json("--db", db_url, "holdings") == holdings

    # seeded: another run writes the same file, and the file alone rebuilds the holdings
    out2 = tmp_path / "demo2.jsonl"
    other = f"sqlite:///{tmp_path}/other.db"
    cli.ok("--db", other, "demo", "--units", "300", "--output", str(out2))
    assert out2.read_bytes() == out.read_bytes()
    rebuilt = f"sqlite:///{tmp_path}/rebuilt.db"
    assert counts(cli.ok("--db", rebuilt, "import", str(out)).stdout) == (recorded, 0)
    assert cli.json("--db", rebuilt, "holdings") == holdings


def test_the_same_demo_again_records_nothing_and_prints_the_same_ledger(
    cli: Cli, db_url: str
) -> None:
    first = cli.ok("--db", db_url, "demo", "--units", "300")
    again = cli.ok("--db", db_url, "demo", "--units", "300")

    recorded, _ = counts(first.stdout)
    assert counts(again.stdout) == (0, recorded)
    assert again.stdout.split("\n", 1)[1] == first.stdout.split("\n", 1)[1]


def test_a_different_demo_into_a_ledger_holding_one_is_refused_in_one_line_and_writes_nothing(
    cli: Cli, db_url: str
) -> None:
    cli.ok("--db", db_url, "demo", "--units", "300")
    journal = cli.ok("--db", db_url, "journal", "--format", "jsonl").stdout

    result = cli.run("--db", db_url, "demo", "--units", "400")

    assert result.exit_code == 1
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1
    assert "already holds a different demo (or other transactions)" in result.stderr
    assert "--db sqlite:///demo-400.db" in result.stderr
    assert cli.ok("--db", db_url, "journal", "--format", "jsonl").stdout == journal


def test_a_second_demo_into_the_default_database_says_which_file_to_delete(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    cli.ok("demo", "--units", "100")
    result = cli.run("demo", "--units", "200", "--seed", "7")

    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        "the ledger sqlite:///housing-ledger.db already holds a different demo (or other "
        "transactions): record this one into another database "
        "(--db sqlite:///demo-200.db) or delete housing-ledger.db first\n"
    )
