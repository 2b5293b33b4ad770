"""Where the time goes: cProfile of the bulk import and of the catch-up, on the benchmark's
ledger (see bench/workload.py).

    python -m bench.profile [--units 100000] [--db sqlite|postgresql] [--top 15]

Profiles, in a scratch database: (1) the import of the base file (`recorder.record`);
(2) the catch-up of that base from empty projections (the same batches as a rebuild);
(3) the catch-up of the 10,000-event window on the caught-up ledger. Prints, for each, the
functions with the most own time ("self", file:function and share of the total) and the
project functions with the most cumulative time; writes the .prof files and the text to
bench/results/. The profiler slows Python code down (by 1.5-2x here), not the database:
read the shares, not the seconds.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime
import io
import pstats
import sys
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cli  # noqa: E402
from bench.measure import ROOT, machine, scratch  # noqa: E402
from bench.run import PG_SERVER  # noqa: E402
from bench.workload import build  # noqa: E402

PROJECT = ("/ledger/", "/projections/", "/cli.py")


def where(func: tuple[str, int, str]) -> str:
    path, line, name = func
    if path == "~":  # a builtin or C method
        return name
    p = Path(path)
    parts = p.parts
    for anchor in ("ledger", "projections", "site-packages"):
        if anchor in parts:
            i = len(parts) - 1 - parts[::-1].index(anchor)
            return f"{'/'.join(parts[i + (anchor == 'site-packages') :])}:{name}"
    return f"{p.name}:{name}"


def report(title: str, prof: cProfile.Profile, top: int) -> str:
    stats = pstats.Stats(prof)
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    total = sum(tt for _, _, tt, _, _ in raw.values())
    own = sorted(raw.items(), key=lambda kv: kv[1][2], reverse=True)[:top]
    cumulative = sorted(
        ((f, v) for f, v in raw.items() if any(m in f[0] for m in PROJECT)),
        key=lambda kv: kv[1][3],
        reverse=True,
    )[:top]
    lines = [
        f"## {title}: {total:.2f} s profiled",
        "",
        "| own time | share | calls | function |",
        "|---|---|---|---|",
    ]
    for func, (_, nc, tt, _, _) in own:
        lines.append(f"| {tt:.2f} s | {tt / total:.1%} | {nc:,} | `{where(func)}` |")
    lines += ["", "| cumulative | share | calls | project function |", "|---|---|---|---|"]
    for func, (_, nc, _, ct, _) in cumulative:
        lines.append(f"| {ct:.2f} s | {ct / total:.1%} | {nc:,} | `{where(func)}` |")
    return "\n".join(lines) + "\n"


def spy_report(title: str, stacks: list[tuple[list[str], int]], top: int) -> str:
    """Self and inclusive shares of a phase from py-spy's collapsed stacks."""
    total = sum(n for _, n in stacks)
    own: dict[str, int] = {}
    inclusive: dict[str, int] = {}
    for frames, n in stacks:
        leaf = spy_frame(frames[-1])
        own[leaf] = own.get(leaf, 0) + n
        for f in {spy_frame(f) for f in frames}:
            if any(m.strip("/") in f for m in ("ledger/", "projections/", "cli.py")):
                inclusive[f] = inclusive.get(f, 0) + n
    lines = [
        f"## {title}: {total:,} samples",
        "",
        "| self | function (leaf Python frame) |",
        "|---|---|",
    ]
    for f, n in sorted(own.items(), key=lambda kv: kv[1], reverse=True)[:top]:
        lines.append(f"| {n / total:.1%} | `{f}` |")
    lines += ["", "| inclusive | project function |", "|---|---|"]
    for f, n in sorted(inclusive.items(), key=lambda kv: kv[1], reverse=True)[:top]:
        lines.append(f"| {n / total:.1%} | `{f}` |")
    return "\n".join(lines) + "\n"


def spy_frame(frame: str) -> str:
    """A py-spy frame 'Projector._fold (projections/engine/catchup.py)' as
    'projections/engine/catchup.py:Projector._fold'."""
    name, _, path = frame.rpartition(" (")
    path = path.rstrip(")")
    parts = Path(path).parts
    for anchor in ("ledger", "projections", "site-packages"):
        if anchor in parts:
            i = len(parts) - 1 - parts[::-1].index(anchor)
            path = "/".join(parts[i + (anchor == "site-packages") :])
            break
    return f"{path}:{name}"


