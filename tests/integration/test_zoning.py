"""Zones by date (issue 14): zoning vintages in the journal, unit zones checked against the
vintage in force on their date, queries by the zone in force (docs/decisions/0010).

The expected answers are computed here from the two shipped CSV files, read with the
standard library, not with the ledger's reader."""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cli import main
from tests.conftest import require_pg
from tests.support import fresh_pg_database

REFERENCE = Path(__file__).resolve().parents[2] / "ledger" / "reference"
CITIES = {
    "75": ("75056", 75101, 75120),
    "69": ("69123", 69381, 69389),
    "13": ("13055", 13201, 13216),
}
V2022 = "zoning-abc-2022-02-16-0a853ce105b1"
V2024 = "zoning-abc-2024-07-05-d586eb7b9b6a"


def classes(name: str) -> dict[str, str]:
    """Commune -> class of a shipped file (its first column, its column named Zone...)."""
    with (REFERENCE / name).open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f, delimiter=";"))
    column = next(i for i, c in enumerate(rows[0]) if c.strip().startswith("Zone"))
    return {r[0]: r[column] for r in rows[1:] if r}


ZONES_2022 = classes("zonage-abc-2022.csv")
ZONES_2024 = classes("zonage-abc-2024-07.csv")


def class_of(zones: dict[str, str], commune: str) -> str | None:
    for city, first, last in CITIES.values():
        if commune.isdigit() and first <= int(commune) <= last:
            return zones.get(city)
    return zones.get(commune)


def run(url: str, *args: str, code: int = 0, stdin: str | None = None) -> Any:
    result = CliRunner().invoke(main, ["--db", url, *args], input=stdin)
    assert result.exit_code == code, (args, result.output, result.stderr)
    return result


def answer(url: str, *args: str) -> Any:
    return json.loads(run(url, *args, "--format", "json").stdout)


def head(url: str) -> int:
    return int(json.loads(run(url, "audit", "digest").stdout)["position"])


def lines(*txs: dict[str, Any]) -> str:
    return "".join(json.dumps(tx) + "\n" for tx in txs)


ENTITY = {"id": "E1", "type": "register_entity", "date": "2017-01-01", "entity": "LLI-O",
          "name": "LLI Ouest", "kind": "lli"}  # fmt: skip


def acquisition(tx_id: str, day: str, *units: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": tx_id,
        "type": "acquisition",
        "date": day,
        "entity": "LLI-O",
        "mode": "vefa",
        "price_eur": "100000.00",
        "units": [{"segment": "intermediate", **u} for u in units],
    }


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('zoning')}/demo.db"
    run(url, "demo")
    return url


# --- the demo: holdings by zone follow the reclassification of 5 July 2024 -------------


def held(url: str, day: str) -> dict[tuple[str, str, str], dict[str, Any]]:
    """(entity, unit, right) -> the register's row, as of `day`."""
    rows = answer(url, "units", "--as-of", day)["rows"]
    return {(r["entity"], r["unit_id"], r["right"]): r for r in rows}


def by_zone(url: str, day: str) -> Counter[tuple[str, str, str]]:
    doc = answer(url, "holdings", "--by", "zone", "--as-of", day)
    counts: Counter[tuple[str, str, str]] = Counter()
    for row in doc["rows"]:
        for right in ("full_ownership", "usufruct", "bare_ownership"):
            if row[right]:
                counts[(row["entity"], row["zone"], right)] += row[right]
    return counts


@pytest.mark.parametrize(("day", "zones", "vintage"), [
    ("2023-12-31", ZONES_2022, V2022), ("2025-12-31", ZONES_2024, V2024)])  # fmt: skip
