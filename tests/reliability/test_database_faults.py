"""Database faults: each one a clear message and exit 4, never a traceback, never half a
transaction written.

- PostgreSQL unreachable (a closed port, a host that does not resolve);
- the PostgreSQL connection terminated by the server (`pg_terminate_backend` from another
  connection) while an import writes the journal (nothing written), while its catch-up
  writes the projections (the journal is committed: the message must say the
  transactions are recorded), or at a random moment (1 trial by default, 19 more with
  --runslow); the shared server itself is never stopped;
- a SQLite file whose write lock another connection holds (`BEGIN IMMEDIATE`): the
  import waits (busy timeout 30 s) and succeeds when the lock goes after 1 s; held for 40 s
  (--runslow) the import gives up with exit 4;
- a read-only SQLite database: opened with `?mode=ro`, on a read-only bind mount, and an
  immutable file (`chattr +i`);
- a full disk: the SQLite file on a 32 MB tmpfs filled to leave 64 KB (the journal write
  fails) or 3 MB (the catch-up fails after the journal commit); 8 more levels with
  --runslow; after each, the space comes back and the same import finishes the job;
- a database written by a newer schema version (every command, and `init`).

The mounts and `chattr` need root (this machine's CI runs as root); where they are not
permitted the test is skipped with the reason.
"""

from __future__ import annotations

import random
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.reliability import processes as p
from tests.support import ADMIN_PG_URL, base_ledger


def acquisitions(count: int, first: int = 0, entity: str = "ESH-A") -> list[dict[str, Any]]:
    return [
        {
            "id": f"ACQ-{n}",
            "type": "acquisition",
            "date": "2019-01-01",
            "entity": entity,
            "mode": "existing",
            "price_eur": "150000.00",
            "units": [
                {
                    "unit_id": f"N-{n}",
                    "commune": "75056",
                    "zone": "A",
                    "segment": "social",
                    "rooms": 3,
                    "surface_m2": "61.50",
                }
            ],
        }
        for n in range(first, first + count)
    ]


def big_block(count: int) -> list[dict[str, Any]]:
    """One acquisition of `count` units: many events written in the journal's one
    transaction, little validation work."""
    return [
        {
            "id": "ACQ-BLOCK",
            "type": "acquisition",
            "date": "2019-01-01",
            "entity": "ESH-A",
            "mode": "vefa",
            "price_eur": "99000000.00",
            "units": [
                {"unit_id": f"B-{n}", "commune": "75056", "zone": "A", "segment": "intermediate"}
                for n in range(count)
            ],
        }
    ]


@pytest.fixture
def ledger_url(db_url: str, tmp_path: Path) -> str:
    p.ok(db_url, "init")
    p.ok(db_url, "import", str(p.write(tmp_path / "base.jsonl", base_ledger())))
    return db_url


def assert_refused(result: p.Run, *words: str) -> None:
    """Exit 4, one `Error:` line on stderr that says what happened, no traceback."""
    p.assert_clean_failure(result, 4)
    assert len(result.error_lines) == 1, str(result)
    assert result.error_lines[0].startswith("Error: "), str(result)
    message = result.error_lines[0].lower()
    assert any(w.lower() in message for w in words), f"expected one of {words}: {result}"


def assert_says_it_was_recorded(result: p.Run) -> None:
    """The journal was committed but the command failed afterwards (the projections'
    catch-up): the user must learn that the transactions ARE recorded, not only "exit 4,
    retry"."""
    said = (result.stdout + result.stderr).lower()
    assert "recorded" in said and "nothing was" not in said, str(result)


# ------------------------------------------------------------------ PostgreSQL


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg2://postgres@127.0.0.1:1/ledger",
        "postgresql+psycopg2://postgres@no-such-host.invalid:5432/ledger",
    ],
    ids=["closed-port", "unknown-host"],
)
@pytest.mark.parametrize(
    "args", [["import", "-"], ["holdings"], ["init"], ["audit", "verify"]], ids=lambda a: a[0]
)
def test_an_unreachable_postgresql_server_exits_4_with_a_clear_message(
    url: str, args: list[str]
) -> None:
    stdin = p.jsonl(base_ledger()) if args == ["import", "-"] else None
    result = p.run(url, *args, stdin=stdin, timeout=60)
    assert_refused(result, "cannot open the database")
    assert "connection" in result.stderr or "host" in result.stderr, str(result)


