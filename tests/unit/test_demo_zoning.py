"""The demo story puts every unit in a commune that exists on its date, with the zone in force.

The story's unit lines are checked against the reference files themselves, read here
with nothing of `ledger.demo.geography` (issue #14): the zoning vintages of
ledger/reference/vintages.csv by effective date (the earliest one before the earliest
date) and INSEE's movements of communes (ledger/reference/mouvements-communes-2017.csv).
The ledger does not reject a mismatching zone yet, so these tests are what keeps the
story true to the files.
"""

from __future__ import annotations

import csv
from collections import Counter
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from ledger.demo import generate, load_geography

REFERENCE = Path(__file__).resolve().parents[2] / "ledger" / "reference"
CREATIONS = {"20", "21", "32", "41", "50"}
RECLASSIFIED_ON = date(2024, 7, 5)


def _read(name: str, delimiter: str) -> list[list[str]]:
    with (REFERENCE / name).open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle, delimiter=delimiter))


def _vintages() -> list[tuple[date, dict[str, str]]]:
    """(effective date, commune -> zone) of each shipped vintage, the earliest first."""
    found = []
    for name, effective, *_ in _read("vintages.csv", ";")[1:]:
        rows = _read(name, ";")
        zone_at = next(i for i, h in enumerate(rows[0]) if h.startswith("Zone"))
        found.append((date.fromisoformat(effective), {r[0]: r[zone_at] for r in rows[1:]}))
    return sorted(found, key=lambda v: v[0])


VINTAGES = _vintages()
#: Commune -> region, from the vintage of July 2024 (the 2022 one has no region column).
REGIONS = {r[0]: r[1] for r in _read("zonage-abc-2024-07.csv", ";")[1:]}


def _movements() -> tuple[dict[str, list[date]], dict[str, list[date]]]:
    """(code -> dates it became the commune of its code, code -> dates it ceased to be one)."""
    rows = _read("mouvements-communes-2017.csv", ",")
    header = rows[0]
    column = {name: header.index(name) for name in header}
    created: dict[str, list[date]] = {}
    was, stays = set(), set()
    for row in rows[1:]:
        day = date.fromisoformat(row[column["DATE_EFF"]])
        if row[column["TYPECOM_AP"]] == "COM":
            stays.add((row[column["COM_AP"]], day))
            if row[column["MOD"]] in CREATIONS:
                created.setdefault(row[column["COM_AP"]], []).append(day)
        if row[column["TYPECOM_AV"]] == "COM":
            was.add((row[column["COM_AV"]], day))
    ceased: dict[str, list[date]] = {}
    for code, day in was - stays:
        ceased.setdefault(code, []).append(day)
    return created, ceased


CREATED, CEASED = _movements()


def in_force(day: date) -> tuple[date, dict[str, str]]:
    """The vintage in force on `day`; before the earliest, the earliest."""
    return max((v for v in VINTAGES if v[0] <= day), key=lambda v: v[0], default=VINTAGES[0])


def absent_on(commune: str, day: date) -> str | None:
    """Why `commune` is no commune (as the vintages list it) on `day`, or None."""
    later = [d for d in CREATED.get(commune, []) if d > day]
    if later:
        return f"created on {min(later)}"
    events = [(d, "created") for d in CREATED.get(commune, []) if d <= day]
    events += [(d, "ceased") for d in CEASED.get(commune, []) if d <= day]
    if events and max(events)[1] == "ceased":
        return f"ceased on {max(events)[0]}"
    return None


@cache
def _story(units: int, seed: int, profile: str) -> tuple[dict[str, Any], ...]:
    return tuple(generate(units=units, seed=seed, profile=profile))


def _entries(txs: tuple[dict[str, Any], ...], live: bool = True) -> list[dict[str, Any]]:
    """The unit lines (opening balances, acquisitions), those reversed left out if `live`."""
    reversed_ids = {t["reverses"] for t in txs if t["type"] == "reversal"}
    return [
        t
        for t in txs
        if t["type"] in ("register_units", "acquisition") and (t["id"] in reversed_ids) != live
    ]


STORIES = [
    (3000, 2017, "default"),
    (3000, 1, "default"),
    (3000, 42, "default"),
    (20000, 5, "default"),
    (5000, 11, "scale"),
]


@pytest.fixture(params=STORIES, ids=[f"{u}-seed{s}-{p}" for u, s, p in STORIES])
def story(request: pytest.FixtureRequest) -> tuple[dict[str, Any], ...]:
    return _story(*request.param)


def test_every_unit_line_has_the_class_of_its_commune_in_the_vintage_in_force(
    story: tuple[dict[str, Any], ...],
) -> None:
    checked = 0
    for tx in _entries(story):
        day = date.fromisoformat(tx["date"])
        effective, zones = in_force(day)
        for unit in tx["units"]:
            assert unit["zone"] == zones.get(unit["commune"]), (tx["id"], unit, effective)
            checked += 1
    assert checked > 0


def test_no_unit_line_uses_a_commune_that_does_not_exist_on_its_date(
    story: tuple[dict[str, Any], ...],
) -> None:
    wrong = []
    for tx in _entries(story) + _entries(story, live=False):
        day = date.fromisoformat(tx["date"])
        for unit in tx["units"]:
            if why := absent_on(unit["commune"], day):
                wrong.append((tx["id"], unit["commune"], why))
            if unit["commune"] not in REGIONS:
                wrong.append((tx["id"], unit["commune"], "no region in the 2024 vintage"))
    assert wrong == []


