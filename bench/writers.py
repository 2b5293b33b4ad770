"""One writer per group: how long an import holds the journal's write lock, and what
several groups' writers do side by side on one PostgreSQL server (docs/scaling.md).

    python -m bench.writers [--units 20000] [--groups 2] [--reps 3]

Each group is a schema of one scratch database (`?options=-csearch_path=<schema>` in the
URL), so each has its own journal and its own lock. Each repetition imports one demo
ledger per group (a different seed each) in child processes (`bench/child.py import`),
first one group after the other, then all at once, into fresh schemas. Reported: the
events/s of all groups together in both modes, and the share of each import spent in
`SqlEventStore.append`, which is the time the journal lock is held (lock to commit).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.measure import ROOT, PostgresScratch, machine  # noqa: E402
from bench.run import PG_SERVER  # noqa: E402
from bench.workload import jsonl  # noqa: E402
from ledger.demo import generate  # noqa: E402


def child(url: str, path: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "child.py"), "import", url, str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )


def finish(process: subprocess.Popen[str]) -> dict[str, Any]:
    out, err = process.communicate()
    if process.returncode != 0:
        raise RuntimeError(err[-3000:])
    report: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return report


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m bench.writers",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--units", type=int, default=20_000, help="units per group")
    p.add_argument("--groups", type=int, default=2)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--pg", default=PG_SERVER)
    args = p.parse_args(argv)
    db = PostgresScratch(args.pg)
    tmp = Path(tempfile.mkdtemp(prefix="hl_bench_writers_"))
    results: dict[str, list[float]] = {"sequential": [], "parallel": [], "lock_share": []}
    try:
        files = []
        for g in range(args.groups):
            path = tmp / f"group{g}.jsonl"
            path.write_bytes(jsonl(list(generate(units=args.units, seed=2017 + g))))
            files.append(path)
        base = db.url("main")
        raw = db.raw("main")
        raw.autocommit = True

        def schema_url(name: str) -> str:
            with raw.cursor() as cur:
                cur.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
                cur.execute(f"CREATE SCHEMA {name}")
            return f"{base}?options={quote(f'-csearch_path={name}')}"

        for rep in range(args.reps):
            for mode in ("sequential", "parallel"):
                urls = [schema_url(f"{mode}_{rep}_g{g}") for g in range(args.groups)]
                if mode == "sequential":
                    reports = [finish(child(u, f)) for u, f in zip(urls, files, strict=True)]
                else:
                    running = [child(u, f) for u, f in zip(urls, files, strict=True)]
                    reports = [finish(r) for r in running]
                # imports only: from the first import's start to the last one's end
                wall = max(r["monotonic_end"] for r in reports) - min(
                    r["monotonic_start"] for r in reports
                )
                events = sum(r["events"] for r in reports)
                results[mode].append(events / wall)
                results["lock_share"] += [r["append_seconds"] / r["seconds"] for r in reports]
                print(
                    f"rep {rep + 1} {mode}: {args.groups} groups, {events:,} events, "
                    f"{wall:.1f} s of imports, {events / wall:,.0f} ev/s together; "
                    f"lock held {[round(r['append_seconds'], 2) for r in reports]} s of "
                    f"{[round(r['seconds'], 2) for r in reports]} s",
                    file=sys.stderr,
                    flush=True,
                )
        raw.close()
    finally:
        db.close()
        for f in tmp.iterdir():
            f.unlink()
        tmp.rmdir()
    seq, par = statistics.median(results["sequential"]), statistics.median(results["parallel"])
    share = statistics.median(results["lock_share"])
    info = machine(None)
    print(
        f"{args.groups} groups x {args.units:,} units, PostgreSQL, {args.reps} reps (medians), "
        f"{info['nproc']} CPU, git {info['git']}\n"
    )
    print("| measure | figure |\n|---|---|")
    print(f"| {args.groups} groups imported one after the other | {seq:,.0f} ev/s together |")
    print(
        f"| {args.groups} groups imported at the same time | {par:,.0f} ev/s together "
        f"({par / seq:.2f}x) |"
    )
    print(f"| share of an import holding the journal lock (append: lock to commit) | {share:.1%} |")
    print(
        f"| one journal's ceiling if validation ran outside the lock (rate / share) | "
        f"{seq / share:,.0f} ev/s |"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