def _backend(admin: Any, database: str) -> int | None:
    """The backend of an import inside its journal write (the lock, the events, the links)."""
    cursor = admin.cursor()
    cursor.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> "
        "pg_backend_pid() AND xact_start IS NOT NULL AND (query ILIKE "
        "'LOCK TABLE housingledger_events%%' OR query ILIKE "
        "'INSERT INTO housingledger_events%%' OR query ILIKE 'INSERT INTO hl_chain%%')",
        (database,),
    )
    row = cursor.fetchone()
    return int(row[0]) if row else None


def import_terminated_at(
    url: str, block: Path, find: Callable[[Any, str], int | None], moment: str
) -> p.Run:
    """Import `block` and terminate its connection as soon as `find` (admin connection,
    database name) names its backend; the finished run."""
    admin = p.connect(ADMIN_PG_URL)
    try:
        process = p.spawn(url, "import", str(block))
        started = time.perf_counter()
        pid = None
        while pid is None and process.poll() is None:
            pid = find(admin, _database(url))
        assert pid is not None, f"the import finished before it could be caught {moment}"
        _terminate(admin, pid)
        return p.finish(process, ["import", str(block)], started)
    finally:
        admin.close()


def _terminate(admin: Any, pid: int) -> None:
    admin.cursor().execute("SELECT pg_terminate_backend(%s)", (pid,))


def _database(url: str) -> str:
    return url.rsplit("/", 1)[1].split("?")[0]


@pytest.mark.postgres
def test_a_connection_terminated_while_the_journal_is_written_exits_4_and_writes_nothing(
    pg_url: str, tmp_path: Path
) -> None:
    p.ok(pg_url, "init")
    p.ok(pg_url, "import", str(p.write(tmp_path / "base.jsonl", base_ledger())))
    block = p.write(tmp_path / "block.jsonl", big_block(4_000))
    before = p.snapshot(pg_url)
    result = import_terminated_at(pg_url, block, _backend, "in its write")
    assert_refused(result, "terminat", "connection", "server closed")
    assert p.snapshot(pg_url) == before, "a terminated write left part of the import"
    p.ok(pg_url, "import", str(block))
    assert len(p.assert_intact(pg_url).journal) == len(base_ledger()) + 1


def _idle_backend(admin: Any, database: str) -> int | None:
    """The backend of an import idle between two statements (it is validating the file)."""
    cursor = admin.cursor()
    cursor.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid() "
        "AND state IN ('idle', 'idle in transaction')",
        (database,),
    )
    row = cursor.fetchone()
    return int(row[0]) if row else None


@pytest.mark.postgres
def test_a_connection_terminated_while_idle_exits_4_with_the_cause_and_writes_nothing(
    pg_url: str, tmp_path: Path
) -> None:
    """The rollback on the dead connection must not replace the cause with "connection
    already closed" (found by the random trials)."""
    p.ok(pg_url, "init")
    p.ok(pg_url, "import", str(p.write(tmp_path / "base.jsonl", base_ledger())))
    block = p.write(tmp_path / "many.jsonl", acquisitions(5_000))
    before = p.snapshot(pg_url)
    result = import_terminated_at(pg_url, block, _idle_backend, "idle")
    assert_refused(result, "server closed the connection")
    assert "already closed" not in result.stderr, str(result)
    assert p.snapshot(pg_url) == before, "a terminated import left part of its file"
    p.ok(pg_url, "import", str(block))
    assert len(p.assert_intact(pg_url).journal) == len(base_ledger()) + 5_000


