"""Eight writers import at once, in eight OS processes, files that conflict.

The ledger starts with a base (entities, units, a business). Then eight files are imported
at the same moment (`processes.Barrier`: each process has loaded the CLI and waits for a
signal). Every file holds independent transactions (acquisitions of its own new units,
the sale of its own unit) and one contested part:

- writers 0, 1, 2 each sell unit C1 to a different buyer (an individual, ESH-B, FUND);
- writers 3 and 4 each divest business BIZ-1 (two different transaction ids);
- writers 5 and 6 both file transaction id SALE-DUP with different content (C2 sold to
  different buyers at different prices);
- writer 7 merges LLI-Y into LLI-X (a merger conflicts with every concurrent write: its
  units are read from the projections), and files ENT-SHARED, which writer 0 files too,
  with the same content (the idempotent re-run of one line by two processes).

Each writer randomly gets `--retries 0` or `--retries 7`. With 7 retries a writer can
never run out of them: it only loses when another writer commits, and there are only 7
others. What must hold, whatever the interleaving:

- every writer exits 0, 1 or 4; exit 4 names the conflict (the unit, business or
  transaction changed by another writer, or the journal that moved under a merger) and
  only happens with `--retries 0`; exit 1 names the line whose transaction re-validation
  found invalid, and its rival is in the journal;
- exactly one sale of C1, one divestment of BIZ-1 and one SALE-DUP are recorded;
- a writer that exited 0 has every one of its transactions in the journal, as filed; a
  writer that failed has none of its own; no id is recorded twice; the counts the winners
  printed add up to the journal;
- holdings equal the reference model's fold of the recorded journal, and `audit verify`
  and `replay --check` pass.

3 scenarios per database by default, 20 with --runslow.
"""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any

import pytest

from tests.reliability import processes as p

WRITERS = 8
FILLER = 40  # independent acquisitions per file: a few hundred ms of validation each
DEFAULT_SCENARIOS = 3
SLOW_SCENARIOS = 20
CONFLICT_WORDS = ("changed by another writer", "the journal moved from position")


def _entity(eid: str, kind: str, region: str | None = "11") -> dict[str, Any]:
    tx = {
        "id": f"ENT-{eid}",
        "type": "register_entity",
        "date": "2017-01-01",
        "entity": eid,
        "name": f"Entity {eid}",
        "kind": kind,
    }
    if region:
        tx["region"] = region
    return tx


def _unit(uid: str, zone: str = "A") -> dict[str, Any]:
    return {"unit_id": uid, "commune": "75056", "zone": zone, "segment": "social"}


def base() -> list[dict[str, Any]]:
    return [
        _entity("ESH-A", "hlm"),
        _entity("ESH-B", "hlm", "84"),
        _entity("FUND", "pension_fund", None),
        _entity("LLI-X", "lli"),
        _entity("LLI-Y", "lli"),
        {
            "id": "OPEN-A",
            "type": "register_units",
            "date": "2017-01-01",
            "entity": "ESH-A",
            "units": [_unit("C1"), _unit("C2", "B1")]
            + [_unit(f"F{i}", "C") for i in range(WRITERS)],
        },
        {
            "id": "OPEN-Y",
            "type": "register_units",
            "date": "2017-01-01",
            "entity": "LLI-Y",
            "units": [_unit("Y1", "B2"), _unit("Y2", "Abis")],
        },
        {
            "id": "BIZ-1",
            "type": "register_business",
            "date": "2017-01-01",
            "entity": "ESH-A",
            "business": "BIZ-1",
            "name": "Administration de biens",
            "sector": "property_management",
            "headcount": 12,
        },
    ]


SHARED = _entity("SHARED", "other", None)


