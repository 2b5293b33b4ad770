"""The fold's designs side by side: each folds the same slice of a ledger's journal, and
its time is set against a raw read of the same rows in the same process.

    python -m bench.fold_designs --db /tmp/r.db [--events 150000] [--reps 3]
        [--designs head,work,work-mypyc] [--rev HEAD]

A design is a copy of projections/fold/ in a temporary directory, folded in a child
process that imports only that copy:
  - `head`: the fold as committed at `--rev` (pure Python);
  - `work`: the fold of the working tree (pure Python);
  - `head-mypyc`, `work-mypyc`: the same, compiled with mypyc (needs a C compiler and the
    Python headers; a design that does not compile is reported, not measured).
Each child, `--reps` times in turn: the raw read (one `SELECT` of the slice + `orjson.loads`
of each state, the baseline of `bench.run`'s replay row), then the fold of the same rows
decoded once (the transactions in journal order, as a replay's single pass), then the
rows turned into tuples (what the replay's digest needs). Times are the process's CPU
time (`time.process_time`), steadier than wall time on a machine others share. Printed,
per design (a design named twice runs twice, interleaved): the medians of fold time /
raw time (lower is better) and raw / (fold + tuples), the replay ratio the fold alone
would allow.

Must not: write to the ledger (it opens the SQLite file read-only) or import the
working tree's projections in a child.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
EVENTS_TABLE = "housingledger_events"


def child(directory: str, db: str, events: int, reps: int) -> dict[str, Any]:
    """Time one design (the copy of the fold in `directory`) against the raw read."""
    sys.path.insert(0, directory)
    import sqlite3
    from operator import itemgetter

    import orjson

    from projections.fold import transactions  # the copy in `directory`
    from projections.fold.rows import RECORDED, StoredRow, WorkingSet

    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    last = conn.execute(
        f"SELECT MAX(id) FROM {EVENTS_TABLE} WHERE id <= ? AND topic = ?", (events, RECORDED)
    ).fetchone()[0]
    sql = f"SELECT id, originator_id, topic, state FROM {EVENTS_TABLE} WHERE id <= ? ORDER BY id"
    rows = conn.execute(
        f"SELECT id, lower(hex(originator_id)), topic, state FROM {EVENTS_TABLE} "
        "WHERE id <= ? ORDER BY id",
        (last,),
    ).fetchall()
    decoded = [StoredRow(p, k, t, orjson.loads(s)) for p, k, t, s in rows]
    out: dict[str, Any] = {"module": transactions.__file__, "events": len(rows)}
    times: dict[str, list[float]] = {k: [] for k in ("raw", "fold", "tuples")}
    gc.disable()
    for _ in range(reps):
        started = time.process_time()
        loads = orjson.loads
        for _p, _k, _t, state in conn.execute(sql, (last,)):
            loads(state)
        times["raw"].append(time.process_time() - started)

        started = time.process_time()
        ws = WorkingSet()
        pending: list[Any] = []
        for event in decoded:
            pending.append(event)
            if event.topic == RECORDED:
                transactions.fold_transaction(ws, pending)
                pending = []
        times["fold"].append(time.process_time() - started)

        started = time.process_time()
        for table_rows in ws.new.values():
            cols = tuple(table_rows[0])
            list(map(itemgetter(*cols), table_rows))
        times["tuples"].append(time.process_time() - started)

        out["rows"] = sum(len(table_rows) for table_rows in ws.new.values())
        del ws
        gc.collect()
    out["times"] = times
    return out


def prepare(kind: str, rev: str, into: Path) -> str | None:
    """A directory holding a copy of projections/fold/ for the design `kind`, or None if
    it cannot be built (the reason printed)."""
    base, _, compiled = kind.partition("-")
    target = into / kind
    fold = target / "projections" / "fold"
    fold.mkdir(parents=True)
    (target / "projections" / "__init__.py").write_text("")
    if base == "head":
        names = subprocess.run(
            ["git", "ls-tree", "--name-only", f"{rev}:projections/fold"],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
        for name in names:
            text = subprocess.run(
                ["git", "show", f"{rev}:projections/fold/{name}"],
                cwd=ROOT,
                check=True,
                capture_output=True,
            ).stdout
            (fold / name).write_bytes(text)
    elif base == "work":
        for path in (ROOT / "projections" / "fold").glob("*.py"):
            shutil.copy(path, fold / path.name)
    else:
        raise SystemExit(f"unknown design {kind!r}: head, work, head-mypyc or work-mypyc")
    if compiled == "mypyc":
        mypyc = Path(sys.executable).with_name("mypyc")
        sources = [str(p.relative_to(target)) for p in sorted(fold.glob("*.py"))]
        sources.remove("projections/fold/__init__.py")
        done = subprocess.run(
            [str(mypyc), *sources], cwd=target, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            print(f"{kind}: mypyc failed: {done.stdout[-400:]}{done.stderr[-400:]}")
            return None
    elif compiled:
        raise SystemExit(f"unknown design {kind!r}")
    return str(target)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--db", required=True, help="a SQLite ledger file (read only)")
    p.add_argument("--events", type=int, default=150_000, help="the slice: the first N events")
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--designs", default="head,work,work-mypyc")
    p.add_argument("--rev", default="HEAD", help="the commit of the `head` designs")
    p.add_argument("--child", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.db, args.events, args.reps)))
        return 0
    if not os.path.exists(args.db):
        raise SystemExit(f"--db {args.db}: no such file")
    with tempfile.TemporaryDirectory(prefix="hl_fold_designs_") as tmp:
        prepared: dict[str, str | None] = {}
        for kind in args.designs.split(","):
            if kind not in prepared:
                prepared[kind] = prepare(kind, args.rev, Path(tmp))
            directory = prepared[kind]
            if directory is None:
                continue
            done = subprocess.run(
                [sys.executable, __file__, "--db", args.db, "--events", str(args.events)]
                + ["--reps", str(args.reps), "--child", directory],
                capture_output=True,
                text=True,
                check=False,
                cwd=tmp,
            )
            if done.returncode != 0:
                print(f"{kind}: the child failed: {done.stderr[-800:]}")
                continue
            r = json.loads(done.stdout)
            t = r["times"]
            ratio = statistics.median(f / w for f, w in zip(t["fold"], t["raw"], strict=True))
            replay = statistics.median(
                w / (f + u) for f, u, w in zip(t["fold"], t["tuples"], t["raw"], strict=True)
            )
            per = statistics.median(t["fold"]) / r["events"] * 1e6
            print(
                f"{kind:12} {r['events']:,} events, {r['rows']:,} rows: fold/raw "
                f"{ratio:.2f}x the time; raw/(fold+tuples) {replay:.3f}; fold "
                f"{per:.1f} us/event "
                f"({Path(r['module']).name})"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