def _catch_up_backend(admin: Any, database: str) -> int | None:
    """The backend of a command writing projection rows (COPY or INSERT into hl_ tables,
    the journal's own hl_chain aside)."""
    cursor = admin.cursor()
    cursor.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid() "
        "AND xact_start IS NOT NULL AND (query ILIKE 'COPY hl_%%' OR (query ILIKE "
        "'INSERT INTO hl_%%' AND query NOT ILIKE 'INSERT INTO hl_chain%%'))",
        (database,),
    )
    row = cursor.fetchone()
    return int(row[0]) if row else None


@pytest.mark.postgres
def test_a_connection_terminated_during_the_catch_up_exits_4_and_says_the_import_is_recorded(
    pg_url: str, tmp_path: Path
) -> None:
    p.ok(pg_url, "init")
    p.ok(pg_url, "import", str(p.write(tmp_path / "base.jsonl", base_ledger())))
    before = p.events(pg_url)
    block = p.write(tmp_path / "many.jsonl", acquisitions(3000))

    def catching_up(admin: Any, database: str) -> int | None:
        if p.events(pg_url) == before:  # the journal is not committed yet
            return None
        return _catch_up_backend(admin, database)

    result = import_terminated_at(pg_url, block, catching_up, "in its catch-up")
    assert_refused(result, "recorded")
    assert_says_it_was_recorded(result)
    assert p.events(pg_url) - before == 3000 * 2
    assert len(p.assert_intact(pg_url).journal) == len(base_ledger()) + 3000


def terminate_at_random(url: str, folder: Path, seed: int) -> None:
    rng = random.Random(seed)
    p.ok(url, "init")
    p.ok(url, "import", str(p.write(folder / "base.jsonl", base_ledger())))
    before = p.events(url)
    count = 1500
    block = p.write(folder / "many.jsonl", acquisitions(count))
    admin = p.connect(ADMIN_PG_URL)
    try:
        process = p.spawn(url, "import", str(block))
        started = time.perf_counter()
        time.sleep(rng.uniform(0.3, 1.6))
        pids: list[int] = []
        while process.poll() is None and not pids:
            cursor = admin.cursor()
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                (_database(url),),
            )
            pids = [r[0] for r in cursor.fetchall()]
        for pid in pids:
            _terminate(admin, pid)
        result = p.finish(process, ["import", str(block)], started)
    finally:
        admin.close()
    p.assert_no_traceback(result)
    if result.returncode != 0:
        assert_refused(result, "terminat", "connection", "server closed")
    written = p.events(url) - before
    assert written in (0, count * 2), f"half an import recorded: {written} events"
    if written and result.returncode != 0:
        assert_says_it_was_recorded(result)
    p.ok(url, "import", str(block))
    assert len(p.assert_intact(url).journal) == len(base_ledger()) + count
    p.log(
        "pg-terminate",
        url,
        seed=seed,
        exit=result.returncode,
        after_s=round(result.seconds, 2),
        journal_written=bool(written),
    )


@pytest.mark.postgres
@pytest.mark.parametrize("trial", range(1))
def test_a_connection_terminated_at_a_random_moment_leaves_all_or_nothing(
    pg_url: str, tmp_path: Path, trial: int
) -> None:
    terminate_at_random(pg_url, tmp_path, trial)


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.parametrize("trial", range(1, 20))
def test_a_connection_terminated_at_a_random_moment_again_and_again(
    pg_url: str, tmp_path: Path, trial: int
) -> None:
    terminate_at_random(pg_url, tmp_path, trial)


# ------------------------------------------------------------------ SQLite write lock


@contextmanager
def write_lock_held(url: str) -> Iterator[Any]:
    conn = p.connect(url)
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    finally:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        conn.close()


def test_an_import_waits_for_another_writers_lock_then_records(
    sqlite_url: str, tmp_path: Path
) -> None:
    p.ok(sqlite_url, "import", str(p.write(tmp_path / "base.jsonl", base_ledger())))
    more = p.write(tmp_path / "more.jsonl", acquisitions(20))
    with write_lock_held(sqlite_url) as other:
        process = p.spawn(sqlite_url, "import", str(more))
        started = time.perf_counter()
        time.sleep(1.5)  # the CLI's own start-up takes ~0.5 s: it has been waiting ~1 s
        assert process.poll() is None, "the import did not wait for the lock"
        other.execute("COMMIT")
    result = p.finish(process, ["import", str(more)], started, timeout=60)
    assert result.returncode == 0, str(result)
    assert "recorded 20 transaction(s)" in result.stdout
    assert result.seconds >= 1.5
    assert len(p.assert_intact(sqlite_url).journal) == len(base_ledger()) + 20