def test_holdings_by_zone_are_the_classes_of_the_vintage_in_force(
    demo: str, day: str, zones: dict[str, str], vintage: str
) -> None:
    units = held(demo, day)
    expected = Counter(
        (e, class_of(zones, r["commune"]), right) for (e, _, right), r in units.items()
    )
    assert by_zone(demo, day) == expected
    doc = answer(demo, "holdings", "--by", "zone", "--as-of", day)
    assert doc["zones_from"] == vintage and doc["zoning"]["vintage"] == vintage
    assert {r["zone_source"] for r in units.values()} == {vintage}
    assert all(r["zone"] == class_of(zones, r["commune"]) for r in units.values())


def test_2023_and_2025_differ_exactly_by_the_units_in_reclassified_communes(demo: str) -> None:
    before, after = held(demo, "2023-12-31"), held(demo, "2025-12-31")
    both = before.keys() & after.keys()
    moved = {k for k in both if before[k]["zone"] != after[k]["zone"]}
    reclassified = {
        k for k in both
        if class_of(ZONES_2022, before[k]["commune"]) != class_of(ZONES_2024, before[k]["commune"])
    }  # fmt: skip
    assert moved == reclassified and moved, "the demo holds units of reclassified communes"
    # The holdings by zone move by exactly those units (and the flows between the dates).
    change = Counter({k: v for k, v in by_zone(demo, "2025-12-31").items()})
    change.subtract(by_zone(demo, "2023-12-31"))
    expected: Counter[tuple[str, str, str]] = Counter()
    for (entity, _, right), row in after.items():
        expected[(entity, row["zone"], right)] += 1
    for (entity, _, right), row in before.items():
        expected[(entity, row["zone"], right)] -= 1
    assert +change == +expected and -change == -expected


def test_a_reclassification_changes_no_answer_before_its_date(demo: str) -> None:
    """Before the first vintage the declared zones stand; between the two vintages the
    2022 classes; the demo's lines declare the 2022 class, so nothing moves before 2024."""
    for day in ("2019-12-31", "2021-12-31", "2022-12-31", "2024-07-04"):
        units = held(demo, day)
        assert all(r["zone"] == class_of(ZONES_2022, r["commune"]) for r in units.values())
    assert answer(demo, "holdings", "--by", "zone", "--as-of", "2019-12-31")["zones_from"] == (
        "declared"
    )


def test_the_demo_records_the_shipped_vintages_once(demo: str) -> None:
    vintages = answer(demo, "reference", "vintages")["rows"]
    assert [(v["vintage"], v["effective"], v["communes"]) for v in vintages] == [
        (V2022, "2022-02-16", len(ZONES_2022)),
        (V2024, "2024-07-05", len(ZONES_2024)),
    ]
    position = head(demo)
    out = run(demo, "reference", "zoning", "--shipped").stdout
    assert "recorded 0 transaction(s) (0 events), 2 already recorded" in out
    out = run(demo, "reference", "zoning", str(REFERENCE / "zonage-abc-2024-07.csv"),
              "--effective", "2024-07-05", "--source", "again").stdout  # fmt: skip
    assert head(demo) == position  # the same file for the same date: the same transaction
    assert "recorded 0" in out or "already" in out


# --- the rules ---------------------------------------------------------------------------


@pytest.fixture()
def zoned(sqlite_url: str) -> str:
    run(sqlite_url, "init", "--zoning")
    run(sqlite_url, "import", "-", stdin=lines(ENTITY))
    return sqlite_url


def test_a_line_declaring_the_wrong_class_for_its_date_is_rejected(zoned: str) -> None:
    position = head(zoned)
    nantes = {"unit_id": "N1", "commune": "44109", "zone": "B1"}
    result = run(zoned, "import", "-", code=1, stdin=lines(acquisition("A1", "2024-08-01", nantes)))
    assert (
        "acquisition A1: unit N1: commune 44109 is in zone A on 2024-08-01 by zoning vintage "
        f"{V2024} (in force from 2024-07-05), not B1"
    ) in result.stderr
    assert head(zoned) == position
    # The same class is right the year before, under the 2022 list.
    run(
        zoned,
        "import",
        "-",
        stdin=lines(acquisition("A0", "2023-03-01", {**nantes, "unit_id": "N0"})),
    )


