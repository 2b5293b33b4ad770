"""The docs point only at what is in this repository, and the module map is complete.

- every repository path a doc writes in backticks or as a link exists;
- every dotted name of the project a doc writes in backticks imports;
- `docs/architecture.md` names every module by its path;
- no doc points outside the repository (`shared/`, `/work/`, the former specification
  folder).

Docs are README.md and docs/**/*.md. Fenced code blocks are left out of the path checks:
they hold commands and output, not references.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest
from eventsourcing.utils import resolve_topic

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
#: Where a path written in a doc must start to be taken for a path of this repository.
PREFIXES = ("ledger/", "projections/", "commands/", "tests/", "docs/", "bench/", ".ci/")
FILES = ("cli.py", "Makefile")
EXTENSIONS = (".py", ".md", ".csv", ".jsonl")
#: Packages whose dotted names (`ledger.storage.chain`) must import.
PACKAGES = ("ledger", "projections", "commands", "tests")

FENCE = re.compile(r"^(```|~~~).*?^\1", flags=re.M | re.S)
INLINE_CODE = re.compile(r"`([^`\n]+)`")
LINK = re.compile(r"\]\(([^)\s]+)\)")
DOTTED = re.compile("(?:" + "|".join(PACKAGES) + r")(?:\.[A-Za-z_]\w*)+(?::[A-Za-z_][\w.]*)?")


def rel(doc: Path) -> str:
    return doc.relative_to(ROOT).as_posix()


def prose(doc: Path) -> str:
    """The doc without its fenced code blocks."""
    return FENCE.sub("", doc.read_text(encoding="utf-8"))


def looks_like_a_path(token: str) -> bool:
    if token in FILES:
        return True
    if not token.startswith(PREFIXES + FILES):
        return False
    return "/" in token or token.endswith(EXTENSIONS)


def paths_in_code(text: str) -> set[str]:
    """Repository paths written in inline code: `ledger/booking/book.py:196` gives
    `ledger/booking/book.py`. Templates and globs (`<db>`, `*`) are left out."""
    found: set[str] = set()
    for span in INLINE_CODE.findall(text):
        for token in span.split():
            token = token.strip(".,;:()[]'\"")
            token = token.split(":", 1)[0].split("#", 1)[0]
            if any(c in token for c in "<>*{}$") or "..." in token:
                continue
            if looks_like_a_path(token):
                found.add(token)
    return found


def local_links(text: str) -> set[str]:
    return {
        target.split("#", 1)[0]
        for target in LINK.findall(text)
        if not re.match(r"[a-z][a-z0-9+.-]*:", target) and not target.startswith("#")
    }


def modules() -> list[str]:
    found = [
        p.relative_to(ROOT).as_posix()
        for package in ("ledger", "projections", "commands")
        if (ROOT / package).is_dir()
        for p in (ROOT / package).rglob("*.py")
        if p.name != "__init__.py"
    ]
    return sorted([*found, "cli.py"])


@pytest.mark.parametrize("doc", DOCS, ids=rel)
def test_every_path_a_doc_writes_in_backticks_exists(doc: Path) -> None:
    missing = sorted(p for p in paths_in_code(prose(doc)) if not (ROOT / p).exists())
    assert missing == [], f"{rel(doc)} names paths that do not exist: {missing}"


@pytest.mark.parametrize("doc", DOCS, ids=rel)
def test_every_link_of_a_doc_to_a_file_of_the_repository_resolves(doc: Path) -> None:
    missing = []
    for target in local_links(prose(doc)):
        if not target:
            continue
        resolved = (doc.parent / target).resolve()
        if not resolved.exists() or ROOT not in (resolved, *resolved.parents):
            missing.append(target)
    assert missing == [], f"{rel(doc)} links to files that are not in the repository: {missing}"


def resolves(name: str) -> bool:
    """`ledger.storage.chain`, `ledger.demo.story.generate` or a stored topic
    `ledger.domain:Unit.Sold`: the longest importable module, then attributes."""
    if ":" in name:
        try:
            resolve_topic(name)
        except Exception:
            return False
        return True
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj: object = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[cut:]:
            if not hasattr(obj, attribute):
                return False
            obj = getattr(obj, attribute)
        return True
    return False


@pytest.mark.parametrize("doc", DOCS, ids=rel)
def test_every_dotted_name_of_the_project_a_doc_writes_imports(doc: Path) -> None:
    names = set()
    for span in INLINE_CODE.findall(prose(doc)):
        span = re.sub(r"\(.*\)$", "", span.strip())  # `module.function(args)`
        if DOTTED.fullmatch(span):
            names.add(span)
    broken = sorted(n for n in names if not resolves(n))
    assert broken == [], f"{rel(doc)} names what does not import: {broken}"


#: A module's path, not part of a longer path (`cli.py` is not `commands/cli.py`).
NAMED = r"(?<![\w/.]){}(?![\w/])"


def test_the_architecture_doc_names_every_module_by_its_path() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    unnamed = [m for m in modules() if not re.search(NAMED.format(re.escape(m)), text)]
    assert unnamed == [], f"docs/architecture.md does not name: {unnamed}"


OUTSIDE = re.compile(r"shared/|/work/|(?<![\w/])spec/|DOMAIN\.md")


@pytest.mark.parametrize("doc", DOCS, ids=rel)
def test_no_doc_points_outside_the_repository(doc: Path) -> None:
    text = doc.read_text(encoding="utf-8")
    hits = [
        f"line {text.count(chr(10), 0, m.start()) + 1}: {m.group()}" for m in OUTSIDE.finditer(text)
    ]
    assert hits == [], f"{rel(doc)} points outside the repository: {hits}"
