"""The layout is the design: dependencies point inward, no cycles, small modules.

The packages and what each may import (besides the standard library):

    ledger.domain      -> ledger.errors, eventsourcing
    ledger.booking     -> ledger.domain, ledger.errors, ledger.gcpause, ledger.reference,
                          eventsourcing
    ledger.storage     -> ledger.domain, ledger.booking.ports, ledger.errors, eventsourcing,
                          eventsourcing_sqlalchemy, sqlalchemy, psycopg2, orjson
    ledger.demo        -> nothing of the project (a client of the input format)
    projections.fold   -> nothing of the project (events in, rows out)
    projections.engine -> projections.fold, ledger.storage, ledger.errors, ledger.gcpause
    projections.queries, projections.register, projections.reports
                       -> projections.engine, ledger.storage, ...
    projections.render -> nothing of the project
    cli                -> everything (the composition root)
    web                -> commands.session, commands.entities, projections, ledger.storage,
                          ledger.domain, ledger.errors, flask (the web view; only
                          commands.serve imports it, when `serve` runs)

docs/architecture.md draws the same arrows.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("ledger", "projections")
#: The outermost layers the walk also checks (their own arrows below).
OUTER = ("web",)
#: The composition root: the click shell and its commands may import any layer.
ROOT_MODULES = ("cli", "commands", "ledger", "projections")

#: Project modules (by prefix) each layer may import; a layer may always import itself.
ALLOWED_PROJECT = {
    "ledger.errors": set(),
    "ledger.gcpause": set(),
    "ledger.domain": {"ledger.errors"},
    "ledger.booking": {"ledger.domain", "ledger.errors", "ledger.gcpause", "ledger.reference"},
    "ledger.storage": {"ledger.domain", "ledger.booking.ports", "ledger.errors"},
    "ledger.demo": set(),
    "ledger.reference": set(),
    "projections.fold": set(),
    "projections.render": set(),
    "projections.engine": {
        "projections.fold",
        "ledger.storage",
        "ledger.errors",
        "ledger.gcpause",
    },
    "projections.zones": {"ledger.storage", "ledger.domain"},
    "projections.queries": {
        "projections.zones",
        "projections.engine",
        "ledger.storage",
        "ledger.domain",
    },
    "projections.register": {
        "projections.zones",
        "projections.queries",
        "projections.engine",
        "ledger.storage",
        "ledger.domain",
    },
    "projections.perimeter": {"projections.queries", "ledger.storage"},
    "projections.reports": {
        "projections.zones",
        "projections.perimeter",
        "projections.queries",
        "projections.engine",
        "projections.render",
        "ledger.storage",
        "ledger.domain",
    },
    "web": {
        "commands.session",
        "commands.entities",
        "projections",
        "ledger.storage",
        "ledger.domain",
        "ledger.errors",
    },
}
#: Third-party packages each layer may import.
ALLOWED_THIRD_PARTY = {
    "ledger.domain": {"eventsourcing"},
    "ledger.booking": {"eventsourcing"},
    "ledger.storage": {
        "eventsourcing",
        "eventsourcing_sqlalchemy",
        "sqlalchemy",
        "psycopg2",
        "orjson",
    },
    "ledger.demo": set(),
    "ledger.reference": set(),
    "ledger.errors": set(),
    "ledger.gcpause": set(),
    "projections.fold": {"orjson"},
    "projections.render": set(),
    "projections.engine": {"orjson", "eventsourcing", "sqlalchemy", "psycopg2"},
    "projections.zones": set(),
    "projections.queries": set(),
    "projections.register": set(),
    "projections.perimeter": set(),
    "projections.reports": {"orjson"},
    "web": {"flask"},
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    found = {
        module_name(p): p
        for pkg in (*PACKAGES, *OUTER, "commands")
        for p in (ROOT / pkg).rglob("*.py")
    }
    found["cli"] = ROOT / "cli.py"
    return found


def imports(path: Path) -> set[str]:
    """Absolute module names imported anywhere in the file (lazy imports included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def is_root(name: str) -> bool:
    return name in ("cli", "ledger", "projections") or name.split(".")[0] == "commands"


def layer(name: str) -> str:
    owners = [k for k in ALLOWED_PROJECT if name == k or name.startswith(k + ".")]
    assert owners, f"{name} belongs to no layer: add it to ALLOWED_PROJECT"
    return max(owners, key=len)


def project_imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    return {m for m in imports(path) if m in known and m != name}


def test_every_module_belongs_to_a_layer() -> None:
    for name in modules():
        if not is_root(name):
            assert layer(name), name


def test_dependencies_point_inward() -> None:
    known = modules()
    broken = []
    for name, path in known.items():
        if is_root(name):
            continue
        own = layer(name)
        allowed = ALLOWED_PROJECT[own] | {own}
        for target in project_imports(name, path, known):
            if not any(target == a or target.startswith(a + ".") for a in allowed):
                broken.append(f"{name} -> {target}")
    assert broken == []


def test_third_party_imports_stay_in_their_layer() -> None:
    for name, path in modules().items():
        if is_root(name):
            continue
        top = {m.split(".")[0] for m in imports(path)}
        third = {m for m in top if m not in sys.stdlib_module_names and m not in PACKAGES}
        third -= {"__future__", "cli", "commands", *OUTER}
        assert third <= ALLOWED_THIRD_PARTY[layer(name)], (name, third)


def test_there_is_no_import_cycle() -> None:
    known = modules()
    graph = {n: project_imports(n, p, known) for n, p in known.items()}
    # a package's __init__ importing its own modules is not a cycle through them
    for name in graph:
        graph[name] = {t for t in graph[name] if not name.startswith(t + ".")}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                raise AssertionError(" -> ".join([*stack[stack.index(nxt) :], nxt]))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)


#: The house aims at ~400 lines a module; none may pass this ceiling.
CEILING = 800


def test_no_module_grows_past_the_house_limit() -> None:
    for name, path in modules().items():
        lines = path.read_text(encoding="utf-8").count("\n")
        assert lines <= CEILING, f"{name} has {lines} lines (ceiling {CEILING})"


def test_nothing_in_the_repository_reads_outside_it() -> None:
    """A clone with nothing beside it must work: no path into a sibling folder."""
    sibling = "sha" + "red"  # spelt in two parts, so this file names no such path itself
    suspects = (f"../{sibling}", f"/work/{sibling}", f'"{sibling}" / "data"', f'/ "{sibling}"')
    files = [*modules().values(), *(ROOT / "tests").rglob("*.py"), *(ROOT / "bench").rglob("*.py")]
    files += [ROOT / "Makefile", ROOT / ".ci" / "run"]
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert not any(s in text for s in suspects), path


def test_only_serve_imports_the_web_view_and_its_framework() -> None:
    """Flask is an optional extra: the CLI's other commands never import it, nor `web/`."""
    for name, path in modules().items():
        if not is_root(name) or name == "commands.serve":
            continue
        top = {m.split(".")[0] for m in imports(path)}
        assert not top & {"web", "flask", "werkzeug"}, name
