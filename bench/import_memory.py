"""Peak memory of the streamed JSONL import at several sizes: is it flat?

    python -m bench.import_memory --units 100000,300000 [--keep DIR] [--sqlite-dir DIR]

For each size: the scale demo's file (`demo --profile scale --units N --output`, the
zoning vintages first) written line by line to a file, then imported into an empty
SQLite ledger by `bench/child.py import` in a fresh interpreter, whose VmHWM is its peak
RSS. Prints one line per size (units, events, seconds, peak RSS) and the RSS growth per
100k units between sizes. A 1M-unit file is about 1.5 GB and its import takes many
minutes on a 2-core machine.

Must not: time anything as a claim (the seconds are for orientation only), or keep the
files unless --keep says where.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from itertools import chain
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.measure import run_child  # noqa: E402


def write_file(path: Path, units: int, seed: int) -> int:
    """The scale demo's transactions as JSON Lines, written as generated; how many."""
    from ledger.booking.zoning import shipped_vintages
    from ledger.demo import generate

    count = 0
    with open(path, "w", encoding="utf-8") as f:
        for tx in chain(shipped_vintages(), generate(units=units, seed=seed, profile="scale")):
            f.write(json.dumps(tx, ensure_ascii=False) + "\n")
            count += 1
    return count


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", default="100000,300000")
    parser.add_argument("--seed", type=int, default=2017)
    parser.add_argument("--keep", help="write the files here and keep them")
    parser.add_argument("--sqlite-dir", help="where the ledgers go (default: a temp dir)")
    args = parser.parse_args(argv)
    sizes = [int(u) for u in args.units.split(",")]
    with tempfile.TemporaryDirectory() as scratch:
        files = Path(args.keep or scratch)
        dbs = Path(args.sqlite_dir or scratch)
        files.mkdir(parents=True, exist_ok=True)
        rows: list[tuple[int, int, float, float]] = []
        for units in sizes:
            path = files / f"scale-{units}.jsonl"
            if not path.exists():
                write_file(path, units, args.seed)
            db = dbs / f"import-memory-{units}.db"
            db.unlink(missing_ok=True)
            report = run_child("import", f"sqlite:///{db}", str(path))
            db.unlink(missing_ok=True)
            if not args.keep:
                path.unlink()
            peak_mib = (report["vmhwm_kib"] or report["maxrss_kib"]) / 1024
            rows.append((units, report["events"], report["seconds"], peak_mib))
            print(
                f"{units:>9,} units  {report['events']:>10,} events  "
                f"{report['seconds']:>8.1f} s  peak RSS {peak_mib:>7.0f} MiB  "
                f"({path.stat().st_size / 2**20 if path.exists() else 0:,.0f} MiB file kept)"
                if args.keep
                else f"{units:>9,} units  {report['events']:>10,} events  "
                f"{report['seconds']:>8.1f} s  peak RSS {peak_mib:>7.0f} MiB",
                flush=True,
            )
        for (u1, _, _, m1), (u2, _, _, m2) in zip(rows, rows[1:], strict=False):
            print(f"growth {u1:,} -> {u2:,} units: {(m2 - m1) / ((u2 - u1) / 1e5):+.0f} MiB/100k")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
