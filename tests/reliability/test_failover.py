"""The failover drill (issue 17): a standby promoted while an import runs (PostgreSQL).

The trial starts its own clusters on free ports of this machine (never the shared
server): a primary (`wal_level = replica`, replication allowed in pg_hba) and a standby
made with `pg_basebackup -R`, streaming, named in the primary's
`synchronous_standby_names` so that a commit is acknowledged only once the standby has
the WAL (`synchronous_commit = on`, or `remote_apply` on alternate rounds). Two writers
import one-transaction files against the primary (`processes.Fleet`); at a random moment
the primary fails over:

- "crash": the primary is stopped with `pg_ctl stop -m immediate` (its server processes
  killed, no checkpoint), then the standby is promoted (`pg_ctl promote`);
- "promote first": the standby is promoted while the primary still runs and the writers
  still write to it, and the primary is stopped half a second later (the old primary
  can no longer get a synchronous acknowledgement, so nothing it commits then is
  acknowledged).

On the new primary: every transaction whose import was acknowledged (exit 0, or exit 4
saying the transactions are recorded) is in the journal; `audit verify` and
`replay --check` pass and holdings equal the reference model (`assert_intact`); and
importing all the round's files again records exactly the rest, nothing twice. The next
round makes a new standby of the new primary and fails over again, on the same ledger.

A second trial shows why the drill needs synchronous replication: with the default
(asynchronous) setting, imports that exited 0 while the standby lagged are missing on
the promoted standby (the ledger there is whole, and importing them again records them).

One promotion by default, 4 with --runslow. The PostgreSQL binaries (initdb, pg_ctl,
pg_basebackup: `HL_PG_BIN`, else /usr/lib/postgresql/*/bin, else PATH) are needed: a
missing binary fails the test in CI (CI=true or HOUSING_LEDGER_REQUIRE_PG=1, as
tests/conftest.py decides for the server) and skips it elsewhere. As root, the servers
run as the `postgres` OS user (initdb and postgres refuse root). Every cluster is stopped
and its folder removed afterwards, whatever happened.
"""

from __future__ import annotations

import glob
import os
import random
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PG_REQUIRED, require_pg
from tests.reliability import processes as p

pytestmark = pytest.mark.postgres

WRITERS = 2
FILES_PER_WRITER = 60
RECORDED = re.compile(r"recorded (\d+) transaction\(s\) \((\d+) events\), (\d+) already recorded")
ACKNOWLEDGED_BUT_NOT_PROJECTED = "but updating the projections failed"