PHASES = {
    "import": "the import of the base file (recorder.record)",
    "catchup_base": "the catch-up of the base from empty projections",
    "catchup_window": "the catch-up of the 10,000-event window",
}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m bench.profile",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--units", type=int, default=100_000)
    p.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    p.add_argument("--pg", default=PG_SERVER)
    p.add_argument("--seed", type=int, default=2017)
    p.add_argument("--top", type=int, default=15)
    p.add_argument(
        "--sampler",
        choices=("cprofile", "py-spy"),
        default="cprofile",
        help="py-spy (pip install py-spy): 250 Hz samples, little overhead, waits included",
    )
    p.add_argument("--plain", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    stamp = f"{args.db}-{args.units}u-{datetime.datetime.now():%Y%m%d-%H%M%S}"
    stamp_git = f"git {machine()['git']}"
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    if args.sampler == "py-spy" and not args.plain:
        return sample_with_py_spy(args, out, stamp, stamp_git)
    w = build(args.units, args.seed, 1, 10_000)
    text = [f"# Profiles (cProfile): {args.db}, {args.units:,} units ({stamp}, {stamp_git})", ""]
    with scratch(args.db, args.pg, False, None) as db:
        s = cli.Session(db.url("main"))
        s.current()
        s.recorder  # noqa: B018  (the application is built outside the profile)

        def run(name: str, title: str, fn: Any) -> Any:
            if args.plain:
                return fn()
            prof = cProfile.Profile()
            result = prof.runcall(fn)
            prof.dump_stats(out / f"profile-{stamp}-{name}.prof")
            text.append(report(title, prof, args.top))
            print(text[-1], flush=True)
            return result

        def phase_import() -> Any:
            return s.recorder.record([("base.jsonl", io.BytesIO(w.base))])

        def phase_catchup_base() -> Any:
            return s.projector.catch_up()

        def phase_catchup_window() -> Any:
            return s.projector.catch_up()

        r = run(
            "import", f"import of {w.base_transactions:,} transactions (one file)", phase_import
        )
        run(
            "catchup-base",
            f"catch-up of the base from empty projections ({r.events:,} events)",
            phase_catchup_base,
        )
        at = next(i for i, step in enumerate(w.steps) if step.kind == "window")
        for step in w.steps[:at]:
            s.recorder.record([("filler.jsonl", io.BytesIO(step.data))])
            s.projector.catch_up()
        window = s.recorder.record([("window.jsonl", io.BytesIO(w.steps[at].data))])
        run(
            "catchup-window",
            f"catch-up of {window.events:,} new events on a "
            f"{s.store.head() - window.events:,}-event ledger",
            phase_catchup_window,
        )
        s.conn.close()
        s.recorder.app.close()
    if args.plain:
        return 0
    path = out / f"profile-{stamp}.md"
    path.write_text("\n".join(text))
    print(f"profiles: {path.relative_to(ROOT)}")
    return 0


def sample_with_py_spy(args: argparse.Namespace, out: Path, stamp: str, stamp_git: str) -> int:
    import shutil
    import subprocess

    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    raw = out / f"py-spy-{stamp}.txt"
    command = [
        spy,
        "record",
        "--format",
        "raw",
        "--nolineno",
        "--rate",
        "250",
        "-o",
        str(raw),
        "--",
        sys.executable,
        "-m",
        "bench.profile",
        "--plain",
        "--units",
        str(args.units),
        "--db",
        args.db,
        "--pg",
        args.pg,
        "--seed",
        str(args.seed),
    ]
    subprocess.run(command, check=True, cwd=ROOT)
    phases: dict[str, list[tuple[list[str], int]]] = {name: [] for name in PHASES}
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        for name in PHASES:
            if any(f.startswith(f"main.<locals>.phase_{name} (") for f in frames):
                phases[name].append((frames, int(count)))
    text = [
        f"# Profiles (py-spy, 250 Hz): {args.db}, {args.units:,} units ({stamp}, {stamp_git})",
        "",
    ]
    for name, title in PHASES.items():
        text.append(spy_report(title, phases[name], args.top))
        print(text[-1], flush=True)
    path = out / f"profile-{stamp}-py-spy.md"
    path.write_text("\n".join(text))
    print(f"profiles: {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