def contested(writer: int) -> list[dict[str, Any]]:
    """The part of writer `writer`'s file that other writers also want."""
    if writer <= 2:
        buyer = [
            {"category": "individual"},
            {"category": "social_landlord", "entity": "ESH-B"},
            {"category": "institutional", "entity": "FUND"},
        ][writer]
        return [
            {
                "id": f"SALE-C1-W{writer}",
                "type": "sale",
                "date": "2018-03-01",
                "entity": "ESH-A",
                "units": ["C1"],
                "buyer": buyer,
                "price_eur": f"{100000 + writer}.00",
            }
        ] + ([SHARED] if writer == 0 else [])
    if writer <= 4:
        return [
            {
                "id": f"DIV-W{writer}",
                "type": "divestment",
                "date": "2018-03-01",
                "entity": "ESH-A",
                "business": "BIZ-1",
                "buyer": f"Repreneur W{writer}",
                "price_eur": "500000.00",
                "employees_transferred": 12,
                "no_redundancy": True,
            }
        ]
    if writer <= 6:
        return [
            {
                "id": "SALE-DUP",
                "type": "sale",
                "date": "2018-03-01",
                "entity": "ESH-A",
                "units": ["C2"],
                "buyer": {"category": "individual" if writer == 5 else "other"},
                "price_eur": "100000.00" if writer == 5 else "200000.00",
            }
        ]
    return [
        SHARED,
        {
            "id": "MRG-Y",
            "type": "merger",
            "date": "2018-06-01",
            "absorbed": ["LLI-Y"],
            "into": "LLI-X",
        },
    ]


def independent(writer: int) -> list[dict[str, Any]]:
    own: list[dict[str, Any]] = [
        {
            "id": f"ACQ-W{writer}-{k}",
            "type": "acquisition",
            "date": "2018-02-01",
            "entity": "ESH-B",
            "mode": "existing",
            "price_eur": "150000.00",
            "units": [_unit(f"W{writer}-{k}", "B2")],
        }
        for k in range(FILLER)
    ]
    own.append(
        {
            "id": f"SALE-F{writer}",
            "type": "sale",
            "date": "2018-02-15",
            "entity": "ESH-A",
            "units": [f"F{writer}"],
            "buyer": {"category": "sitting_tenant"},
            "price_eur": "90000.00",
        }
    )
    return own


def file_for(writer: int, rng: random.Random) -> list[dict[str, Any]]:
    lines = independent(writer) + contested(writer)
    rng.shuffle(lines)  # every line is independent of the others in its file
    return lines


RECORDED = re.compile(r"recorded (\d+) transaction\(s\) \((\d+) events\), (\d+) already recorded")