def pg_bin() -> Path:
    """The folder of initdb, pg_ctl and pg_basebackup; fails in CI if there is none."""
    candidates = [os.environ.get("HL_PG_BIN", "")]
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    on_path = shutil.which("pg_ctl")
    candidates += [str(Path(on_path).parent)] if on_path else []
    for folder in filter(None, candidates):
        tools = ("initdb", "pg_ctl", "pg_basebackup", "postgres")
        if all((Path(folder) / tool).exists() for tool in tools):
            return Path(folder)
    message = "no PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup): set HL_PG_BIN"
    if PG_REQUIRED:
        pytest.fail(message + " (they are required here: CI)")
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Node:
    """One PostgreSQL cluster of the drill, in `root/name`, on its own port."""

    def __init__(self, bin_dir: Path, root: Path, name: str) -> None:
        self.bin, self.root, self.name = bin_dir, root, name
        self.data, self.port = root / name, free_port()
        self.log = root / f"{name}.log"

    def tool(self, name: str, *args: str, timeout: float = 120) -> str:
        command = [str(self.bin / name), *args]
        if os.geteuid() == 0:  # initdb and postgres refuse to run as root
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        assert done.returncode == 0, (
            f"{' '.join(command)} -> {done.returncode}\n{done.stdout}\n{done.stderr}\n"
            + (self.log.read_text()[-3000:] if self.log.exists() else "")
        )
        return done.stdout

    def url(self, database: str = "ledger") -> str:
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/{database}"

    def sql(self, statement: str, database: str = "postgres") -> list[tuple[Any, ...]]:
        import psycopg2

        conn = psycopg2.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname=database, connect_timeout=5
        )
        conn.autocommit = True
        try:
            cursor = conn.cursor()
            cursor.execute(statement)
            return list(cursor.fetchall()) if cursor.description else []
        finally:
            conn.close()

    def init_primary(self, commit: str) -> None:
        self.tool("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        with open(self.data / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write(self._settings(commit))

    def _settings(self, commit: str) -> str:
        return (
            f"\nport = {self.port}\nlisten_addresses = '127.0.0.1'\n"
            f"unix_socket_directories = '{self.root}'\nwal_level = replica\n"
            "max_wal_senders = 4\nwal_keep_size = '64MB'\nshared_buffers = '32MB'\n"
            f"max_connections = 40\nsynchronous_commit = {commit}\n"
        )

    def standby_of(self, primary: Node, commit: str) -> None:
        """A copy of `primary` (pg_basebackup -R) streaming from it under this name."""
        self.tool("pg_basebackup", "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
                  "-D", str(self.data), "-R", "-X", "stream", "-c", "fast")  # fmt: skip
        with open(self.data / "postgresql.auto.conf", "a", encoding="utf-8") as conf:
            conf.write(
                self._settings(commit)
                + f"primary_conninfo = 'host=127.0.0.1 port={primary.port} user=postgres "
                f"application_name={self.name}'\n"
                # A promoted standby has no standby of its own yet: it must not wait for one.
                "synchronous_standby_names = ''\n"
            )

    def start(self) -> None:
        self.tool("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "120", "start")

    def crash(self) -> None:
        """Stop at once: the server processes are killed, no shutdown checkpoint."""
        self.tool("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def promote(self) -> None:
        self.tool("pg_ctl", "-D", str(self.data), "-w", "-t", "120", "promote")

    def require_sync_standby(self, name: str) -> None:
        """Name the synchronous standby, and wait until it streams and is synchronous."""
        self.sql(f"ALTER SYSTEM SET synchronous_standby_names = '{name}'")
        self.sql("SELECT pg_reload_conf()")
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            rows = self.sql(
                "SELECT state, sync_state FROM pg_stat_replication "
                f"WHERE application_name = '{name}'"
            )
            if rows == [("streaming", "sync")]:
                return
            time.sleep(0.1)
        raise AssertionError(f"standby {name} never became synchronous: {rows}")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()


@pytest.fixture
def make_node() -> Iterator[Callable[[str], Node]]:
    """A folder the postgres user can write; every cluster made in it stopped and the
    folder removed at the end, whatever happened."""
    require_pg()
    bin_dir = pg_bin()
    root = Path(tempfile.mkdtemp(prefix="hl-failover-"))
    root.chmod(0o755)
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    made: list[Node] = []

    def node(name: str) -> Node:
        made.append(Node(bin_dir, root, name))
        return made[-1]

    try:
        yield node
    finally:
        for n in made:
            if n.running():
                subprocess.run(
                    (["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else [])
                    + [str(bin_dir / "pg_ctl"), "-D", str(n.data), "-m", "immediate", "stop"],
                    capture_output=True,
                    timeout=120,
                )
        shutil.rmtree(root, ignore_errors=True)


def acquisition(tx_id: str, unit: str) -> dict[str, Any]:
    return {"id": tx_id, "type": "acquisition", "date": "2019-05-01", "entity": "LLI-B",
            "mode": "vefa", "price_eur": "200000.00",
            "units": [{"unit_id": unit, "commune": "92050", "zone": "Abis",
                       "segment": "intermediate"}]}  # fmt: skip


def round_files(folder: Path, r: int) -> dict[str, dict[str, Any]]:
    """One file per transaction: writer w's k-th file of round r."""
    files = {}
    for w in range(WRITERS):
        for k in range(FILES_PER_WRITER):
            tx = acquisition(f"ACQ-{r}-{w}-{k:03d}", f"U-{r}-{w}-{k:03d}")
            files[str(p.write(folder / f"r{r}-w{w}-{k:03d}.jsonl", [tx]))] = tx
    return files


def failover_round(
    primary: Node, standby: Node, folder: Path, r: int, rng: random.Random
) -> dict[str, Any]:
    """Import on `primary`, fail over to `standby` mid-way, check the new primary."""
    files = round_files(folder, r)
    plans = [
        p.Plan([["import", path] for path in files if f"-w{w}-" in path]) for w in range(WRITERS)
    ]
    crew = p.Fleet(primary.url(), folder / f"fleet-{r}", plans, seconds=None)
    target = rng.randrange(8, 40)  # imports acknowledged before the failover
    order = "crash" if r % 2 == 0 else "promote first"
    crew.start()
    try:
        crew.released_at()
        deadline = time.monotonic() + 120
        while sum(len(crew.results(w)) for w in range(WRITERS)) < target:
            assert time.monotonic() < deadline, "the writers never got going"
            time.sleep(0.02)
        if order == "crash":
            primary.crash()
            standby.promote()
        else:
            standby.promote()
            time.sleep(0.5)
            primary.crash()
        results = [d for worker in crew.wait() for d in worker]
    finally:
        crew.stop()

    acknowledged, unknown = [], []
    for done in results:
        assert "Traceback" not in done.stderr, str(done)
        if done.returncode == 0 or ACKNOWLEDGED_BUT_NOT_PROJECTED in done.stderr:
            acknowledged.append(files[done.args[-1]]["id"])
        else:
            assert done.returncode == 4, str(done)  # the database went away: exit 4
            unknown.append(files[done.args[-1]]["id"])
    url = standby.url()
    intact = p.assert_intact(url)
    recorded = {tx["id"] for tx in intact.journal}
    missing = [tx_id for tx_id in acknowledged if tx_id not in recorded]
    assert not missing, f"acknowledged but not on the new primary ({order}): {missing}"
    in_doubt_recorded = sum(tx_id in recorded for tx_id in unknown)

    again = p.ok(url, "import", *files)
    counts = RECORDED.search(again.stdout)
    assert counts, str(again)
    this_round = {tx_id for tx_id in recorded if tx_id.startswith(f"ACQ-{r}-")}
    assert int(counts[3]) == len(this_round), str(again)
    assert int(counts[1]) == len(files) - len(this_round), str(again)
    final = p.assert_intact(url)
    ids = [tx["id"] for tx in final.journal]
    assert {tx["id"] for tx in files.values()} <= set(ids)
    assert final.journal[: len(intact.journal)] == intact.journal  # nothing rewritten
    return {
        "round": r,
        "order": order,
        "synchronous_commit": _commit(r),
        "imports": len(results),
        "acknowledged": len(acknowledged),
        "failed_in_doubt": len(unknown),
        "in_doubt_found_recorded": in_doubt_recorded,
        "recorded_by_rerun": int(counts[1]),
    }


def _commit(r: int) -> str:
    return "on" if r % 2 == 0 else "remote_apply"


def drill(
    make: Callable[[str], Node], tmp_path: Path, promotions: int, seed: int
) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    primary = make("node0")
    primary.init_primary(_commit(0))
    primary.start()
    standby = make("node1")
    standby.standby_of(primary, _commit(0))
    standby.start()
    primary.require_sync_standby(standby.name)
    primary.sql("CREATE DATABASE ledger")
    p.ok(primary.url(), "init")
    entity = {"id": "E-B", "type": "register_entity", "date": "2017-01-01", "entity": "LLI-B",
              "name": "LLI B", "kind": "lli"}  # fmt: skip
    p.ok(primary.url(), "import", str(p.write(tmp_path / "entity.jsonl", [entity])))
    figures = []
    for r in range(promotions):
        figures.append(failover_round(primary, standby, tmp_path, r, rng))
        print(figures[-1])
        if r + 1 == promotions:
            break
        old, primary = primary, standby
        shutil.rmtree(old.data, ignore_errors=True)  # a failed primary is not reused
        standby = make(f"node{r + 2}")
        standby.standby_of(primary, _commit(r + 1))
        standby.start()
        primary.sql(f"ALTER SYSTEM SET synchronous_commit = '{_commit(r + 1)}'")
        primary.require_sync_standby(standby.name)
    return figures


@pytest.mark.parametrize("promotions", [1, pytest.param(4, marks=pytest.mark.slow)])
def test_a_standby_promoted_during_an_import_holds_every_acknowledged_transaction(
    make_node: Callable[[str], Node], tmp_path: Path, promotions: int
) -> None:
    figures = drill(make_node, tmp_path, promotions, seed=promotions)
    assert len(figures) == promotions
    for figure in figures:
        p.log("failover", "postgresql://", **figure)


def test_without_synchronous_replication_a_promotion_loses_acknowledged_imports(
    make_node: Callable[[str], Node], tmp_path: Path
) -> None:
    """The other side of docs/operations.md, "Failover": with asynchronous replication
    (the default) an import can exit 0 and be missing after a promotion. The standby is
    down while three files are imported (a lagging standby at its extreme); the primary
    fails; the promoted standby has a whole ledger without them, and importing them
    again records them."""
    primary = make_node("async0")
    primary.init_primary("on")  # no synchronous_standby_names: asynchronous
    primary.start()
    standby = make_node("async1")
    standby.standby_of(primary, "on")
    standby.start()
    primary.sql("CREATE DATABASE ledger")
    p.ok(primary.url(), "init")
    entity = {"id": "E-B", "type": "register_entity", "date": "2017-01-01", "entity": "LLI-B",
              "name": "LLI B", "kind": "lli"}  # fmt: skip
    p.ok(primary.url(), "import", str(p.write(tmp_path / "entity.jsonl", [entity])))
    written = primary.sql("SELECT pg_current_wal_flush_lsn()")[0][0]
    deadline = time.monotonic() + 120
    while not standby.sql(f"SELECT pg_last_wal_replay_lsn() >= '{written}'::pg_lsn")[0][0]:
        assert time.monotonic() < deadline, "the standby never caught up"
        time.sleep(0.1)
    standby.tool("pg_ctl", "-D", str(standby.data), "-m", "fast", "-w", "stop")
    files = [p.write(tmp_path / f"late-{k}.jsonl", [acquisition(f"LATE-{k}", f"L-{k}")])
             for k in range(3)]  # fmt: skip
    for path in files:
        p.ok(primary.url(), "import", str(path))  # acknowledged: exit 0
    primary.crash()
    standby.start()
    standby.promote()

    recorded = {tx["id"] for tx in p.assert_intact(standby.url()).journal}
    assert recorded == {"E-B"}, recorded  # the three acknowledged imports are lost
    again = p.ok(standby.url(), "import", *map(str, files))
    assert "recorded 3 transaction(s)" in again.stdout, str(again)
    p.log("failover_async", standby.url(), acknowledged_then_lost=3)
