"""Which pages a catch-up writes: the SQLite pages of each table and index that one
catch-up of the journal's last events dirties, counted in the WAL.

    python -m bench.catchup_pages --db /tmp/r.db [--events 10000]

On a scratch copy of the ledger: the events after the last transaction boundary at least
`--events` before the end are set aside, the projections rebuilt without them (as the
benchmark's ledger is before its window), the WAL checkpointed, the events put back, and
one catch-up run with the automatic checkpoint off. Each WAL frame's page is then mapped
to its table or index (SQLite's `dbstat`), and the distinct pages per event printed. A
page written is 4 KiB to the WAL at the commit, and the same again into the database at
the checkpoint: this is where a catch-up's commit time goes.

Must not: touch the ledger given (it reads it once, to copy it).
"""

from __future__ import annotations

import argparse
import collections
import sqlite3
import struct
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cli  # noqa: E402
from projections.fold.rows import RECORDED  # noqa: E402

EVENTS = "housingledger_events"


def wal_pages(wal: Path) -> set[int]:
    """The page numbers of every frame of a WAL file (header 32 bytes; each frame a
    24-byte header, whose first field is the page number, then the page)."""
    data = wal.read_bytes()
    if len(data) < 32:
        return set()
    size = struct.unpack(">I", data[8:12])[0]
    return {
        struct.unpack(">I", data[at : at + 4])[0] for at in range(32, len(data) - 23, 24 + size)
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--db", required=True, help="a SQLite ledger file (copied, not changed)")
    p.add_argument("--events", type=int, default=10_000)
    args = p.parse_args(argv)
    if not Path(args.db).is_file():
        raise SystemExit(f"--db {args.db}: no such file")
    with tempfile.TemporaryDirectory(prefix="hl_pages_") as tmp:
        copy = Path(tmp) / "ledger.db"
        source = sqlite3.connect(f"file:{args.db}?mode=ro", uri=True)
        target = sqlite3.connect(copy)
        source.backup(target)  # a consistent copy, WAL included
        source.close()
        head = target.execute(f"SELECT MAX(id) FROM {EVENTS}").fetchone()[0]
        cut = target.execute(
            f"SELECT MAX(id) FROM {EVENTS} WHERE topic = ? AND id <= ?",
            (RECORDED, head - args.events),
        ).fetchone()[0]
        if cut is None:
            raise SystemExit(f"--events {args.events}: the journal has no boundary that far back")
        target.execute(f"CREATE TABLE bench_tail AS SELECT * FROM {EVENTS} WHERE id > ?", (cut,))
        target.execute(f"DELETE FROM {EVENTS} WHERE id > ?", (cut,))
        target.commit()
        target.close()
        session = cli.Session(f"sqlite:///{copy}")
        session.projector.rebuild()
        conn = session.conn
        conn.execute(f"INSERT INTO {EVENTS} SELECT * FROM bench_tail")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA wal_autocheckpoint = 0")
        started = time.perf_counter()
        caught = session.projector.catch_up()
        seconds = time.perf_counter() - started
        pages = wal_pages(Path(f"{copy}-wal"))
        owner = dict(conn.query("SELECT pageno, name FROM dbstat"))
        by = collections.Counter(owner.get(page, "(freed)") for page in pages)
        session.conn.close()
    events = max(caught.events, 1)
    print(
        f"catch-up of {caught.events:,} events (after position {cut:,}) in {seconds:.2f} s: "
        f"{len(pages):,} pages written, {len(pages) / events:.2f} per event"
    )
    print("| table or index | pages | per event | share |\n|---|---|---|---|")
    for name, n in by.most_common(12):
        print(f"| {name} | {n:,} | {n / events:.2f} | {n / max(len(pages), 1):.0%} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
