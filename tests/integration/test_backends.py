"""The demo ledger gives byte-identical JSON on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from cli import main
from ledger.demo import generate
from tests.support import jsonl

AS_OF = [None, "2016-12-31", "2017-01-01", "2017-07-01", "2018-12-31", "2020-06-30", "2024-12-31"]
BY = [None, "zone", "segment", "financing", "commune", "region", "tense"]


def run(url: str, *args: str) -> str:
    result = CliRunner().invoke(main, ["--db", url, *args])
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.postgres
def test_demo_holdings_are_identical_on_sqlite_and_postgresql(sqlite_url, pg_url, tmp_path) -> None:
    path = tmp_path / "demo.jsonl"
    path.write_bytes(jsonl(generate(units=1500, seed=2017)))
    for url in (sqlite_url, pg_url):
        run(url, "import", str(path))
    compared = 0
    for as_of in AS_OF:
        for by in BY:
            args = ["holdings", "--format", "json"]
            args += ["--as-of", as_of] if as_of else []
            args += ["--by", by] if by else []
            sqlite_json, pg_json = run(sqlite_url, *args), run(pg_url, *args)
            assert sqlite_json == pg_json, (as_of, by)
            compared += 1
    assert compared == len(AS_OF) * len(BY)
    assert '"full_ownership"' in run(sqlite_url, "holdings", "--format", "json")