@pytest.mark.slow
def test_an_import_gives_up_with_exit_4_when_the_lock_outlasts_the_busy_timeout(
    sqlite_url: str, tmp_path: Path
) -> None:
    p.ok(sqlite_url, "import", str(p.write(tmp_path / "base.jsonl", base_ledger())))
    more = p.write(tmp_path / "more.jsonl", acquisitions(20))
    before = p.snapshot(sqlite_url)
    with write_lock_held(sqlite_url):
        result = p.run(sqlite_url, "import", str(more), timeout=120)
        assert_refused(result, "locked")
        assert 29 <= result.seconds <= 60, result.seconds
    assert p.snapshot(sqlite_url) == before


# ------------------------------------------------------------------ read-only


@contextmanager
def read_only_view(folder: Path) -> Iterator[Path]:
    """`folder` seen through a read-only bind mount (root only)."""
    view = folder.parent / (folder.name + "-ro")
    view.mkdir()
    done = subprocess.run(["mount", "--bind", str(folder), str(view)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"bind mounts are not permitted here: {done.stderr.decode().strip()}")
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(view)], check=True)
        yield view
    finally:
        subprocess.run(["umount", str(view)], check=False)


def _sqlite_ledger(folder: Path) -> str:
    folder.mkdir()
    url = f"sqlite:///{folder}/ledger.db"
    p.ok(url, "import", str(p.write(folder.parent / "base.jsonl", base_ledger())))
    return url


def test_an_import_through_a_read_only_connection_exits_4_and_queries_still_answer(
    tmp_path: Path,
) -> None:
    url = _sqlite_ledger(tmp_path / "db")
    expected = p.holdings(url)
    before = p.snapshot(url)
    read_only = url + "?mode=ro"
    result = p.run(read_only, "import", str(p.write(tmp_path / "more.jsonl", acquisitions(3))))
    assert_refused(result, "read-only", "readonly")
    assert p.holdings(read_only) == expected
    assert p.snapshot(url) == before


def test_an_import_into_a_file_on_a_read_only_mount_exits_4(tmp_path: Path) -> None:
    url = _sqlite_ledger(tmp_path / "db")
    before = p.snapshot(url)
    more = p.write(tmp_path / "more.jsonl", acquisitions(3))
    with read_only_view(tmp_path / "db") as view:
        result = p.run(f"sqlite:///{view}/ledger.db", "import", str(more))
    assert_refused(result, "read-only", "readonly", "unable to open")
    assert p.snapshot(url) == before


def test_a_ledger_on_a_read_only_mount_can_be_read_with_mode_ro(tmp_path: Path) -> None:
    """The documented way for an auditor to read a SQLite ledger is `?mode=ro`; a copy
    handed over on read-only storage must be readable that way."""
    url = _sqlite_ledger(tmp_path / "db")
    expected = p.holdings(url)
    with read_only_view(tmp_path / "db") as view:
        result = p.run(f"sqlite:///{view}/ledger.db?mode=ro", "holdings", "--format", "json")
    p.assert_no_traceback(result)
    assert result.returncode == 0, str(result)
    import json

    assert json.loads(result.stdout) == expected


