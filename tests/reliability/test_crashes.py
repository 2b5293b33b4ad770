"""SIGKILL at random moments: an import, and a query command catching up.

The file is the seeded demo ledger (`demo --units 4000`: about 400 transactions, 6,300
events, so a catch-up runs in 2 batches). What an uninterrupted import gives comes from
the reference model (holdings of the file's transactions).

An import trial starts `import FILE` and kills it (SIGKILL: no chance to clean up) either
at a uniformly random moment over an import's usual duration (start-up included), or at
a random moment just after the journal was committed (polled from outside), during the
projections' catch-up. Then, before anything else runs:

- the journal holds all of the file or none of it, and ends with a whole transaction
  (its last event is a `RecordedTransaction.Recorded`);
- the projections stand at a transaction boundary and equal a replay up to it.

Re-running the same import finishes the job: exit 0, the counts printed say how much was
already recorded, each transaction is in the journal exactly once, in file order; `audit
verify` and `replay --check` pass; holdings equal the reference model's; and every trial,
on either database, ends with the same replay digest.

A catch-up trial records the whole file without projecting it (the write side alone, in
this test process: "another writer"), then kills a `holdings` command while it catches
up (at a random moment, or just after its first batch was committed); the projections
must stand at a transaction boundary, and the next `holdings` answers as the model.

Per database: 4 import trials and 2 catch-up trials by default; 20 and 10 with --runslow.
"""

from __future__ import annotations

import io
import json
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests import reference_model
from tests.reliability import processes as p

UNITS = 4000
IMPORT_TRIALS, IMPORT_TRIALS_SLOW = 4, 20
CATCHUP_TRIALS, CATCHUP_TRIALS_SLOW = 2, 10
RECORDED_TOPIC = "RecordedTransaction.Recorded"


@pytest.fixture(scope="session")
def demo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo")
    target = folder / "demo.jsonl"
    p.ok(f"sqlite:///{folder}/scratch.db", "demo", "--units", str(UNITS), "--output", str(target))
    return target


@dataclass(frozen=True)
class Expected:
    """What an uninterrupted import of the demo file gives, from the reference model."""

    ids: list[str]
    holdings: list[dict[str, Any]]


@pytest.fixture(scope="session")
def expected(demo_file: Path) -> Expected:
    txs = [json.loads(line) for line in demo_file.read_text().splitlines() if line.strip()]
    return Expected([tx["id"] for tx in txs], reference_model.holdings(txs))


# How long an uninterrupted run takes, start-up included: the window the random kills are
# drawn from. A first guess for this 2-core machine, then learnt from the runs the trials
# see complete (an import re-run on an empty journal; a catch-up's first batch).
WINDOW: dict[tuple[str, str], float] = {
    ("import", "sqlite"): 1.3,
    ("import", "postgresql"): 2.0,
    ("catch-up", "sqlite"): 0.6,
    ("catch-up", "postgresql"): 1.0,
}


def kind(url: str) -> str:
    return "postgresql" if p.is_pg(url) else "sqlite"


def record_without_projecting(url: str, data: bytes) -> None:
    """The write side alone, as another process would leave the journal before its
    catch-up: every event recorded, the projections not touched."""
    from cli import Session

    session = Session(url)
    session.current()
    result = session.recorder.record([("demo.jsonl", io.BytesIO(data))])
    assert not result.errors, result.errors[:3]
    session.conn.close()


# ------------------------------------------------------------------ checks after a kill


def last_topic(url: str) -> str | None:
    rows = p.query(url, f"SELECT topic FROM {p.EVENTS} ORDER BY id DESC LIMIT 1")
    return str(rows[0][0]) if rows else None


def assert_projections_at_a_boundary(url: str) -> int:
    """The stored projections equal a replay of the journal up to their position, and
    that position ends a transaction. Read in this process, without any catch-up."""
    from ledger.storage.database import Database
    from ledger.storage.eventstore import SqlEventStore
    from projections.engine.replay import compare, rebuild_in_memory

    position = p.projected_position(url)
    if position:
        topic = p.query(url, f"SELECT topic FROM {p.EVENTS} WHERE id = ?", (position,))
        assert topic and topic[0][0].endswith(RECORDED_TOPIC), position
    conn = Database(url).connect()
    try:
        rebuilt = rebuild_in_memory(SqlEventStore(conn), position)
        assert rebuilt.position == position
        assert compare(conn, position, rebuilt.state) is None
    finally:
        conn.close()
    return position


def recorded_transactions(url: str) -> int:
    return int(
        p.query(
            url, f"SELECT COUNT(*) FROM {p.EVENTS} WHERE topic LIKE ?", (f"%{RECORDED_TOPIC}",)
        )[0][0]
    )


def wait_until(condition: Any, process: Any, deadline: float) -> bool:
    """Poll `condition` from outside while the process runs."""
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if condition():
                return True
        except Exception:  # the schema may not exist yet
            pass
        time.sleep(0.003)
    return False


