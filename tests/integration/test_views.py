"""The reporting views (ledger/storage/views.py, docs/views.md) on both databases: created
by `init` and by the upgrade of a schema-3 ledger, their rows equal to what the CLI
answers, readable by the auditor role, and left in place by a rebuild."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cli import main
from ledger.storage import schema, views
from projections.reports.movements import FLOWS
from tests.conftest import require_pg
from tests.integration.test_audit import auditor_role, raw
from tests.support import fresh_pg_database

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
RIGHTS = ("full_ownership", "usufruct", "bare_ownership")


def ok(url: str, *args: str) -> str:
    result = CliRunner().invoke(main, ["--db", url, *args])
    assert result.exit_code == 0, (args, result.output, result.stderr)
    return result.stdout


def as_json(url: str, *args: str) -> Any:
    return json.loads(ok(url, *args, "--format", "json"))


def rows(url: str, view: views.View) -> list[dict[str, Any]]:
    """Every row of a view, as a dict by column name (in the view's declared order)."""
    with raw(url) as c:
        cursor = c.execute(f"SELECT * FROM {view.name}")
        names = [d[0] for d in cursor.description]
        found = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
    assert names == list(view.columns)
    return found


def view_names(url: str) -> set[str]:
    with raw(url) as c:
        found = c.query(
            "SELECT viewname FROM pg_views WHERE schemaname = current_schema()"
            if c.is_pg
            else "SELECT name FROM sqlite_master WHERE type = 'view'"
        )
    return {name for (name,) in found}


def schema_version(url: str) -> int:
    with raw(url) as c:
        return int(c.scalar("SELECT value FROM hl_meta WHERE key = 'schema_version'"))


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def demo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A demo ledger (every movement kind, dismemberments, mergers, reversals of an
    acquisition and of a sale), shared by the tests that only read it."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('views')}/ledger.db"
        ok(url, "demo", "--units", "400")
        yield url
    else:
        require_pg()
        with fresh_pg_database() as url:
            ok(url, "demo", "--units", "400")
            yield url


# --- creation ------------------------------------------------------------------------


def test_init_creates_every_view_with_its_documented_columns(db_url: str) -> None:
    ok(db_url, "init")
    assert view_names(db_url) >= {v.name for v in views.VIEWS}
    for view in views.VIEWS:
        assert rows(db_url, view) == []
    assert all(v.name.startswith("hl_v_") for v in views.VIEWS)


def test_docs_views_describes_every_view_and_every_column() -> None:
    doc = (ROOT / "docs" / "views.md").read_text("utf-8")
    for view in views.VIEWS:
        section = doc.split(f"## `{view.name}`", 1)
        assert len(section) == 2, view.name
        body = section[1].split("\n## ", 1)[0]
        for column in view.columns:
            assert f"| `{column}` |" in body, (view.name, column)


def test_a_schema_3_ledger_gets_the_views_on_first_use_and_answers_the_same(db_url: str) -> None:
    ok(db_url, "demo", "--units", "150")
    before = as_json(db_url, "holdings")
    with raw(db_url) as c:
        for view in views.VIEWS:
            c.execute(f"DROP VIEW {view.name}")
        c.execute("UPDATE hl_meta SET value = '3' WHERE key = 'schema_version'")
    assert not view_names(db_url) & {v.name for v in views.VIEWS}
    assert as_json(db_url, "holdings") == before
    assert schema_version(db_url) == schema.SCHEMA_VERSION
    found = rows(db_url, views.HOLDINGS_CURRENT)
    assert sorted(found, key=lambda r: r["entity"]) == before["rows"]


def test_init_upgrades_a_schema_3_ledger(db_url: str) -> None:
    ok(db_url, "init")
    with raw(db_url) as c:
        c.execute(f"DROP VIEW {views.MOVEMENTS.name}")
        c.execute("UPDATE hl_meta SET value = '3' WHERE key = 'schema_version'")
    ok(db_url, "init")
    assert schema_version(db_url) == schema.SCHEMA_VERSION
    assert views.MOVEMENTS.name in view_names(db_url)


def test_the_ledger_written_by_release_0_1_gets_the_views_and_they_answer_as_the_cli(
    tmp_path: Path,
) -> None:
    copy = tmp_path / "ledger-0.1.sqlite"
    shutil.copyfile(FIXTURES / "ledger-0.1.sqlite", copy)
    url = f"sqlite:///{copy}"
    assert schema_version(url) == 3
    holdings = as_json(url, "holdings")["rows"]
    assert schema_version(url) == schema.SCHEMA_VERSION
    assert sorted(rows(url, views.HOLDINGS_CURRENT), key=str) == sorted(holdings, key=str)
    assert as_json(url, "replay", "--check")["check"] == "ok"


# --- equal to the CLI ----------------------------------------------------------------


def test_holdings_current_is_holdings_without_as_of(demo: str) -> None:
    expected = as_json(demo, "holdings")["rows"]
    assert expected
    assert sorted(rows(demo, views.HOLDINGS_CURRENT), key=lambda r: r["entity"]) == expected


def test_units_current_counts_by_holder_and_right_are_the_holdings(demo: str) -> None:
    counted: dict[str, Counter[str]] = {}
    for row in rows(demo, views.UNITS_CURRENT):
        counted.setdefault(row["holder"], Counter())[row["held_as"]] += 1
    expected = as_json(demo, "holdings")["rows"]
    assert [
        {"entity": holder, **{right: counted[holder][right] for right in RIGHTS}}
        for holder in sorted(counted)
    ] == expected


def test_units_current_is_the_units_register_without_filters(demo: str) -> None:
    """The view and `housing-ledger units` answer the same question: what is held now."""
    register = as_json(demo, "units")["rows"]
    assert register
    expected = sorted(
        (
            r["unit_id"],
            r["entity"],
            r["right"],
            r["commune"],
            r["zone"],
            r["segment"],
            r["rooms"],
            r["surface_m2"],
            r["year_built"],
            r["rpls_id"],
            r["entered_on"],
            r["usufruct_end"],
        )
        for r in register
    )
    found = sorted(
        (
            v["unit_id"],
            v["holder"],
            v["held_as"],
            v["commune"],
            v["zone"],
            v["segment"],
            v["rooms"],
            v["surface_m2"],
            v["year_built"],
            v["rpls_id"],
            v["from_date"],
            v["usufruct_end"],
        )
        for v in rows(demo, views.UNITS_CURRENT)
    )
    assert found == expected


def test_units_current_is_the_open_current_periods_with_the_current_unit(demo: str) -> None:
    """Read apart: every period and every unit version, filtered here, not in SQL."""
    with raw(demo) as c:
        units = {
            key: (unit_id, commune, zone, segment, financing, rooms, surface, year, rpls)
            for key, unit_id, commune, zone, segment, financing, rooms, surface, year, rpls, to in (
                c.query(
                    "SELECT unit_key, unit_id, commune, zone, segment, financing, rooms, "
                    "surface_m2, year_built, rpls_id, known_to FROM hl_units"
                )
            )
            if to is None
        }
        periods = c.query(
            "SELECT unit_key, holder, held_as, from_date, to_date, usufruct_end, known_to "
            "FROM hl_periods"
        )
        latest = c.scalar(  # "current": as of the latest transaction's date (schema 7)
            "SELECT MAX(date) FROM hl_transactions WHERE reversed_at IS NULL "
            "AND type NOT IN ('reversal', 'zoning_vintage')"
        )
        vintages = c.query(  # the zoning vintages standing (schema 8)
            "SELECT z.position, z.effective FROM hl_zonings z JOIN hl_transactions t "
            "ON t.position = z.position WHERE t.reversed_at IS NULL"
        )
        in_force = max((v for v in vintages if v[1] <= latest), key=lambda v: v[1], default=None)
        classes = dict(
            c.query(
                "SELECT commune, zone FROM hl_zone_classes WHERE position = ?",
                (in_force[0] if in_force else -1,),
            )
        )
    # The zone in force on the latest date, else the recorded one.
    units = {k: (u[0], u[1], classes.get(u[1], u[2]), *u[3:]) for k, u in units.items()}
    expected = sorted(
        (units[key][0], holder, right, *units[key][1:], start, end)
        for key, holder, right, start, to_date, end, known_to in periods
        if known_to is None and start <= latest and (to_date is None or to_date > latest)
    )
    found = sorted(tuple(r.values()) for r in rows(demo, views.UNITS_CURRENT))
    assert found == expected
    assert {r[2] for r in found} == set(RIGHTS)


def test_units_current_from_date_is_a_standing_transaction_of_the_units_history(
    demo: str,
) -> None:
    found = rows(demo, views.UNITS_CURRENT)
    dismembered = [r for r in found if r["held_as"] != "full_ownership"]
    sample = dismembered[:5] + found[:: max(1, len(found) // 15)]
    for row in sample:
        history = as_json(demo, "history", row["unit_id"])["rows"]
        assert row["from_date"] in {t["date"] for t in history if not t["reversed"]}, row


def test_movements_summed_per_entity_and_kind_over_a_year_are_the_statements_flows(
    demo: str,
) -> None:
    moved = rows(demo, views.MOVEMENTS)
    assert {m["kind"] for m in moved} == set(FLOWS)
    with raw(demo) as c:
        assert c.scalar("SELECT COUNT(*) FROM hl_movements WHERE voided_at IS NOT NULL") > 0
        assert c.scalar("SELECT COUNT(*) FROM hl_movements WHERE voided_at IS NULL") == len(moved)
    assert all(m["unit_id"] for m in moved)
    years = sorted({int(m["date"][:4]) for m in moved})
    for year in range(years[0] - 1, years[-1] + 2):
        start, end = f"{year}-01-01", f"{year + 1}-01-01"  # the statements' year
        summed = Counter((m["entity"], m["kind"]) for m in moved if start < m["date"] <= end)
        statement = as_json(demo, "report", "movements", "--year", str(year))["rows"]
        flows = {(r["entity"], kind): r[kind] for r in statement for kind in FLOWS if r[kind]}
        assert dict(summed) == flows, year


def test_transactions_are_the_journal_on_every_field_both_have(demo: str) -> None:
    journal = as_json(demo, "journal")["rows"]
    listed = sorted(rows(demo, views.TRANSACTIONS), key=lambda r: r["position"])
    assert [
        {
            "position": r["position"],
            "id": r["id"],
            "type": r["type"],
            "date": r["date"],
            "recorded_at": r["recorded_at"],
            "transaction": json.loads(r["content"]),
        }
        for r in listed
    ] == [{k: v for k, v in r.items() if k != "chain"} for r in journal]
    reversals = [
        (r["position"], r["id"], r["transaction"]["reverses"])
        for r in journal
        if r["type"] == "reversal"
    ]
    assert reversals
    by_id = {r["id"]: r for r in listed}
    for position, reversal, reversed_id in reversals:
        assert by_id[reversed_id]["reversed_by"] == reversal
        assert by_id[reversed_id]["reversed_by_position"] == position
    assert sum(r["reversed_by"] is not None for r in listed) == len(reversals)


def test_dismembered_current_grouped_by_pair_is_the_dismemberment_register(demo: str) -> None:
    def ended_at_term(position: int, judged_on: str) -> int:
        """Units of the one pair whose usufruct ended at term before the judged date."""
        with raw(demo) as c:
            return int(
                c.scalar(
                    "SELECT COUNT(*) FROM hl_periods WHERE known_to IS NULL AND "
                    "held_as = 'usufruct' AND closed_by IS NULL AND to_date IS NOT NULL "
                    "AND usufruct_end < ? AND to_date <= (SELECT MAX(date) FROM "
                    "hl_transactions WHERE reversed_at IS NULL AND type <> 'reversal')",
                    (judged_on,),
                )
            )

    register = as_json(demo, "report", "dismemberment")
    judged_on = register["overdue_before"]
    pairs: dict[tuple[str, str], list[str | None]] = {}
    for row in rows(demo, views.DISMEMBERED_CURRENT):
        pairs.setdefault((row["usufructuary"], row["bare_owner"]), []).append(row["usufruct_end"])
    assert pairs
    assert [
        {
            "usufructuary": usufructuary,
            "bare_owner": bare_owner,
            "units": len(ends),
            "maturities": dict(sorted(Counter(e[:4] if e else "" for e in ends).items())),
            # the register's overdue units ended at term are no longer dismembered
            "overdue": sum(e is not None and e < judged_on for e in ends),
        }
        for (usufructuary, bare_owner), ends in sorted(pairs.items())
    ] == [
        {**r, "overdue": r["overdue"] - ended_at_term(register["position"], judged_on)}
        for r in register["rows"]
    ]


# --- beside the rest of the ledger ---------------------------------------------------


def test_a_rebuild_leaves_the_views_in_place_and_replay_check_passes(db_url: str) -> None:
    ok(db_url, "demo", "--units", "150")
    before = {v.name: sorted(map(str, rows(db_url, v))) for v in views.VIEWS}
    assert as_json(db_url, "replay")["projections_rebuilt"] is True
    assert {v.name: sorted(map(str, rows(db_url, v))) for v in views.VIEWS} == before
    assert as_json(db_url, "replay", "--check")["check"] == "ok"


def test_a_read_only_sqlite_connection_reads_the_views(sqlite_url: str) -> None:
    # 300 units: a demo that small may have no usufruct left on its last day, and every
    # view must have a row.
    ok(sqlite_url, "demo", "--units", "300")
    path = sqlite_url.removeprefix("sqlite:///")
    reader = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        for view in views.VIEWS:
            assert reader.execute(f"SELECT COUNT(*) FROM {view.name}").fetchone()[0] > 0
    finally:
        reader.close()


def test_the_auditor_role_reads_every_view_and_cannot_write_through_one(pg_url: str) -> None:
    ok(pg_url, "demo", "--units", "150")
    with auditor_role(pg_url) as role:
        ok(pg_url, "db", "grant-auditor", role)
        auditor = pg_url.replace("postgres@", f"{role}@", 1)
        for view in views.VIEWS:
            assert rows(auditor, view) == rows(pg_url, view), view.name
        with raw(auditor) as c:
            for sql in (
                "UPDATE hl_v_transactions SET date = '2000-01-01'",
                "SET default_transaction_read_only = off; UPDATE hl_v_transactions SET date = 'x'",
                "SET default_transaction_read_only = off; DROP VIEW hl_v_movements",
            ):
                with pytest.raises(Exception, match="permission denied|read-only|must be owner"):
                    c.execute(sql)
                c.raw.rollback()


def test_an_auditor_granted_before_the_upgrade_reads_the_new_views(pg_url: str) -> None:
    """Even without the default privileges of `grant-auditor` (an upgrade run by another
    role than the one that granted), the upgrade gives the tables' readers the views."""
    ok(pg_url, "demo", "--units", "150")
    with raw(pg_url) as c:
        for view in views.VIEWS:
            c.execute(f"DROP VIEW {view.name}")
        c.execute("UPDATE hl_meta SET value = '3' WHERE key = 'schema_version'")
    with auditor_role(pg_url) as role:
        with raw(pg_url) as c:  # SELECT on the tables, no default privileges
            c.execute(f"CREATE ROLE {role} LOGIN")
            c.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}")
        ok(pg_url, "init")
        assert schema_version(pg_url) == schema.SCHEMA_VERSION
        auditor = pg_url.replace("postgres@", f"{role}@", 1)
        for view in views.VIEWS:
            assert rows(auditor, view) == rows(pg_url, view), view.name


def test_an_auditor_reads_a_schema_3_ledger_as_it_is_until_its_owner_upgrades_it(
    pg_url: str,
) -> None:
    ok(pg_url, "demo", "--units", "150")
    with auditor_role(pg_url) as role:
        ok(pg_url, "db", "grant-auditor", role)
        with raw(pg_url) as c:
            c.execute(f"DROP VIEW {views.HOLDINGS_CURRENT.name}")
            c.execute("UPDATE hl_meta SET value = '3' WHERE key = 'schema_version'")
        auditor = pg_url.replace("postgres@", f"{role}@", 1)
        assert as_json(auditor, "holdings") == as_json(pg_url, "holdings")
        assert schema_version(pg_url) == schema.SCHEMA_VERSION  # the owner's command upgraded it
        assert rows(auditor, views.HOLDINGS_CURRENT) == rows(pg_url, views.HOLDINGS_CURRENT)


def test_an_auditor_gets_the_same_rpls_extract_from_a_schema_5_ledger(pg_url: str) -> None:
    """Schema 6 added the units' sale shares to `hl_movements`; a schema 5 ledger read by
    a role that may not upgrade it has no such columns (nor any sale that recorded
    shares): the extract splits the journal's lot prices, the same answer."""
    ok(pg_url, "demo", "--units", "300")
    extract = ("report", "rpls", "--entity", "ESH-ARA", "--year", "2020")
    expected = as_json(pg_url, *extract)
    assert any(r["sale_price_eur"] for r in expected["rows"])  # sales with their prices
    with auditor_role(pg_url) as role:
        ok(pg_url, "db", "grant-auditor", role)
        with raw(pg_url) as c:
            c.execute(f"DROP VIEW {views.MOVEMENTS.name}")
            c.execute("ALTER TABLE hl_movements DROP COLUMN price_eur")
            c.execute("ALTER TABLE hl_movements DROP COLUMN net_proceeds_eur")
            c.execute("UPDATE hl_meta SET value = '5' WHERE key = 'schema_version'")
        auditor = pg_url.replace("postgres@", f"{role}@", 1)
        assert as_json(auditor, *extract) == expected
        assert schema_version(pg_url) == 5  # read as it is: nobody upgraded it


def test_views_create_statements_replace_on_postgresql_and_drop_first_on_sqlite() -> None:
    pg = views.create_statements(views.MOVEMENTS, "postgresql")
    lite = views.create_statements(views.MOVEMENTS, "sqlite")
    assert pg[0].startswith("CREATE OR REPLACE VIEW hl_v_movements (position, transaction_id")
    assert lite[0] == "DROP VIEW IF EXISTS hl_v_movements"
    assert lite[1].startswith("CREATE VIEW hl_v_movements (")
