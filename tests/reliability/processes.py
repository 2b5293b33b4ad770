"""The reliability trials drive the real command line in OS processes, and look at the
database from outside with the plain drivers.

- `run(url, *args)`: one `python -m cli --db URL ...` process, waited for.
- `spawn(url, *args)`: a process left running, to kill it or to race it.
- `Barrier`: processes that import the CLI first and then wait on a file, so that several
  writers validate and write truly at the same moment (the interpreter's start-up would
  otherwise spread them over half a second).
- `journal(url)`, `holdings(url)`, `assert_intact(url)`: the transactions actually recorded
  (read back with `journal --format jsonl`), holdings as printed, and the three checks every
  trial ends with: `audit verify`, `replay --check`, and holdings equal to the reference
  model's fold of the recorded journal.
- `snapshot(url)`: the journal and every projection table, to prove "nothing written".

Nothing here imports the product: the trials must see what a user sees.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests import reference_model

REPO = Path(__file__).resolve().parents[2]
EVENTS = "housingledger_events"
TIMEOUT = 300


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "HOUSING_LEDGER_DB"}
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("PYTHONWARNINGS", None)
    return env


@dataclass
class Run:
    args: Sequence[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    def __str__(self) -> str:
        return (
            f"housing-ledger {' '.join(self.args)} -> exit {self.returncode} "
            f"in {self.seconds:.1f} s\n--- stdout\n{self.stdout[-3000:]}\n"
            f"--- stderr\n{self.stderr[-3000:]}"
        )

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]


def command(url: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "cli", "--db", url, *args]


def run(
    url: str,
    *args: str,
    stdin: bytes | None = None,
    timeout: float = TIMEOUT,
    cwd: Path | None = None,
) -> Run:
    started = time.perf_counter()
    done = subprocess.run(
        command(url, *args),
        input=stdin,
        capture_output=True,
        timeout=timeout,
        env=_env(),
        cwd=cwd or REPO,
    )
    return Run(
        args,
        done.returncode,
        done.stdout.decode("utf-8", "replace"),
        done.stderr.decode("utf-8", "replace"),
        time.perf_counter() - started,
    )


def ok(url: str, *args: str, **kwargs: Any) -> Run:
    result = run(url, *args, **kwargs)
    assert result.returncode == 0, str(result)
    return result


def spawn(url: str, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        command(url, *args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env(), cwd=REPO
    )


def finish(
    process: subprocess.Popen[bytes], args: Sequence[str], started: float, timeout: float = TIMEOUT
) -> Run:
    out, err = process.communicate(timeout=timeout)
    return Run(
        args,
        process.returncode,
        out.decode("utf-8", "replace"),
        err.decode("utf-8", "replace"),
        time.perf_counter() - started,
    )


def kill(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the process (it may have finished already) and reap it."""
    if process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)
    process.communicate(timeout=60)


# The waiting room: import the whole CLI, say "ready", wait for "go", then run main().
_WAIT_THEN_RUN = """
import os, sys, time
import cli
ready, go = sys.argv[1], sys.argv[2]
open(ready, "w").close()
deadline = time.monotonic() + 120
while not os.path.exists(go) and time.monotonic() < deadline:
    time.sleep(0.002)
cli.main(sys.argv[3:], prog_name="housing-ledger")
"""


class Barrier:
    """Start processes that load the CLI, then release them all at once."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.go = folder / "go"
        self.waiting: list[tuple[subprocess.Popen[bytes], list[str], Path]] = []

    def add(self, url: str, *args: str) -> None:
        ready = self.folder / f"ready-{len(self.waiting)}"
        argv = ["--db", url, *args]
        process = subprocess.Popen(
            [sys.executable, "-c", _WAIT_THEN_RUN, str(ready), str(self.go), *argv],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=_env(),
            cwd=REPO,
        )
        self.waiting.append((process, list(args), ready))

    def release(self, timeout: float = TIMEOUT) -> list[Run]:
        deadline = time.monotonic() + 120
        while not all(r.exists() for _, _, r in self.waiting):
            assert time.monotonic() < deadline, "a writer never became ready"
            time.sleep(0.01)
        started = time.perf_counter()
        self.go.touch()
        return [finish(p, args, started, timeout) for p, args, _ in self.waiting]


# ------------------------------------------------------------------ reading the ledger


def journal(url: str) -> list[dict[str, Any]]:
    """The transactions recorded, in journal order, as filed (without the `journal` key)."""
    result = ok(url, "journal", "--format", "jsonl")
    rows = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    for row in rows:
        row.pop("journal")
    return rows


def holdings(url: str, *args: str) -> dict[str, Any]:
    result = ok(url, "holdings", "--format", "json", *args)
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def replay_digest(url: str) -> str:
    """`replay --check` must pass; its digest of the state rebuilt from the journal."""
    result = run(url, "replay", "--check", "--format", "json")
    assert result.returncode == 0, str(result)
    summary = json.loads(result.stdout)
    assert summary["check"] == "ok", summary
    return str(summary["digest"])


@dataclass
class Intact:
    journal: list[dict[str, Any]]
    holdings: dict[str, Any]
    digest: str


def assert_intact(url: str) -> Intact:
    """The journal's chain holds, the projections equal a replay, and holdings equal the
    reference model's fold of the transactions actually recorded."""
    verified = run(url, "audit", "verify")
    assert verified.returncode == 0, str(verified)
    digest = replay_digest(url)
    recorded = journal(url)
    ids = [tx["id"] for tx in recorded]
    assert len(ids) == len(set(ids)), "a transaction id appears twice in the journal"
    held = holdings(url)
    assert held["rows"] == reference_model.holdings(recorded)
    return Intact(recorded, held, digest)