def test_a_commune_absent_from_the_vintage_is_rejected(zoned: str) -> None:
    absorbed = next(c for c in sorted(ZONES_2022) if c not in ZONES_2024 and c[0].isdigit())
    result = run(zoned, "import", "-", code=1, stdin=lines(
        acquisition("A1", "2025-02-01", {"unit_id": "X1", "commune": absorbed})))  # fmt: skip
    assert f"unit X1: commune {absorbed} is not in zoning vintage {V2024}" in result.stderr


def test_a_line_may_leave_its_zone_to_the_vintage_and_before_any_vintage_it_may_not(
    zoned: str,
) -> None:
    run(zoned, "import", "-", stdin=lines(
        acquisition("A1", "2024-09-01", {"unit_id": "P1", "commune": "75111"},
                    {"unit_id": "S1", "commune": "67482"})))  # fmt: skip
    rows = {r["unit_id"]: r for r in answer(zoned, "units")["rows"]}
    assert (rows["P1"]["zone"], rows["S1"]["zone"]) == ("Abis", "A")  # Paris by its city
    result = run(zoned, "import", "-", code=1, stdin=lines(
        acquisition("A2", "2019-05-01", {"unit_id": "Q1", "commune": "44109"})))  # fmt: skip
    assert "unit Q1: no zone given, and no zoning vintage is in force on 2019-05-01" in (
        result.stderr
    )
    # Before the earliest vintage a declared zone stands, whatever the later classes.
    declared = {"unit_id": "Q1", "commune": "44109", "zone": "A"}
    run(zoned, "import", "-", stdin=lines(acquisition("A3", "2019-05-01", declared)))
    assert answer(zoned, "units", "--as-of", "2019-12-31")["rows"][0]["zone_source"] == "declared"


def test_the_programme_counts_tense_zones_by_the_class_at_acquisition(zoned: str) -> None:
    run(zoned, "import", "-", stdin=lines(
        acquisition("A1", "2019-03-01", {"unit_id": "N1", "commune": "44109", "zone": "B2"}),
        acquisition("A2", "2023-03-01", {"unit_id": "N2", "commune": "44109"}),
        acquisition("A3", "2024-08-01", {"unit_id": "N3", "commune": "44109"},
                    {"unit_id": "N4", "commune": "75056"}, {"unit_id": "N5", "commune": "23096"}),
    ))  # fmt: skip
    doc = answer(zoned, "report", "programme", "--start", "2019", "--years", "7", "--target", "7")
    split = {r["year"]: (r["in_tense_zones"], r["zone_abis"], r["zone_a"], r["zone_b1"],
                         r["zone_other"]) for r in doc["rows"] if r["acquired"]}  # fmt: skip
    # 2019: declared B2 (no vintage); 2023: Nantes B1 (2022 list); 2024: Nantes A, Paris
    # A bis, Guéret C (the order of 5 July 2024). Later reclassifications change nothing.
    assert split == {2019: (0, 0, 0, 0, 1), 2023: (1, 0, 0, 1, 0), 2024: (2, 1, 1, 0, 1)}
    assert [v["vintage"] for v in doc["zoning"]] == [V2022, V2024]


def test_a_vintage_is_reversed_and_known_at_reproduces_every_answer(zoned: str) -> None:
    run(zoned, "import", "-", stdin=lines(
        acquisition("A1", "2023-03-01", {"unit_id": "N1", "commune": "44109"})))  # fmt: skip
    before = head(zoned)
    first = answer(zoned, "holdings", "--by", "zone", "--as-of", "2025-12-31")
    assert [(r["zone"], r["full_ownership"]) for r in first["rows"]] == [("A", 1)]
    run(zoned, "import", "-", stdin=lines({"id": "R1", "type": "reversal", "date": "2026-01-05",
        "reverses": V2024, "reason": "wrong vintage"}))  # fmt: skip
    now = answer(zoned, "holdings", "--by", "zone", "--as-of", "2025-12-31")
    assert [(r["zone"], r["full_ownership"]) for r in now["rows"]] == [("B1", 1)]
    assert now["zones_from"] == V2022
    again = answer(zoned, "holdings", "--by", "zone", "--as-of", "2025-12-31", "--known-at",
                   str(before))  # fmt: skip
    assert again == first
    assert [v["vintage"] for v in answer(zoned, "reference", "vintages")["rows"]] == [V2022]
    # No vintage known yet at the first positions: the declared zones.
    assert answer(zoned, "reference", "vintages", "--known-at", "1")["rows"] == []


