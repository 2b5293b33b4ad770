"""Start-up (issue 15): `--help` and `--version` import neither a database driver nor the
event-sourcing library; each command imports what it needs when it runs. Checked by the
modules a fresh interpreter has loaded, never by a clock."""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys

import pytest

from cli import main

HEAVY = ("sqlalchemy", "eventsourcing", "eventsourcing_sqlalchemy", "psycopg2", "orjson")
PROBE = """
import json, sys
from cli import main
try:
    main({args!r}, prog_name="housing-ledger")
except SystemExit:
    pass
print(json.dumps(sorted({{m.split(".")[0] for m in sys.modules}})))
"""


def loaded(*args: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(args=list(args))],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return set(json.loads(out.strip().splitlines()[-1]))


@pytest.mark.parametrize(
    "args",
    [["--help"], ["--version"], ["holdings", "--help"], ["report", "sales", "--help"]],
)
def test_help_and_version_import_no_database_driver_nor_the_library(args: list[str]) -> None:
    assert loaded(*args) & set(HEAVY) == set()


def test_the_version_is_the_packages() -> None:
    from click.testing import CliRunner

    out = CliRunner().invoke(main, ["--version"]).output
    assert out.strip().endswith(importlib.metadata.version("housing-ledger"))