def test_the_movements_as_read_here_know_evry_courcouronnes_and_annecy() -> None:
    """The two examples of the brief, so the check above is not vacuous."""
    assert absent_on("91228", date(2018, 12, 31)) == "created on 2019-01-01"
    assert absent_on("91228", date(2019, 1, 1)) is None
    assert absent_on("74010", date(2017, 1, 1)) is None
    assert absent_on("91182", date(2019, 1, 1)) == "ceased on 2019-01-01"  # Courcouronnes


def test_evry_courcouronnes_enters_the_story_only_from_2019() -> None:
    days = [
        t["date"]
        for t in _entries(_story(20000, 5, "default"))
        for u in t["units"]
        if u["commune"] == "91228"
    ]
    assert days and min(days) >= "2019-01-01"


def test_the_wrong_zone_acquisition_is_dated_before_the_earliest_vintage() -> None:
    """The scripted error of 2018 keeps its declared zone: the ledger does not check it."""
    wrong = _entries(_story(3000, 2017, "default"), live=False)
    acquisitions = [t for t in wrong if t["type"] == "acquisition"]
    assert len(acquisitions) == 1
    tx = acquisitions[0]
    day = date.fromisoformat(tx["date"])
    assert day < VINTAGES[0][0]
    assert all(u["zone"] != in_force(day)[1][u["commune"]] for u in tx["units"])


def _gone_before(txs: tuple[dict[str, Any], ...], day: date) -> set[str]:
    """Units sold out of the ledger (to a buyer that is no entity) before `day`."""
    reversed_ids = {t["reverses"] for t in txs if t["type"] == "reversal"}
    return {
        unit
        for t in txs
        if t["type"] == "sale"
        and t["id"] not in reversed_ids
        and "entity" not in t["buyer"]
        and date.fromisoformat(t["date"]) < day
        for unit in t["units"]
    }


@pytest.mark.parametrize("units,seed,profile", [(3000, 2017, "default"), (20000, 5, "default")])
def test_units_of_reclassified_communes_are_held_across_the_reclassification(
    units: int, seed: int, profile: str
) -> None:
    """Units whose commune changes class on 2024-07-05 (Nantes-like: B1, then A) are in the
    ledger before that day and still on it, so zone-by-date queries have something to show."""
    txs = _story(units, seed, profile)
    before, after = in_force(RECLASSIFIED_ON.replace(day=4))[1], in_force(RECLASSIFIED_ON)[1]
    gone = _gone_before(txs, RECLASSIFIED_ON)
    held = Counter(
        (u["commune"], before[u["commune"]], after[u["commune"]])
        for t in _entries(txs)
        for u in t["units"]
        if before[u["commune"]] != after[u["commune"]] and u["unit_id"] not in gone
    )
    assert sum(held.values()) >= 20, held
    assert len(held) >= 2
    assert any(old == "B1" and new == "A" for _, old, new in held), held


_DAYS = ((2017, 1, 1), (2022, 2, 16), (2024, 7, 4), (2024, 7, 5))


def test_the_geography_reads_each_date_in_the_vintage_in_force() -> None:
    geography = load_geography()
    assert [v.effective for v in geography.vintages] == [v[0] for v in VINTAGES]
    nantes = [geography.zone("44109", date(y, m, d)) for y, m, d in _DAYS]
    assert nantes == ["B1", "B1", "B1", "A"]
    assert not geography.exists("91228", date(2018, 12, 31))
    assert geography.exists("91228", date(2019, 1, 1))
    assert geography.exists("74010", date(2017, 1, 1))
    region_11 = geography.pools(date(2018, 6, 1))
    assert all("91228" not in codes for codes in region_11.communes["11"].values())
    assert all("91228" not in codes for codes in region_11.cities["11"].values())
    assert any(
        "91228" in codes for codes in geography.pools(date(2019, 6, 1)).cities["11"].values()
    )


def test_the_pools_are_grouped_once_per_period() -> None:
    geography = load_geography()
    assert geography.pools(date(2020, 3, 2)) is geography.pools(date(2020, 6, 30))
    assert geography.pools(date(2018, 12, 31)) is not geography.pools(date(2019, 1, 1))


def test_a_zoning_file_given_by_path_is_one_vintage_for_every_date() -> None:
    txs = tuple(generate(units=3000, seed=2017, zoning_path=REFERENCE / "zonage-abc-2024-07.csv"))
    latest = VINTAGES[-1][1]
    for tx in _entries(txs):
        day = date.fromisoformat(tx["date"])
        for unit in tx["units"]:
            assert unit["zone"] == latest[unit["commune"]], (tx["id"], unit)
            assert absent_on(unit["commune"], day) is None, (tx["id"], unit)


def test_a_zoning_file_without_regions_is_an_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "no-region.csv"
    path.write_text("Code Commune;Nom Commune ;Zone ABC\n75056;Paris;Abis\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no-region.csv: no REG column"):
        load_geography(path)


def test_a_bad_vintages_file_is_an_error_naming_its_line(tmp_path: Path) -> None:
    path = tmp_path / "vintages.csv"
    path.write_text("file;effective;source\nzonage.csv;16/02/2022;x\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"vintages.csv:2: bad row"):
        load_geography(vintages=path)
