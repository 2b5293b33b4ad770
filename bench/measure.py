"""Small tools for the benchmark: clocks, medians, scratch databases, child processes for
peak memory, the machine description and the results table.

Rules of this harness (the machine is noisy): every figure is the median of several
repetitions, and our figure and its baselines are measured side by side in the same
process within each repetition, so a claim is a ratio, never one absolute time.
"""

from __future__ import annotations

import gc
import json
import os
import platform
import secrets
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parents[1]
T = TypeVar("T")

# --------------------------------------------------------------------------- clocks


def timed(fn: Callable[[], T], collect: bool = True) -> tuple[float, T]:
    """(seconds, result) of one call, after a full collection (unless `collect` is false,
    for short queries timed in a loop) so that garbage left by the previous measurement
    is not charged to this one. The collector stays enabled."""
    if collect:
        gc.collect()
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def spread(values: Sequence[float]) -> str:
    """min-max of the repetitions, for the JSON results."""
    return f"{min(values):.6g}..{max(values):.6g}" if values else ""


# --------------------------------------------------------------------------- scratch DBs


class Scratch:
    """Throw-away databases for one run. Each label gets its own database (SQLite file,
    or PostgreSQL database `hl_bench_<random>_<label>`); `close` drops them all."""

    dialect = ""

    def url(self, label: str) -> str:  # pragma: no cover - interface
        raise NotImplementedError

    def drop(self, label: str) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def raw(self, label: str) -> Any:
        """A plain DBAPI connection (autocommit off) to the label's database."""
        raise NotImplementedError

    def size(self, label: str) -> int:
        """Bytes on disk of the label's database."""
        raise NotImplementedError

    def clone(self, source: str, label: str) -> None:
        """A copy of the source's database (no connection may be open to it on PostgreSQL)."""
        raise NotImplementedError

    def close(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    @property
    def where(self) -> str:
        raise NotImplementedError


class SqliteScratch(Scratch):
    dialect = "sqlite"

    def __init__(self, keep: bool = False, directory: str | None = None) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="hl_bench_", dir=directory))
        self.keep = keep

    def path(self, label: str) -> Path:
        return self.dir / f"{label}.db"

    def url(self, label: str) -> str:
        return f"sqlite:///{self.path(label)}"

    def raw(self, label: str) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path(label), isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")  # as the ledger's own connections
        return conn

    def clone(self, source: str, label: str) -> None:
        self.drop(label)
        src = sqlite3.connect(self.path(source))
        dst = sqlite3.connect(self.path(label))
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=WAL")
        dst.close()
        src.close()

    def drop(self, label: str) -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(str(self.path(label)) + suffix).unlink(missing_ok=True)

    def size(self, label: str) -> int:
        return sum(
            p.stat().st_size
            for p in (Path(str(self.path(label)) + s) for s in ("", "-wal"))
            if p.exists()
        )

    def close(self) -> None:
        if not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)

    @property
    def where(self) -> str:
        return str(self.dir)


class PostgresScratch(Scratch):
    dialect = "postgresql"

    def __init__(self, server: str, keep: bool = False) -> None:
        import psycopg2
        from sqlalchemy.engine import make_url

        self.server = make_url(server)
        self.prefix = f"hl_bench_{secrets.token_hex(4)}"
        self.keep = keep
        self.created: list[str] = []
        args = self.server.translate_connect_args(username="user", database="dbname")
        args["dbname"] = "postgres"
        self.admin = psycopg2.connect(**args)
        self.admin.autocommit = True

    def name(self, label: str) -> str:
        return self.prefix if label == "main" else f"{self.prefix}_{label}"

    def url(self, label: str) -> str:
        name = self.name(label)
        if name not in self.created:
            with self.admin.cursor() as cur:
                cur.execute(f'CREATE DATABASE "{name}"')
            self.created.append(name)
        return self.server.set(database=name).render_as_string(hide_password=False)

    def raw(self, label: str) -> Any:
        import psycopg2

        self.url(label)
        args = self.server.translate_connect_args(username="user", database="dbname")
        args["dbname"] = self.name(label)
        return psycopg2.connect(**args)

    def clone(self, source: str, label: str) -> None:
        self.drop(label)
        name = self.name(label)
        with self.admin.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.name(source)}"')
        self.created.append(name)

    def drop(self, label: str) -> None:
        name = self.name(label)
        if name in self.created:
            with self.admin.cursor() as cur:
                cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            self.created.remove(name)

    def size(self, label: str) -> int:
        with self.admin.cursor() as cur:
            cur.execute("SELECT pg_database_size(%s)", (self.name(label),))
            return int(cur.fetchone()[0])

    def server_version(self) -> str:
        with self.admin.cursor() as cur:
            cur.execute("SHOW server_version")
            return str(cur.fetchone()[0])

    def setting(self, name: str) -> str:
        with self.admin.cursor() as cur:
            cur.execute(f"SHOW {name}")
            return str(cur.fetchone()[0])

    def close(self) -> None:
        if not self.keep:
            for name in list(self.created):
                with self.admin.cursor() as cur:
                    cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                self.created.remove(name)
        self.admin.close()

    @property
    def where(self) -> str:
        return f"{self.server.render_as_string(hide_password=True)} databases {self.prefix}*"