def test_an_import_into_an_immutable_file_exits_4_and_queries_still_answer(tmp_path: Path) -> None:
    url = _sqlite_ledger(tmp_path / "db")
    expected = p.holdings(url)
    before = p.snapshot(url)
    path = p.sqlite_path(url)
    done = subprocess.run(["chattr", "+i", path], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"chattr is not permitted here: {done.stderr.decode().strip()}")
    try:
        result = p.run(url, "import", str(p.write(tmp_path / "more.jsonl", acquisitions(3))))
        queried = p.run(url, "holdings", "--format", "json")
    finally:
        subprocess.run(["chattr", "-i", path], check=True)
    assert_refused(result, "read-only", "readonly")
    p.assert_no_traceback(queried)
    assert queried.returncode == 0, str(queried)
    import json

    assert json.loads(queried.stdout) == expected
    assert p.snapshot(url) == before


# ------------------------------------------------------------------ full disk


@contextmanager
def small_tmpfs(folder: Path, size: str) -> Iterator[Path]:
    folder.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"mounting a tmpfs is not permitted here: {done.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def full_disk_trial(folder: Path, free_kb: int) -> None:
    more = p.write(folder / "more.jsonl", acquisitions(1500))
    with small_tmpfs(folder / "disk", "32m") as disk:
        url = f"sqlite:///{disk}/ledger.db"
        p.ok(url, "import", str(p.write(folder / "base.jsonl", base_ledger())))
        before_events = p.events(url)
        filler = disk / "filler"
        free = shutil.disk_usage(disk).free
        with filler.open("wb") as f:
            f.write(b"\0" * max(0, free - free_kb * 1024))
        result = p.run(url, "import", str(more))
        p.assert_no_traceback(result)
        if result.returncode != 0:
            assert_refused(result, "full")
        filler.unlink()  # (reading a WAL database needs a little room too)
        recorded = p.events(url) - before_events
        assert recorded in (0, 1500 * 2), f"half an import recorded: {recorded} events"
        if recorded and result.returncode != 0:
            assert_says_it_was_recorded(result)
        rerun = p.ok(url, "import", str(more))
        intact = p.assert_intact(url)
        assert len(intact.journal) == len(base_ledger()) + 1500
        p.log(
            "full-disk",
            url,
            free_kb=free_kb,
            exit=result.returncode,
            journal_written=bool(recorded),
            rerun=rerun.stdout.strip(),
        )


@pytest.mark.parametrize("free_kb", [64, 3072])
def test_a_full_disk_exits_4_with_all_or_nothing_and_the_import_finishes_once_space_is_back(
    tmp_path: Path, free_kb: int
) -> None:
    """The import needs a few MB (the journal, its links, then the projections); the disk
    is filled so that it runs out while the journal is written (64 KB left) or while the
    projections catch up (3 MB left)."""
    full_disk_trial(tmp_path, free_kb)


@pytest.mark.slow
@pytest.mark.parametrize("free_kb", [16, 256, 512, 1024, 1536, 2048, 2560, 4096])
def test_a_full_disk_at_other_levels(tmp_path: Path, free_kb: int) -> None:
    full_disk_trial(tmp_path, free_kb)


# ------------------------------------------------------------------ newer schema


def _claim_a_newer_schema(url: str) -> None:
    conn = p.connect(url)
    try:
        conn.cursor().execute("UPDATE hl_meta SET value = '999' WHERE key = 'schema_version'")
    finally:
        conn.close()


def test_a_database_written_by_a_newer_schema_version_is_refused_with_exit_4(
    ledger_url: str, tmp_path: Path
) -> None:
    more = str(p.write(tmp_path / "more.jsonl", acquisitions(3)))
    _claim_a_newer_schema(ledger_url)
    before = p.snapshot(ledger_url)
    for args in (
        ["import", more],
        ["holdings"],
        ["replay", "--check"],
        ["audit", "verify"],
        ["journal"],
        ["report", "movements", "--year", "2018"],
    ):
        result = p.run(ledger_url, *args)
        assert_refused(result, "newer")
        assert "999" in result.stderr
    assert p.snapshot(ledger_url) == before


def test_init_refuses_a_database_written_by_a_newer_schema_version(ledger_url: str) -> None:
    _claim_a_newer_schema(ledger_url)
    before = p.snapshot(ledger_url)
    result = p.run(ledger_url, "init")
    assert_refused(result, "newer")
    assert p.snapshot(ledger_url) == before
