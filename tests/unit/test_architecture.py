"""Dependencies point inward: the write side knows nothing of the read side or the CLI."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ALLOWED = {
    "ledger": {"ledger", "eventsourcing"},
    "projections": {"ledger", "projections", "eventsourcing", "sqlalchemy", "orjson", "psycopg2"},
}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def third_party(names: set[str]) -> set[str]:
    import sys

    return {n for n in names if n not in sys.stdlib_module_names and n != "__future__"}


def test_ledger_imports_only_the_standard_library_and_eventsourcing() -> None:
    for path in (ROOT / "ledger").rglob("*.py"):
        assert third_party(imported_packages(path)) <= ALLOWED["ledger"], path


def test_projections_never_import_the_cli_or_click() -> None:
    for path in (ROOT / "projections").rglob("*.py"):
        assert third_party(imported_packages(path)) <= ALLOWED["projections"], path


#: Known exceptions to the ~400-line aim, each with its reason and its ceiling.
LONG_MODULES = {
    "domain.py": 700,  # the four aggregates and their events, kept together as the record
    "demo.py": 1100,  # a third of it is the story's data tables
}


def test_no_module_grows_past_the_house_limit() -> None:
    for package in ("ledger", "projections"):
        for path in (ROOT / package).rglob("*.py"):
            lines = path.read_text(encoding="utf-8").count("\n")
            limit = LONG_MODULES.get(path.name, 450)
            assert lines <= limit, f"{path} has {lines} lines (limit {limit})"