@contextmanager
def scratch(db: str, server: str, keep: bool, directory: str | None) -> Iterator[Scratch]:
    s: Scratch = SqliteScratch(keep, directory) if db == "sqlite" else PostgresScratch(server, keep)
    try:
        yield s
    finally:
        s.close()


# --------------------------------------------------------------------------- peak memory


def run_child(*args: str, timeout: float = 6 * 3600) -> dict[str, Any]:
    """Run `bench/child.py ARGS` in a fresh interpreter; its last stdout line is JSON
    (with its own peak RSS, read from /proc/self/status VmHWM and getrusage)."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "child.py"), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )
    if done.returncode != 0:
        raise RuntimeError(f"bench/child.py {' '.join(args)} failed:\n{done.stderr[-4000:]}")
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


# --------------------------------------------------------------------------- the machine


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def machine(pg_version: str | None = None) -> dict[str, Any]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in _read("/proc/cpuinfo").splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem = next(
        (
            line.split(":", 1)[1].strip()
            for line in _read("/proc/meminfo").splitlines()
            if line.startswith("MemTotal")
        ),
        "",
    )
    try:
        free = subprocess.run(["free", "-h"], capture_output=True, text=True).stdout.strip()
    except OSError:
        free = ""

    def version(package: str) -> str:
        from importlib.metadata import PackageNotFoundError
        from importlib.metadata import version as v

        try:
            return v(package)
        except PackageNotFoundError:
            return "-"

    try:
        git = subprocess.run(
            ["git", "describe", "--always", "--dirty"], capture_output=True, text=True, cwd=ROOT
        ).stdout.strip()
    except OSError:
        git = ""
    info = {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "mem_total": mem,
        "free_h": free,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": pg_version,
        "eventsourcing": version("eventsourcing"),
        "eventsourcing-sqlalchemy": version("eventsourcing-sqlalchemy"),
        "SQLAlchemy": version("SQLAlchemy"),
        "psycopg2-binary": version("psycopg2-binary"),
        "orjson": version("orjson"),
        "git": git,
        "loadavg": _read("/proc/loadavg").split()[:3],
    }
    return info


# --------------------------------------------------------------------------- the table


@dataclass
class Row:
    """One line of the results table. `checks` are (clause, met) pairs."""

    measure: str
    ours: str
    a: str = ""
    b: str = ""
    ratio: str = ""
    target: str = ""
    checks: list[tuple[str, bool | None]] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def met(self) -> str:
        if not self.checks:
            return "-"
        return "; ".join(
            ("yes" if ok else "no" if ok is not None else "n/a") for _, ok in self.checks
        )


HEADER = ("measure", "ours", "baseline a", "baseline b", "ratio(s)", "target", "met?")


def markdown(rows: list[Row]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    for r in rows:
        cells = (r.measure, r.ours, r.a, r.b, r.ratio, r.target, r.met)
        lines.append("| " + " | ".join(c.replace("|", "/") or "-" for c in cells) + " |")
    return "\n".join(lines)


def rate(events: float, seconds: float) -> float:
    return events / seconds if seconds > 0 else float("nan")


def fmt_rate(value: float) -> str:
    return f"{value:,.0f} ev/s"


def fmt_ms(seconds: float) -> str:
    ms = seconds * 1000
    return f"{ms:,.1f} ms" if ms < 100 else f"{ms:,.0f} ms"


def fmt_x(value: float) -> str:
    return f"{value:.2f}x" if value < 10 else f"{value:.1f}x"


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def fmt_mib(kib: float) -> str:
    return f"{kib / 1024:,.0f} MiB"