def assert_no_traceback(result: Run) -> None:
    assert "Traceback" not in result.stderr, str(result)
    assert "Traceback" not in result.stdout, str(result)


def assert_clean_failure(result: Run, code: int) -> None:
    """Exit `code`, an explanation on stderr, no traceback."""
    assert result.returncode == code, str(result)
    assert_no_traceback(result)
    assert result.error_lines, f"exit {code} without a word on stderr\n{result}"


# ------------------------------------------------------------------ the database, raw


def is_pg(url: str) -> bool:
    return url.startswith("postgresql")


def sqlite_path(url: str) -> str:
    return re.sub(r"^sqlite:///", "", url).split("?")[0]


def connect(url: str) -> Any:
    """A plain DBAPI connection (sqlite3 or psycopg2), outside the product."""
    if is_pg(url):
        import psycopg2
        from sqlalchemy.engine import make_url

        args = make_url(url).translate_connect_args(username="user", database="dbname")
        conn = psycopg2.connect(connect_timeout=5, **args)
        conn.autocommit = True
        return conn
    return sqlite3.connect(sqlite_path(url), timeout=60, isolation_level=None)


def _query(conn: Any, pg: bool, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    cursor = conn.cursor()
    cursor.execute(sql.replace("?", "%s") if pg else sql, tuple(params))
    return list(cursor.fetchall())


def query(url: str, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    conn = connect(url)
    try:
        return _query(conn, is_pg(url), sql, params)
    finally:
        conn.close()


def events(url: str) -> int:
    """How many events the journal holds (its size)."""
    return int(query(url, f"SELECT COUNT(*) FROM {EVENTS}")[0][0])


def projected_position(url: str) -> int:
    rows = query(url, "SELECT value FROM hl_meta WHERE key = 'projection_position'")
    return int(rows[0][0]) if rows else 0


def _tables(conn: Any, pg: bool) -> list[str]:
    if pg:
        rows = _query(
            conn, pg, "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
        )
    else:
        rows = _query(conn, pg, "SELECT name FROM sqlite_master WHERE type = 'table'")
    return sorted(r[0] for r in rows if r[0].startswith("hl_") or r[0] == EVENTS)


def _cell(value: Any) -> Any:
    if isinstance(value, memoryview | bytes | bytearray):
        return bytes(value).hex()
    return value if value is None or isinstance(value, int | float) else str(value)


def snapshot(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the journal and of every hl_ table, sorted: equal snapshots mean
    nothing was written."""
    pg, conn = is_pg(url), connect(url)
    try:
        out: dict[str, list[tuple[Any, ...]]] = {}
        for table in _tables(conn, pg):
            rows = _query(conn, pg, f"SELECT * FROM {table}")
            out[table] = sorted((tuple(_cell(v) for v in r) for r in rows), key=repr)
        return out
    finally:
        conn.close()


def log(trial: str, url: str, **figures: Any) -> None:
    """Append a trial's figures to $HL_RELIABILITY_LOG (JSON lines), when it is set: the
    counts in docs/reliability.md come from there."""
    target = os.environ.get("HL_RELIABILITY_LOG")
    if target:
        with open(target, "a", encoding="utf-8") as f:
            f.write(
                json.dumps(
                    {"trial": trial, "db": "postgresql" if is_pg(url) else "sqlite", **figures},
                    default=str,
                )
                + "\n"
            )


def jsonl(transactions: Iterable[dict[str, Any]]) -> bytes:
    return ("\n".join(json.dumps(t, ensure_ascii=False) for t in transactions) + "\n").encode()


def write(path: Path, transactions: Iterable[dict[str, Any]]) -> Path:
    path.write_bytes(jsonl(transactions))
    return path