def scenario(url: str, folder: Path, seed: int) -> dict[str, dict[int, int]]:
    """Run one scenario; check every promise; return the retries given and exit codes seen."""
    rng = random.Random(seed)
    p.ok(url, "init")
    p.ok(url, "import", str(p.write(folder / "base.jsonl", base())))
    files = {w: file_for(w, rng) for w in range(WRITERS)}
    retries = {w: rng.choice((0, 7)) for w in range(WRITERS)}
    barrier = p.Barrier(folder / "barrier")
    for w in range(WRITERS):
        path = p.write(folder / f"writer-{w}.jsonl", files[w])
        barrier.add(url, "import", "--retries", str(retries[w]), str(path))
    results = dict(enumerate(barrier.release()))
    context = f"seed {seed}, retries {retries}\n" + "\n".join(
        f"writer {w}: {r}" for w, r in results.items()
    )

    recorded = p.assert_intact(url).journal
    by_id = {tx["id"]: tx for tx in recorded}
    shared_ids = {"SALE-DUP", "ENT-SHARED"}
    printed = len(base())
    for w, result in results.items():
        p.assert_no_traceback(result)
        assert result.returncode in (0, 1, 4), context
        own = [tx for tx in files[w] if tx["id"] not in shared_ids]
        if result.returncode == 0:
            for tx in files[w]:
                assert by_id.get(tx["id"]) == tx, (
                    f"writer {w} succeeded but {tx['id']} is not recorded as filed\n{context}"
                )
            counts = RECORDED.search(result.stdout)
            assert counts, context
            assert int(counts[1]) + int(counts[3]) == len(files[w]), context
            printed += int(counts[1])
            continue
        assert not [tx["id"] for tx in own if tx["id"] in by_id], (
            f"writer {w} failed but some of its transactions were recorded\n{context}"
        )
        if result.returncode == 4:
            assert retries[w] == 0, f"writer {w} ran out of 7 retries\n{context}"
            assert any(word in result.stderr for word in CONFLICT_WORDS), context
            named = (
                {f"unit {u}" for tx in files[w] for u in _units(tx)}
                | {f"transaction {tx['id']}" for tx in files[w]}
                | {
                    "business BIZ-1",
                    "entity ESH-A",
                    "entity ESH-B",
                    "entity FUND",
                    "entity SHARED",
                    "entity LLI-X",
                    "entity LLI-Y",
                    "journal moved",
                }
            )
            assert any(n in result.stderr for n in named), (
                f"exit 4 without naming the conflict\n{context}"
            )
        else:
            _assert_lost_fairly(w, result, files[w], by_id, folder, context)
    assert printed == len(recorded), (
        f"printed counts {printed} != journal {len(recorded)}\n{context}"
    )

    assert sum(f"SALE-C1-W{w}" in by_id for w in range(3)) == 1, context
    assert sum(f"DIV-W{w}" in by_id for w in (3, 4)) == 1, context
    assert "SALE-DUP" in by_id, context
    assert by_id["SALE-DUP"] in (contested(5)[0], contested(6)[0]), context
    winners_c1 = [w for w in range(3) if results[w].returncode == 0]
    assert len(winners_c1) == 1, context
    if retries[7]:
        assert results[7].returncode == 0, context
    return {"retries": retries, "exits": {w: r.returncode for w, r in results.items()}}


def _units(tx: dict[str, Any]) -> list[str]:
    units = tx.get("units", [])
    return [u["unit_id"] if isinstance(u, dict) else u for u in units]


def _assert_lost_fairly(
    w: int,
    result: p.Run,
    filed: list[dict[str, Any]],
    by_id: dict[str, Any],
    folder: Path,
    context: str,
) -> None:
    """Exit 1: every error names a line of this file whose transaction a rival took."""
    name = str(folder / f"writer-{w}.jsonl")
    errors = [line for line in result.error_lines if line.startswith(name + ":")]
    assert errors, context
    for error in errors:
        number = int(error[len(name) + 1 :].split(":", 1)[0])
        tx = filed[number - 1]
        assert tx in contested(w), f"an independent line was rejected: {error}\n{context}"
        rivals = {
            "SALE-C1": [f"SALE-C1-W{o}" for o in range(3) if o != w],
            "DIV": [f"DIV-W{o}" for o in (3, 4) if o != w],
            "SALE-DUP": ["SALE-DUP"],
        }
        key = "SALE-DUP" if tx["id"] == "SALE-DUP" else tx["id"].rsplit("-", 1)[0]
        assert any(r in by_id and by_id[r] != tx for r in rivals[key]), (
            f"writer {w} was rejected but no rival recorded its part: {error}\n{context}"
        )
    assert result.error_lines[-1].endswith("nothing was recorded"), context


@pytest.mark.parametrize("trial", range(DEFAULT_SCENARIOS))
def test_eight_concurrent_writers_record_each_contested_right_exactly_once(
    db_url: str, tmp_path: Path, trial: int
) -> None:
    outcome = scenario(db_url, tmp_path, seed=trial)
    p.log("writers", db_url, seed=trial, **outcome)


@pytest.mark.slow
@pytest.mark.parametrize("trial", range(DEFAULT_SCENARIOS, SLOW_SCENARIOS))
def test_eight_concurrent_writers_again_and_again(db_url: str, tmp_path: Path, trial: int) -> None:
    outcome = scenario(db_url, tmp_path, seed=trial)
    p.log("writers", db_url, seed=trial, **outcome)
