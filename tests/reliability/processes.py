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
- `Fleet` / `fleet(url, folder, plans, seconds)`: tens of workers, each an OS process
  forked from one that has loaded the CLI, running commands at once (the soak, the
  failover drill's writer), every command's exit, output and timing kept.

Nothing here imports the product: the trials must see what a user sees.
"""

from __future__ import annotations

import json
import math
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


# ------------------------------------------------------------------ fleets: many commands at once

# A fleet's parent process imports the CLI, runs a few warm-up commands (so every module a
# command needs is loaded once), then forks one child per worker: forty workers start in a
# fraction of a second on two cores instead of forty interpreter start-ups. Each child is
# an OS process of its own with its own connections; it runs its commands one after the
# other through click's runner (the same `main` as the console script) and writes one JSON
# line per command as soon as it is done.
_FLEET = r"""
import json, os, sys, time, traceback
from click.testing import CliRunner
import cli
spec = json.load(open(sys.argv[1]))
for module in spec["modules"]:
    __import__(module)
for args in spec["warm"]:
    CliRunner().invoke(cli.main, args)


def run_worker(n, worker):
    seconds, commands = spec["seconds"], worker["commands"]
    deadline = None if seconds is None else time.monotonic() + seconds
    with open(worker["out"], "w", encoding="utf-8") as out:
        i = 0
        while commands and (worker["cycle"] or i < len(commands)):
            if deadline is not None and time.monotonic() >= deadline:
                break
            args = ["--db", spec["url"], *commands[i % len(commands)]]
            start = time.monotonic()
            result = CliRunner().invoke(cli.main, args, prog_name="housing-ledger")
            end = time.monotonic()
            stderr = result.stderr
            if result.exception is not None and not isinstance(result.exception, SystemExit):
                stderr += "".join(traceback.format_exception(*result.exc_info))
            out.write(json.dumps({"worker": n, "args": args[2:], "exit": result.exit_code,
                                  "stdout": result.stdout, "stderr": stderr,
                                  "start": start, "end": end}) + "\n")
            out.flush()
            i += 1


read_end, write_end = os.pipe()
children = []
for n, worker in enumerate(spec["workers"]):
    pid = os.fork()
    if pid == 0:
        os.close(write_end)
        os.read(read_end, 1)
        code = 0
        try:
            run_worker(n, worker)
        except BaseException:
            traceback.print_exc()
            code = 70
        sys.stdout.flush(); sys.stderr.flush()
        os._exit(code)
    children.append(pid)
os.close(read_end)
with open(spec["started"], "w") as f:
    f.write(repr(time.monotonic()))
os.write(write_end, b"g" * len(children))
failed = [pid for pid in children if os.waitpid(pid, 0)[1] != 0]
sys.exit(1 if failed else 0)
"""


@dataclass
class Done:
    """One command a fleet worker ran: its arguments (without --db), exit code, output, and
    when it started and ended (time.monotonic(), one clock for every process)."""

    worker: int
    args: list[str]
    returncode: int
    stdout: str
    stderr: str
    start: float
    end: float

    @property
    def seconds(self) -> float:
        return self.end - self.start

    def __str__(self) -> str:
        return (
            f"worker {self.worker}: housing-ledger {' '.join(self.args)} -> exit "
            f"{self.returncode} in {self.seconds:.2f} s\n--- stdout\n{self.stdout[-2000:]}\n"
            f"--- stderr\n{self.stderr[-2000:]}"
        )


@dataclass
class Plan:
    """What one fleet worker runs: its commands in order, once (`cycle=False`) or round
    and round until the fleet's time is up."""

    commands: list[list[str]]
    cycle: bool = False


class Fleet:
    """Workers running CLI commands at the same time against one ledger, each in its own
    forked process: `start()`, then `wait()` for every command's `Done`, per worker.

    With `seconds`, a worker starts no new command once that long has passed since the
    workers were released; without, each runs its commands to the end."""

    def __init__(self, url: str, folder: Path, plans: Sequence[Plan], seconds: float | None):
        self.url, self.folder, self.plans, self.seconds = url, folder, plans, seconds
        folder.mkdir(parents=True, exist_ok=True)
        self.started_file = folder / "started"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        warm_db = f"sqlite:///{self.folder}/warm.db"
        empty = self.folder / "empty.jsonl"
        empty.write_bytes(b"")
        spec = {
            "url": self.url,
            "seconds": self.seconds,
            "started": str(self.started_file),
            "modules": ["psycopg2", "psycopg2.extras"] if is_pg(self.url) else [],
            "warm": [
                ["--db", warm_db, "init"],
                ["--db", warm_db, "import", str(empty)],
                ["--db", warm_db, "holdings", "--format", "json"],
                ["--db", warm_db, "units", "--format", "json"],
                ["--db", warm_db, "history", "X", "--format", "json"],
                ["--db", warm_db, "report", "movements", "--year", "2018", "--format", "json"],
                ["--db", warm_db, "report", "sales", "--year", "2018", "--format", "json"],
            ],
            "workers": [
                {
                    "commands": plan.commands,
                    "cycle": plan.cycle,
                    "out": str(self.folder / f"worker-{n}.jsonl"),
                }  # fmt: skip
                for n, plan in enumerate(self.plans)
            ],
        }
        (self.folder / "fleet.json").write_text(json.dumps(spec), encoding="utf-8")
        self.process = subprocess.Popen(
            [sys.executable, "-c", _FLEET, str(self.folder / "fleet.json")],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=_env(),
            cwd=REPO,
            start_new_session=True,  # its own process group: stop() ends the workers too
        )

    def released_at(self, timeout: float = 120) -> float:
        """When the workers were released (time.monotonic()), waiting for it."""
        deadline = time.monotonic() + timeout
        while not self.started_file.exists() or not self.started_file.read_text():
            assert self.process is not None and self.process.poll() is None, self.failure()
            assert time.monotonic() < deadline, "the fleet never released its workers"
            time.sleep(0.01)
        return float(self.started_file.read_text())

    def failure(self) -> str:
        if self.process is None or self.process.poll() is None:
            return "the fleet is running"
        out, err = self.process.communicate()
        return f"the fleet exited {self.process.returncode}\n{err.decode()[-3000:]}"

    def wait(self, timeout: float = TIMEOUT) -> list[list[Done]]:
        assert self.process is not None, "start() first"
        try:
            out, err = self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise
        assert self.process.returncode == 0, f"a fleet worker crashed\n{err.decode()[-3000:]}"
        return [self.results(n) for n in range(len(self.plans))]

    def results(self, n: int) -> list[Done]:
        path = self.folder / f"worker-{n}.jsonl"
        if not path.exists():
            return []
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        return [
            Done(r["worker"], r["args"], r["exit"], r["stdout"], r["stderr"], r["start"], r["end"])
            for r in rows
        ]

    def stop(self) -> None:
        """Kill the fleet's process group (its workers) if it still runs: a failing
        test's clean-up."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.communicate(timeout=60)


def fleet(
    url: str, folder: Path, plans: Sequence[Plan], seconds: float | None = None
) -> list[list[Done]]:
    """Run a fleet to the end: every worker's commands, per worker."""
    crew = Fleet(url, folder, plans, seconds)
    crew.start()
    try:
        return crew.wait()
    finally:
        crew.stop()


def percentiles(seconds: Sequence[float]) -> dict[str, float]:
    """p50 and p99 (nearest rank), in milliseconds."""
    ordered = sorted(seconds)
    if not ordered:
        return {"n": 0, "p50_ms": 0.0, "p99_ms": 0.0}

    def rank(q: float) -> float:
        return ordered[max(0, math.ceil(q * len(ordered)) - 1)]

    return {"n": len(ordered), "p50_ms": rank(0.50) * 1000, "p99_ms": rank(0.99) * 1000}
