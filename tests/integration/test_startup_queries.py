"""Start-up of a query (issue 15): on projections already caught up with the journal, a
query reads them with the standard library's driver and imports neither SQLAlchemy nor
the event-sourcing library; when they lag behind, it catches them up first. Checked by
the modules a fresh interpreter has loaded and by the answers, never by a clock."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from commands.session import Session
from tests.support import jsonl

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
HEAVY = {"sqlalchemy", "eventsourcing", "eventsourcing_sqlalchemy", "psycopg2"}
PROBE = """
import json, sys
from cli import main
try:
    main({args!r}, prog_name="housing-ledger")
except SystemExit as e:
    code = e.code
print(json.dumps([code, sorted({{m.split(".")[0] for m in sys.modules}})]))
"""


def run_fresh(*args: str) -> tuple[int, set[str], str]:
    """Run the CLI in a new interpreter: its exit code, top-level modules loaded, output."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(args=list(args))],
        capture_output=True,
        text=True,
        check=True,
    )
    *output, last = done.stdout.strip().splitlines()
    code, modules = json.loads(last)
    return code, set(modules), "\n".join(output)


@pytest.fixture()
def ledger(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    result = CliRunner().invoke(main, ["--db", url, "import", str(FIXTURES / "example.jsonl")])
    assert result.exit_code == 0, result.output
    return url


QUERIES = [
    ["holdings"],
    ["holdings", "--by", "zone", "--as-of", "2019-12-31"],
    ["units", "--entity", "ESH-IDF"],
    ["entities"],
    ["report", "sales", "--year", "2017"],
    ["report", "movements", "--year", "2017"],
    ["report", "dismemberment"],
]


@pytest.mark.parametrize("query", QUERIES, ids=" ".join)
def test_a_query_on_caught_up_projections_imports_no_sqlalchemy(
    ledger: str, query: list[str]
) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["--db", ledger, "holdings"]).exit_code == 0  # catches up
    expected = runner.invoke(main, ["--db", ledger, *query, "--format", "json"])
    assert expected.exit_code == 0, expected.output

    code, modules, output = run_fresh("--db", ledger, *query, "--format", "json")

    assert code == 0
    assert modules & HEAVY == set()
    assert json.loads(output) == json.loads(expected.output)


def test_a_query_on_projections_behind_catches_them_up_first(ledger: str) -> None:
    before = CliRunner().invoke(main, ["--db", ledger, "holdings", "--format", "json"])
    # A transaction recorded by a writer that did not fold it (the import command folds).
    s = Session(ledger)
    s.current()
    sale = {"id": "S-LATE", "type": "sale", "date": "2021-06-01", "entity": "ESH-IDF"}
    sale.update({"units": ["U-0002"], "buyer": {"category": "sitting_tenant"}})
    sale.update({"price_eur": "90000.00", "reference": "Acte 2021/1"})
    result = s.recorder.record([("late.jsonl", io.BytesIO(jsonl([sale])))])
    assert not result.errors, [str(e) for e in result.errors]
    s.close()

    code, modules, output = run_fresh("--db", ledger, "holdings", "--format", "json")

    assert code == 0
    assert "sqlalchemy" in modules  # the catch-up ran in this process, with what it needs
    answer, earlier = json.loads(output), json.loads(before.output)
    assert answer["position"] > earlier["position"]
    assert answer["rows"] != earlier["rows"]  # the sale is in the answer
