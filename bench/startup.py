"""Start-up (issue 15): each command's wall-clock time as a ratio of `--help`'s, measured
side by side, in rounds that run every command once in turn (so that the machine's load
falls on all of them alike).

    python -m bench.startup [--units 3000] [--rounds 15] [--db sqlite:///demo.db]

Without --db a demo ledger of --units units is recorded into a temporary directory
first. Every command is a new process (`python -m cli`, as a user runs it); it prints
each command's median time, its ratio to `--help`'s median and the interpreter's own
(`python -c pass`). docs/performance.md ("Start-up") quotes a run.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COMMANDS = [
    ["--help"],
    ["--version"],
    ["holdings"],
    ["holdings", "--by", "zone", "--as-of", "2025-12-31"],
    ["units", "--entity", "ESH-IDF"],
    ["report", "sales", "--year", "2019"],
    ["report", "movements", "--year", "2017"],
    ["report", "programme", "--start", "2017", "--years", "5", "--target", "3000"],
    ["audit", "digest"],
]


def clock(argv: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--db", help="a ledger to query (default: a new demo ledger)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'demo.db'}"
        cli = [sys.executable, "-m", "cli"]
        if not args.db:
            subprocess.run(
                [*cli, "--db", url, "demo", "--units", str(args.units)],
                check=True,
                stdout=subprocess.DEVNULL,
            )
        runs: dict[str, list[float]] = {"python -c pass": []}
        runs.update({" ".join(c): [] for c in COMMANDS})
        for _ in range(args.rounds):
            runs["python -c pass"].append(clock([sys.executable, "-c", "pass"]))
            for command in COMMANDS:
                argv = (
                    [*cli, *command]
                    if command[0].startswith("--")
                    else [*cli, "--db", url, *command]
                )
                runs[" ".join(command)].append(clock(argv))
    help_median = statistics.median(runs["--help"])
    print(f"{'command':60s} {'median':>9s} {'x --help':>9s}   ({args.rounds} rounds)")
    for name, times in runs.items():
        median = statistics.median(times)
        print(f"{name:60s} {median * 1000:7.0f} ms {median / help_median:8.2f}x")


if __name__ == "__main__":
    main()
