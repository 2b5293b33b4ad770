"""SIGKILL a streamed import at each of its commit points (issue 17).

A streamed import (JSON Lines, `Recorder.record`; RPLS, `Recorder.record_stream`) writes
its events chunk by chunk inside ONE database transaction that holds the journal's write
lock (docs/decisions/0012-streamed-import.md). Its points of interest are after each
chunk written (not committed), just before the commit, and just after it. The process
kills itself there (the `HOUSING_LEDGER_FAULT` fault point of ledger/storage/eventstore.py:
no chance to clean up), and then:

- killed before its commit: the ledger holds exactly what it held before (journal and
  chain rows equal), the chain verifies, `replay --check` passes, holdings equal the
  reference model's fold, and a re-run records the whole file;
- killed just after its commit: the whole file is recorded, the same checks pass, and a
  re-run records nothing more.

Each trial logs its figures to $HL_RELIABILITY_LOG (docs/reliability.md). A few kill
points in a default run; every chunk boundary with --runslow.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.reliability import processes as p

FAULT = "HOUSING_LEDGER_FAULT"
CHUNK = "HOUSING_LEDGER_IMPORT_CHUNK"
JSONL_CHUNK = 10  # transactions per write: several chunks in a small demo
DEMO_UNITS = 400
RPLS_UNITS = 10_500  # two register_units transactions of an RPLS file (10,000 at most)
EXAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "example.jsonl"


def killed_run(url: str, fault: str, *args: str) -> p.Run:
    """Run the command with the fault point set; it must die by SIGKILL there."""
    env = {k: v for k, v in os.environ.items() if k != "HOUSING_LEDGER_DB"}
    env["PYTHONPATH"] = str(p.REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env[FAULT] = fault
    env[CHUNK] = str(JSONL_CHUNK)
    done = subprocess.run(
        [sys.executable, "-m", "cli", "--db", url, *args],
        capture_output=True,
        timeout=p.TIMEOUT,
        env=env,
        cwd=p.REPO,
    )
    run = p.Run(args, done.returncode, done.stdout.decode(), done.stderr.decode(), 0.0)
    assert done.returncode == -9, f"not killed at {fault}\n{run}"
    return run


def journal_rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """The journal and its chain, row by row: what a commit changes."""
    snap = p.snapshot(url)
    return {t: rows for t, rows in snap.items() if t in (p.EVENTS, "hl_chain")}


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A demo file cut in two: what is committed before the trial, and the whole file."""
    folder = tmp_path_factory.mktemp("streamed")
    whole = folder / "demo.jsonl"
    p.ok(f"sqlite:///{folder}/scratch.db", "demo", "--units", str(DEMO_UNITS), "--output",
         str(whole))  # fmt: skip
    txs = lines(whole)
    assert len(txs) * 2 // 3 > 8 * JSONL_CHUNK, len(txs)
    before = p.write(folder / "before.jsonl", txs[: len(txs) // 3])
    return before, whole


@pytest.fixture(scope="module")
def rpls_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("rpls") / "esh.csv"
    rows = ["rpls_id;si_id;right;commune;zone;segment;rooms;surface_m2;year_built;exit_reason"]
    rows += [f"09306{i:05d};U-{i:05d};1;93066;A;;3;64.50;1972;9" for i in range(RPLS_UNITS)]
    path.write_text("\n".join(rows) + "\n", "utf-8")
    return path


def jsonl_trial(url: str, demo: tuple[Path, Path], fault: str) -> dict[str, Any]:
    before_file, whole = demo
    p.ok(url, "import", str(before_file))
    before = journal_rows(url)
    killed_run(url, fault, "import", str(whole))
    after = journal_rows(url)
    expected = lines(whole)
    if fault == "committed":
        assert len(after[p.EVENTS]) > len(before[p.EVENTS])
        intact = p.assert_intact(url)
        assert intact.journal == expected
        again = p.ok(url, "import", str(whole))
        assert f"0 transaction(s) (0 events), {len(expected)} already" in again.stdout, again
    else:
        assert after == before, f"killed at {fault}: the journal changed"
        intact = p.assert_intact(url)
        assert intact.journal == lines(before_file)
        p.ok(url, "import", str(whole))
    final = p.assert_intact(url)
    assert final.journal == expected
    return {"fault": fault, "transactions_checked": len(final.journal)}


def rpls_trial(url: str, path: Path, fault: str) -> dict[str, Any]:
    entities = p.write(path.parent / "entities.jsonl", lines(EXAMPLE)[:6])
    p.ok(url, "import", str(entities))
    before = journal_rows(url)
    args = ("import", "--format", "rpls", "--entity", "ESH-IDF", "--as-of", "2017-01-01")
    killed_run(url, fault, *args, str(path))
    after = journal_rows(url)
    if fault == "committed":
        assert len(after[p.EVENTS]) == len(before[p.EVENTS]) + RPLS_UNITS + 2
        p.assert_intact(url)
        again = p.ok(url, *args, str(path))
        assert "0 transaction(s) (0 events), 2 already" in again.stdout, again
    else:
        assert after == before, f"killed at {fault}: the journal changed"
        p.assert_intact(url)
        p.ok(url, *args, str(path))
    final = p.assert_intact(url)
    assert [tx["type"] for tx in final.journal[6:]] == ["register_units"] * 2
    units = sum(len(tx["units"]) for tx in final.journal[6:])
    assert units == RPLS_UNITS
    return {"fault": fault, "transactions_checked": len(final.journal), "units": units}


@pytest.mark.parametrize("fault", ["write:2", "committed"])
def test_a_jsonl_import_killed_at_a_commit_point_leaves_all_or_nothing(
    db_url: str, demo: tuple[Path, Path], fault: str
) -> None:
    p.log("kill-streamed-import", db_url, kind="jsonl", **jsonl_trial(db_url, demo, fault))


@pytest.mark.slow
@pytest.mark.parametrize("fault", [f"write:{n}" for n in range(1, 9)] + ["commit"])
def test_a_jsonl_import_killed_after_every_chunk(
    db_url: str, demo: tuple[Path, Path], fault: str
) -> None:
    p.log("kill-streamed-import", db_url, kind="jsonl", **jsonl_trial(db_url, demo, fault))


@pytest.mark.parametrize("fault", ["write:1"])
def test_an_rpls_import_killed_at_a_commit_point_leaves_all_or_nothing(
    db_url: str, rpls_file: Path, fault: str
) -> None:
    p.log("kill-streamed-import", db_url, kind="rpls", **rpls_trial(db_url, rpls_file, fault))


@pytest.mark.slow
@pytest.mark.parametrize("fault", ["write:2", "commit", "committed"])
def test_an_rpls_import_killed_at_its_last_points(db_url: str, rpls_file: Path, fault: str) -> None:
    p.log("kill-streamed-import", db_url, kind="rpls", **rpls_trial(db_url, rpls_file, fault))
