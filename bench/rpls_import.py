"""A group's RPLS files imported at scale: the time and peak memory of each import.

    python -m bench.rpls_import [--units 1000000] [--db sqlite|postgresql] [--single]
    make bench-rpls [UNITS=1000000] [DB=postgresql] [SINGLE=1]

Writes a group's RPLS files (bench/rpls_group.py: one file per entity, or `--single`: one
file of every unit), records the entities, then runs `housing-ledger import --format rpls`
once per file, each in its own process as a user would, and reads that process's peak
resident memory (`wait4`'s `ru_maxrss`) and wall time. Then checks what came back: for
each entity, `report rpls --year` of the import year lists as many units as were
registered, every `si_id` once. The table goes to stdout (Markdown). The requirement it
checks (docs/rpls.md, "Import"): a 1,000,000-line file under 1 GiB of peak memory.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.measure import PostgresScratch, fmt_mib, machine, scratch
from bench.rpls_group import main as write_group

ROOT = Path(__file__).resolve().parents[1]
GIB_KIB = 1 << 20
PG_SERVER = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"


def cli(url: str, *args: str) -> tuple[float, int, str]:
    """Run the CLI in a child process: (wall seconds, peak RSS in KiB, stdout)."""
    began = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        child = subprocess.Popen(
            [sys.executable, str(ROOT / "cli.py"), "--db", url, *args],
            stdout=out,
            stderr=err,
            cwd=ROOT,
        )
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - began
        out.seek(0)
        err.seek(0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise RuntimeError(f"housing-ledger {' '.join(args)} failed:\n{err.read()[-4000:]!r}")
        return seconds, usage.ru_maxrss, out.read().decode("utf-8")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--units", type=int, default=1_000_000)
    p.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    p.add_argument("--pg", default=PG_SERVER, metavar="URL", help="PostgreSQL server")
    p.add_argument("--single", action="store_true", help="one file of every unit")
    p.add_argument("--dir", default=None, help="where the SQLite scratch database goes")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as files, scratch(args.db, args.pg, False, args.dir) as db:
        group = Path(files)
        with contextlib.redirect_stdout(io.StringIO()):  # its manifest: read below
            write_group(["--units", str(args.units), "--out", str(group)]
                        + (["--single"] if args.single else []))  # fmt: skip
        manifest = json.loads((group / "manifest.json").read_text())
        url = db.url("main")
        cli(url, "init")
        cli(url, "import", str(group / "entities.jsonl"))
        rows = ["| file | lines | units registered | wall | peak RSS | units in report rpls |",
                "|---|---:|---:|---:|---:|---:|"]  # fmt: skip
        worst = 0
        for entry in manifest["files"]:
            path = group / entry["file"]
            rpls = ["--format", "rpls", "--entity", entry["entity"], "--as-of", manifest["as_of"]]
            seconds, peak, _ = cli(url, "import", *rpls, str(path))
            worst = max(worst, peak)
            year = manifest["as_of"][:4]
            _, _, extract = cli(url, "report", "rpls", "--entity", entry["entity"],
                                "--year", year, "--format", "csv")  # fmt: skip
            listed = [r["si_id"] for r in csv.DictReader(io.StringIO(extract), delimiter=";")]
            if len(listed) != entry["units"] or len(set(listed)) != len(listed):
                raise AssertionError(
                    f"{entry['file']}: {entry['units']} units imported, "
                    f"{len(listed)} rows in report rpls ({len(set(listed))} distinct)"
                )
            rows.append(f"| {entry['file']} | {entry['lines'] + 1:,} | {entry['units']:,} | "
                        f"{seconds:.1f} s | {fmt_mib(peak)} | {len(listed):,} |")  # fmt: skip
        info = machine(db.server_version() if isinstance(db, PostgresScratch) else None)
        keep = ("cpu", "nproc", "mem_total", "python", "sqlite", "postgresql", "git", "loadavg")
        print(f"RPLS import, {args.units:,} units on {args.db}")
        print(json.dumps({k: info.get(k) for k in keep}) + "\n")
        print("\n".join(rows))
        verdict = "under" if worst < GIB_KIB else "OVER"
        print(f"\nlargest peak RSS: {fmt_mib(worst)} ({verdict} 1 GiB)")
    return 0 if worst < GIB_KIB else 1


if __name__ == "__main__":
    raise SystemExit(main())
