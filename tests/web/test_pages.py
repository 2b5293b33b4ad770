"""The web view (issue 16) through Flask's test client: every page answers, its figures are
the CLI's JSON for the same parameters, hostile names are escaped, nothing but GET is
accepted and no request changes the journal, and a read-only connection (SQLite
`?mode=ro`, PostgreSQL's auditor role) serves every page."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

pytest.importorskip("flask")  # the `web` extra; part of `dev`, so CI always has it

from cli import main  # noqa: E402
from commands.session import Session  # noqa: E402
from tests.support import jsonl  # noqa: E402
from web.app import ROUTES, create_app  # noqa: E402

HOSTILE = "<script>alert(1)</script>"
EVIL_ENTITY = {
    "id": "ENT-EVIL",
    "type": "register_entity",
    "date": "2019-01-01",
    "entity": "EVIL",
    "name": HOSTILE,
    "kind": "other",
}
#: A unit that a reversed sale touched (the demo's seed 2017 story).
REVERSED_UNIT = "U-0000075"


def cli(url: str, *args: str, stdin: bytes | None = None) -> str:
    result = CliRunner().invoke(main, ["--db", url, *args], input=stdin)
    assert result.exit_code == 0, (args, result.output)
    return result.stdout


def cli_json(url: str, *args: str) -> Any:
    return json.loads(cli(url, *args, "--format", "json"))


def make_demo(url: str) -> None:
    cli(url, "demo", "--units", "300")
    cli(url, "import", "-", stdin=jsonl([EVIL_ENTITY]))


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('web')}/demo.db"
    make_demo(url)
    return url


@pytest.fixture(scope="module")
def client(demo_url: str) -> Any:
    return create_app(demo_url).test_client()


#: One URL for every page (statements with their parameters in full).
PAGES = [
    "/",
    "/holdings",
    "/holdings?by=zone&as_of=2025-12-31",
    "/holdings?group=1",
    "/units?entity=ESH-IDF",
    f"/unit/{REVERSED_UNIT}",
    "/journal",
    "/journal/402",
    "/statements",
    "/statements/movements?year=2020",
    "/statements/sales?year=2020&target_rate=0.01&sellers=hlm",
    "/statements/programme?start=2017&years=5&target=100000&segment=intermediate",
    "/statements/dismemberment?as_of=2025-12-31",
    "/statements/divestments",
    "/statements/rpls?entity=ESH-IDF&year=2020",
    "/entities",
    "/entity/ESH-IDF",
    "/entity/EVIL",
    "/audit",
    "/audit?run=verify",
    "/audit?run=replay",
]


def get(client: Any, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code, response.text[:500])
    return str(response.text)


def web_json(client: Any, url: str) -> Any:
    sep = "&" if "?" in url else "?"
    return json.loads(get(client, f"{url}{sep}format=json"))


def test_every_page_answers_without_a_script(client: Any) -> None:
    for url in PAGES:
        response = client.get(url)
        assert response.status_code == 200, (url, response.text[:500])
        assert "<script" not in response.text, url
        assert "script-src" not in response.headers["Content-Security-Policy"]
        assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")


#: A page and the CLI command that prints the same document.
SAME_AS_CLI = [
    ("/holdings", "holdings"),
    ("/holdings?by=zone&as_of=2025-12-31", "holdings --by zone --as-of 2025-12-31"),
    ("/holdings?by=segment&known_at=300", "holdings --by segment --known-at 300"),
    ("/holdings?entity=ESH-IDF&by=commune", "holdings --entity ESH-IDF --by commune"),
    ("/holdings?group=1&as_of=2020-12-31", "holdings --group --as-of 2020-12-31"),
    ("/units?entity=ESH-IDF", "units --entity ESH-IDF"),
    (
        "/units?entity=AFL&right=usufruct&known_at=450",
        "units --entity AFL --right usufruct --known-at 450",
    ),
    (f"/unit/{REVERSED_UNIT}", f"history {REVERSED_UNIT}"),
    ("/entities?as_of=2019-06-30", "entities --as-of 2019-06-30"),
    ("/journal?after=400&limit=5", "journal --after 400 --limit 5"),
    ("/statements/movements?year=2020", "report movements --year 2020"),
    (
        "/statements/sales?year=2021&target_rate=0.02&sellers=all",
        "report sales --year 2021 --target-rate 0.02 --sellers all",
    ),
    (
        "/statements/programme?start=2017&years=5&target=1000&segment=intermediate&known_at=500",
        "report programme --start 2017 --years 5 --target 1000 --known-at 500",
    ),
    ("/statements/dismemberment?as_of=2025-12-31", "report dismemberment --as-of 2025-12-31"),
    ("/statements/divestments", "report divestments"),
    ("/statements/rpls?entity=ESH-IDF&year=2020", "report rpls --entity ESH-IDF --year 2020"),
]


@pytest.mark.parametrize(("url", "command"), SAME_AS_CLI)
def test_the_figures_are_the_clis(client: Any, demo_url: str, url: str, command: str) -> None:
    assert web_json(client, url) == cli_json(demo_url, *command.split())


def test_the_csv_download_is_the_document_shown(client: Any) -> None:
    shown = web_json(client, "/holdings?by=zone")["rows"]
    lines = get(client, "/holdings?by=zone&format=csv").strip().split("\n")
    assert lines[0] == "entity,zone,full_ownership,usufruct,bare_ownership"
    assert len(lines) == len(shown) + 1
    assert lines[1].split(",")[0] == shown[0]["entity"]


def test_each_holdings_figure_links_to_the_units_behind_it(client: Any) -> None:
    page = get(client, "/holdings?as_of=2020-12-31&by=zone")
    links = re.findall(r'href="(/units\?[^"]+)">(\d+)</a>', page)
    assert links
    for href, figure in links[:12]:
        rows = web_json(client, href.replace("&amp;", "&"))["rows"]
        assert len(rows) == int(figure), href


def test_a_unit_shows_its_reversed_transaction_linked_to_the_journal(client: Any) -> None:
    page = get(client, f"/unit/{REVERSED_UNIT}")
    assert '<tr class="reversed">' in page
    assert 'href="/journal/501"' in page
    entry = get(client, "/journal/501")
    assert "SALE-2020-00002" in entry and "Reversed by" in entry
    assert "REV-2020-0001" in entry


def test_known_at_is_carried_in_every_link(client: Any) -> None:
    for url in ("/holdings?known_at=300", "/unit/U-0000075?known_at=300", "/entities?known_at=300"):
        page = get(client, url)
        hrefs = [h for h in re.findall(r'href="([^"]+)"', page) if h.startswith("/")]
        assert hrefs
        assert all("known_at=300" in h for h in hrefs), [h for h in hrefs if "known_at" not in h]


def test_statement_parameters_are_put_in_the_url(client: Any) -> None:
    response = client.get("/statements/sales")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/statements/sales?year=")
    assert "target_rate=0.01" in response.headers["Location"]


def test_hostile_names_are_escaped(client: Any) -> None:
    for url in ("/entities", "/entity/EVIL", "/entities?format=csv"):
        text = get(client, url)
        if "format" not in url:
            assert HOSTILE not in text
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    # JSON and CSV are data: the name verbatim, as the CLI gives it
    evil = [r for r in web_json(client, "/entities")["rows"] if r["entity"] == "EVIL"]
    assert [r["name"] for r in evil] == [HOSTILE]
    page = get(client, "/unit/%3Cscript%3E", status=404)
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_bad_parameters_are_refused_by_name(client: Any) -> None:
    assert "as_of" in get(client, "/holdings?as_of=2020-13-45", status=400)
    assert "known_at" in get(client, "/holdings?known_at=abc", status=400)
    assert "by" in get(client, "/holdings?by=colour", status=400)
    assert "year" in get(client, "/statements/movements?year=nineteen", status=400)
    assert "unknown entity" in get(client, "/entity/NOBODY", status=404)
    assert "no statement" in get(client, "/statements/tax", status=404)
    assert "limit" in get(client, "/units?limit=1000000", status=400)
    get(client, "/nowhere", status=404)


def journal_state(url: str) -> tuple[Any, ...]:
    digest = json.loads(cli(url, "audit", "digest"))
    return digest["position"], digest["digest"], cli(url, "holdings", "--format", "json")


def concrete(rule: str) -> str:
    return (
        rule.replace("<path:unit_id>", REVERSED_UNIT)
        .replace("<int:position>", "402")
        .replace("<name>", "sales")
        .replace("<path:entity_id>", "ESH-IDF")
    )


def test_nothing_but_get_is_accepted_and_nothing_changes(client: Any, demo_url: str) -> None:
    before = journal_state(demo_url)
    for rule, _ in ROUTES:
        url = concrete(rule) + "?year=2020&run=verify"
        for method in ("post", "put", "patch", "delete"):
            response = getattr(client, method)(url, data={"x": "1"})
            assert response.status_code == 405, (method, url)
            assert response.headers["Allow"] == "GET, HEAD"
    assert journal_state(demo_url) == before


def test_serve_help_imports_no_web_framework() -> None:
    probe = (
        "import json, sys\nfrom cli import main\ntry:\n"
        "    main(['serve', '--help'], prog_name='housing-ledger')\n"
        "except SystemExit:\n    pass\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    loaded = set(json.loads(out.strip().splitlines()[-1]))
    assert not loaded & {"flask", "werkzeug", "web", "sqlalchemy"}


def every_page_answers(url: str) -> None:
    c = create_app(url).test_client()
    for page in PAGES:
        response = c.get(page)
        assert response.status_code == 200, (page, response.text[:500])


def test_a_read_only_sqlite_file_serves_every_page(demo_url: str, tmp_path: Path) -> None:
    path = demo_url.removeprefix("sqlite:///")
    before = Path(path).read_bytes()
    every_page_answers(f"sqlite:///{path}?mode=ro")
    assert Path(path).read_bytes() == before


@pytest.fixture
def pg_auditor(pg_url: str) -> Iterator[tuple[str, str]]:
    from tests.integration.test_audit import auditor_role

    make_demo(pg_url)
    with auditor_role(pg_url) as role:
        cli(pg_url, "db", "grant-auditor", role)
        yield pg_url, pg_url.replace("postgres@", f"{role}@", 1)


@pytest.mark.postgres
def test_the_auditor_role_serves_every_page(pg_auditor: tuple[str, str]) -> None:
    owner, auditor = pg_auditor
    before = journal_state(owner)
    every_page_answers(auditor)
    c = create_app(auditor).test_client()
    assert web_json(c, "/holdings?by=zone") == cli_json(owner, "holdings", "--by", "zone")
    assert web_json(c, "/audit?run=verify")["rows"][0]["verified"] is True
    assert web_json(c, "/audit?run=replay")["rows"][0]["replay_check"] == "ok"
    assert journal_state(owner) == before


def served_app(url: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The application `housing-ledger serve` would run on `url` (its server not started)."""
    import werkzeug.serving

    started: dict[str, Any] = {}
    monkeypatch.setattr(
        werkzeug.serving, "run_simple", lambda h, p, app, **kw: started.update(app=app)
    )
    CliRunner().invoke(main, ["--db", url, "serve"], catch_exceptions=False)
    return started["app"]


def test_serve_writes_nothing_even_where_the_projections_lag(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path}/lagging.db"
    make_demo(url)
    answered = cli_json(url, "holdings")
    s = Session(url)  # a transaction recorded by a writer that did not fold it
    s.current()
    late = dict(EVIL_ENTITY, id="ENT-LATE", entity="LATE", name="Late")
    assert not s.recorder.record([("late.jsonl", io.BytesIO(jsonl([late])))]).errors
    s.close()
    path = Path(url.removeprefix("sqlite:///"))
    before = path.read_bytes()

    c = served_app(url, monkeypatch).test_client()
    for page in PAGES:
        assert c.get(page).status_code == 200, page
    shown = web_json(c, "/holdings")

    assert path.read_bytes() == before  # not even the projections were caught up
    assert shown == answered  # the projections as they stand