def test_two_vintages_may_not_share_a_date(zoned: str, tmp_path: Path) -> None:
    other = tmp_path / "zones.csv"
    other.write_text("CODGEO;Zone ABC\n44109;B1\n", encoding="utf-8")
    result = run(zoned, "reference", "zoning", str(other), "--effective", "2024-07-05", code=1)
    assert f"zoning vintage {V2024} is already in force from 2024-07-05" in result.stderr


def test_a_bad_zoning_file_records_nothing_and_names_its_lines(zoned: str, tmp_path: Path) -> None:
    position = head(zoned)
    bad = tmp_path / "zones.csv"
    bad.write_text("CODGEO;Zone ABC\n44109;B3\n44109;B1\nXX;A\n", encoding="utf-8")
    result = run(zoned, "reference", "zoning", str(bad), "--effective", "2026-01-01", code=1)
    assert 'zones.csv:2: commune 44109: zone "B3" is not one of' in result.stderr
    assert 'zones.csv:4: "XX" is not an INSEE commune code' in result.stderr
    assert "nothing was recorded" in result.stderr
    assert head(zoned) == position
    usage = run(zoned, "reference", "zoning", str(bad), code=2)
    assert "--effective DATE is required" in usage.output


def test_init_offers_the_shipped_vintages(sqlite_url: str) -> None:
    out = run(sqlite_url, "init").stdout
    assert "reference zoning --shipped" in out
    out = run(sqlite_url, "init", "--zoning").stdout
    assert "zoning: recorded 2 transaction(s)" in out
    assert "reference zoning --shipped" not in run(sqlite_url, "init").stdout


def test_an_rpls_file_without_zones_takes_them_from_the_vintage(zoned: str, tmp_path: Path) -> None:
    stock = tmp_path / "esh.csv"
    stock.write_text("si_id;right;commune\nU-1;1;44109\nU-2;1;67482\n", encoding="utf-8")
    run(zoned, "import", "--format", "rpls", str(stock), "--entity", "LLI-O", "--as-of",
        "2024-12-31")  # fmt: skip
    rows = {r["unit_id"]: r["zone"] for r in answer(zoned, "units")["rows"]}
    assert rows == {"U-1": "A", "U-2": "A"}


# --- the same answers on SQLite and PostgreSQL ------------------------------------------

QUESTIONS = [
    ("holdings", "--by", "zone", "--as-of", "2023-12-31"),
    ("holdings", "--by", "zone", "--as-of", "2025-12-31"),
    ("holdings", "--by", "tense", "--as-of", "2025-12-31", "--group"),
    ("units", "--as-of", "2025-12-31", "--zone", "A"),
    ("report", "programme", "--start", "2017", "--years", "5", "--target", "1000"),
    ("reference", "vintages"),
]


@pytest.fixture(scope="module")
def pg_demo() -> Iterator[str]:
    require_pg()
    with fresh_pg_database() as url:
        run(url, "init")
        run(url, "demo", "--units", "1500")
        yield url


@pytest.mark.postgres
def test_the_same_json_on_sqlite_and_postgresql(
    pg_demo: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    sqlite = f"sqlite:///{tmp_path_factory.mktemp('zoning-sqlite')}/demo.db"
    run(sqlite, "demo", "--units", "1500")
    for question in QUESTIONS:
        assert answer(sqlite, *question) == answer(pg_demo, *question), question