def assert_whole_file_or_nothing(url: str, expected: Expected, seed: int) -> int:
    """The journal holds every transaction of the file or none, and ends with a whole
    transaction. Returns the number of events."""
    try:
        events = p.events(url)
    except Exception:  # killed before the schema was created
        return 0
    whole = recorded_transactions(url)
    assert whole in (0, len(expected.ids)), (
        f"{whole} of {len(expected.ids)} transactions recorded (seed {seed})"
    )
    if events:
        assert (last_topic(url) or "").endswith(RECORDED_TOPIC), "a transaction cut short"
    return events


def assert_finished(url: str, expected: Expected) -> str:
    intact = p.assert_intact(url)
    assert [tx["id"] for tx in intact.journal] == expected.ids
    assert intact.holdings["rows"] == expected.holdings
    return intact.digest


DIGESTS: set[str] = set()  # the final states' digests, on both databases


def import_trial(url: str, demo: Path, expected: Expected, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    after_commit = seed % 2 == 1
    if p.is_pg(url):
        p.ok(url, "init")  # SQLite: the killed import creates the schema itself
    process = p.spawn(url, "import", str(demo))
    started = time.monotonic()
    if after_commit:
        wait_until(lambda: p.events(url) > 0, process, started + 120)
        time.sleep(rng.uniform(0, 0.25))
    else:
        time.sleep(rng.uniform(0.05, WINDOW["import", kind(url)]))
    finished_first = process.poll() is not None
    p.kill(process)
    killed_at = time.monotonic() - started

    events = assert_whole_file_or_nothing(url, expected, seed)
    position = assert_projections_at_a_boundary(url) if events else 0
    phase = (
        "finished"
        if finished_first
        else "before commit"
        if not events
        else "during catch-up"
        if position < events
        else "after catch-up"
    )

    rerun = p.ok(url, "import", str(demo))
    if not events:  # a whole import: learn how long one takes
        WINDOW["import", kind(url)] = 0.95 * rerun.seconds
    done = len(expected.ids)
    said = (
        f"recorded {0 if events else done} transaction(s)",
        f"{done if events else 0} already recorded",
    )
    assert all(e in rerun.stdout for e in said), f"{rerun}\nexpected {said}"
    digest = assert_finished(url, expected)
    DIGESTS.add(digest)
    assert len(DIGESTS) == 1, "two trials ended in different states"
    return {"killed_after_s": round(killed_at, 3), "phase": phase, "projected_at_kill": position}


def catch_up_trial(url: str, demo: Path, expected: Expected, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    p.ok(url, "init")
    record_without_projecting(url, demo.read_bytes())
    events = p.events(url)
    assert p.projected_position(url) == 0
    process = p.spawn(url, "holdings", "--format", "json")
    started = time.monotonic()
    if seed % 2:  # as soon as the first batch is committed: during the next one
        if wait_until(lambda: p.projected_position(url) > 0, process, started + 120):
            WINDOW["catch-up", kind(url)] = 1.2 * (time.monotonic() - started)
    else:
        time.sleep(rng.uniform(0.05, WINDOW["catch-up", kind(url)]))
    finished_first = process.poll() is not None
    p.kill(process)
    killed_at = time.monotonic() - started

    assert p.events(url) == events, "a catch-up changed the journal"
    position = assert_projections_at_a_boundary(url)
    assert p.holdings(url)["rows"] == expected.holdings
    digest = assert_finished(url, expected)
    DIGESTS.add(digest)
    assert len(DIGESTS) == 1, "two trials ended in different states"
    phase = "finished" if finished_first else f"projected {position} of {events}"
    return {"killed_after_s": round(killed_at, 3), "phase": phase}


@pytest.mark.parametrize("trial", range(IMPORT_TRIALS))
def test_a_killed_import_rerun_records_each_transaction_exactly_once(
    db_url: str, demo_file: Path, expected: Expected, trial: int
) -> None:
    p.log("kill-import", db_url, seed=trial, **import_trial(db_url, demo_file, expected, trial))


@pytest.mark.slow
@pytest.mark.parametrize("trial", range(IMPORT_TRIALS, IMPORT_TRIALS_SLOW))
def test_a_killed_import_rerun_records_each_transaction_exactly_once_many_times(
    db_url: str, demo_file: Path, expected: Expected, trial: int
) -> None:
    p.log("kill-import", db_url, seed=trial, **import_trial(db_url, demo_file, expected, trial))


@pytest.mark.parametrize("trial", range(CATCHUP_TRIALS))
def test_a_catch_up_killed_midway_leaves_whole_batches_and_the_next_command_finishes_it(
    db_url: str, demo_file: Path, expected: Expected, trial: int
) -> None:
    p.log(
        "kill-catch-up",
        db_url,
        seed=trial,
        **catch_up_trial(db_url, demo_file, expected, 1000 + trial),
    )


@pytest.mark.slow
@pytest.mark.parametrize("trial", range(CATCHUP_TRIALS, CATCHUP_TRIALS_SLOW))
def test_a_catch_up_killed_midway_again_and_again(
    db_url: str, demo_file: Path, expected: Expected, trial: int
) -> None:
    p.log(
        "kill-catch-up",
        db_url,
        seed=trial,
        **catch_up_trial(db_url, demo_file, expected, 1000 + trial),
    )
