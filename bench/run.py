"""The benchmark of issue 5: one table of our figures, each baseline measured in the same
run, and the ratios.

    python -m bench.run [--units 100000] [--db sqlite|postgresql] [--reps 3] [--only M,...]
    make bench [UNITS=1000000]  /  make bench-postgres [UNITS=...]

Measures (`--only`, comma-separated): import, catchup, replay, holdings, statements,
memory. See docs/performance.md for what each measures and how to read the table.
Every figure is the median of `--reps` repetitions; within a repetition our figure and its
baselines run side by side in this process. Peak memory is measured in child processes.
Results: the table on stdout (Markdown) and a JSON file in bench/results/.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import io
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # `python bench/run.py`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cli  # noqa: E402
from bench import baselines  # noqa: E402
from bench.measure import (  # noqa: E402
    ROOT,
    PostgresScratch,
    Row,
    Scratch,
    fmt_mib,
    fmt_ms,
    fmt_rate,
    fmt_x,
    machine,
    markdown,
    median,
    ordinal,
    rate,
    run_child,
    scratch,
    timed,
)
from bench.workload import Workload, build  # noqa: E402
from ledger.storage.application import HousingLedger, persistence_env  # noqa: E402
from projections import queries
from projections.engine import replay  # noqa: E402
from projections.reports import (  # noqa: E402
    dismemberment,
    divestments,
    movements,
    programme,
    sales,
)

MEASURES = ("import", "catchup", "replay", "holdings", "statements", "memory")
PG_SERVER = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
TARGETS = {  # issue 5 (SQLite; PostgreSQL)
    "sqlite": {"import": 50_000, "catchup": 150_000, "replay": 300_000},
    "postgresql": {"import": 30_000, "catchup": 100_000, "replay": 200_000},
}
GIB_KIB = 1024 * 1024


def peak(report: dict[str, Any]) -> int:
    """Peak RSS (KiB) of a child: VmHWM (getrusage's ru_maxrss only when /proc is absent)."""
    return int(report.get("vmhwm_kib") or report["maxrss_kib"])


class Bench:
    def __init__(self, args: argparse.Namespace, db: Scratch, workload: Workload) -> None:
        self.args = args
        self.db = db
        self.is_pg = db.dialect == "postgresql"
        self.w = workload
        self.targets = TARGETS[db.dialect]
        self.rows: list[Row] = []
        self.results: dict[str, Any] = {}
        self.base: cli.Session | None = None
        self.step = 0  # next workload step to import
        self.journal: list[baselines.JournalRow] | None = None
        self.started = time.perf_counter()
        self.rebuild_seconds: list[float] = []
        self.import_rss: dict[str, Any] = {}
        self.vacuum_seconds: list[float] = []

    # -- helpers -------------------------------------------------------------------
    def log(self, message: str) -> None:
        print(
            f"[{time.perf_counter() - self.started:7.1f}s] {message}", file=sys.stderr, flush=True
        )

    def record(self, session: cli.Session, name: str, data: bytes) -> Any:
        result = session.recorder.record([(name, io.BytesIO(data))])
        if result.errors:
            raise RuntimeError(f"{name}: the ledger rejected the demo: {result.errors[:3]}")
        return result

    @staticmethod
    def close(session: cli.Session) -> None:
        session.conn.close()
        if "recorder" in session.__dict__:
            session.recorder.app.close()

    def ensure_base(self) -> cli.Session:
        """The ledger with the base file imported and caught up. The base is imported by a
        child process, which is also the peak-memory measure of the import (so a run never
        imports the base once more for it, and this process never holds that memory)."""
        if self.base is None:
            self.log(
                f"importing the base ({self.w.base_transactions:,} transactions) in a "
                "child process (the peak-RSS measure of the import)"
            )
            path = self.scratch_file("base.jsonl")
            path.write_bytes(self.w.base)
            try:
                self.import_rss = run_child("import", self.db.url("main"), str(path))
            finally:
                path.unlink(missing_ok=True)
            self.log(
                f"imported {self.import_rss['events']:,} events in "
                f"{self.import_rss['seconds']:.1f} s, peak RSS "
                f"{fmt_mib(peak(self.import_rss))}"
            )
            self.base = cli.Session(self.db.url("main"))
        caught = self.base.projector.catch_up()
        if caught.events:
            self.results.setdefault(
                "initial_catch_up",
                {
                    "events": caught.events,
                    "seconds": caught.seconds,
                    "rate": caught.rate,
                    "note": "catch-up of the base import from empty projections (untimed measure)",
                },
            )
            self.log(f"caught up the base: {caught.events:,} events in {caught.seconds:.1f} s")
            self.vacuum()
        return self.base

    def vacuum(self) -> None:
        """PostgreSQL: VACUUM ANALYZE the ledger, untimed, where autovacuum would have run
        (after bulk loads and rebuilds). The server here runs with autovacuum=off, so
        without it each rebuild would leave the previous one's rows dead in the tables and
        the planner would have no statistics. SQLite: nothing (it reuses freed pages)."""
        if not self.is_pg:
            return
        if self.base is not None:
            self.base.conn.rollback()  # an open snapshot would keep dead rows alive
        raw = self.db.raw("main")
        raw.autocommit = True
        started = time.perf_counter()
        with raw.cursor() as cur:
            cur.execute("VACUUM ANALYZE")
        raw.close()
        self.vacuum_seconds.append(time.perf_counter() - started)

    def scratch_file(self, name: str) -> Path:
        directory = Path(self.args.data_dir or tempfile.gettempdir())
        return directory / f"hl_bench_{os.getpid()}_{name}"

    def ensure_complete(self) -> cli.Session:
        """The whole story imported and the projections current."""
        s = self.ensure_base()
        rest = self.w.steps[self.step :]
        if rest:
            self.log(f"importing the rest of the story ({len(rest)} files), untimed")
        for step in rest:
            self.record(s, f"{step.kind}.jsonl", step.data)
            s.projector.catch_up()
        if rest:
            self.vacuum()
        self.step = len(self.w.steps)
        return s

    def journal_events(self) -> int:
        s = self.base
        return s.store.head() if s is not None else 0

    # -- import --------------------------------------------------------------------
    def measure_import(self) -> None:
        reps, is_pg = self.args.reps, self.is_pg
        ours: list[float] = []
        stock: list[float] = []
        raw: list[float] = []
        events = 0
        sample_events = k = 0
        sample: list[list[Any]] = []
        for rep in range(reps):
            label = f"import{rep}"
            s = cli.Session(self.db.url(label))
            s.current()
            seconds, result = timed(partial(self.record, s, "base.jsonl", self.w.base))
            events = result.events
            ours.append(rate(events, seconds))
            self.log(
                f"import rep {rep + 1}: ours {events:,} events in {seconds:.2f} s "
                f"({ours[-1]:,.0f} ev/s)"
            )
            if self.journal is None:
                conn = self.db.raw(label)
                self.journal = baselines.read_journal(conn, is_pg)
                conn.close()
                picked, k, sample_events = baselines.stock_sample(
                    self.journal, self.args.stock_sample
                )
                sample = baselines.domain_events(s.recorder.app, picked)
            # (a) the stock path, on a sample of the same transactions
            stock_label = f"stock{rep}"
            app = baselines.stock_app(self.db.url(stock_label))
            seconds, n = timed(partial(baselines.stock_save, app, sample))
            stock.append(rate(n, seconds))
            app.close()
            self.db.drop(stock_label)
            # (b) raw executemany of the same rows
            raw_label = f"raw{rep}"
            conn = self.db.raw(raw_label)
            baselines.raw_table(conn, is_pg)
            seconds, n = timed(partial(baselines.raw_insert, conn, is_pg, self.journal))
            raw.append(rate(n, seconds))
            conn.close()
            self.db.drop(raw_label)
            self.log(
                f"import rep {rep + 1}: stock {stock[-1]:,.0f} ev/s (sample {sample_events:,}"
                f" events), raw {raw[-1]:,.0f} ev/s"
            )
            self.close(s)
            self.db.drop(label)
        self.journal = None  # a million rows: do not keep them for the other measures
        ratio_a = [o / b for o, b in zip(ours, stock, strict=True)]
        ratio_b = [o / b for o, b in zip(ours, raw, strict=True)]
        aim = self.targets["import"]
        self.results["import"] = {
            "events": events,
            "ours_ev_s": ours,
            "stock_ev_s": stock,
            "raw_ev_s": raw,
            "stock_sample_events": sample_events,
            "stock_sample_every": k,
            "ratio_stock": ratio_a,
            "ratio_raw": ratio_b,
        }
        sampled = (
            f"sample: every {ordinal(k)} transaction, {sample_events:,} ev"
            if k > 1
            else f"all {sample_events:,} ev"
        )
        raw_how = "execute_values" if is_pg else "executemany"
        self.rows.append(
            Row(
                f"bulk import, events/s ({events:,} events, one file)",
                fmt_rate(median(ours)),
                f"stock app.save per tx: {fmt_rate(median(stock))} ({sampled})",
                f"raw {raw_how}: {fmt_rate(median(raw))}",
                f"{fmt_x(median(ratio_a))} a; {fmt_x(median(ratio_b))} b",
                f">= 4x a; aim >= {aim:,} ev/s",
                [(">= 4x", median(ratio_a) >= 4), ("aim", median(ours) >= aim)],
            )
        )

    # -- catch-up ------------------------------------------------------------------
    def measure_catchup(self) -> None:
        """Each repetition: a copy of the ledger as it stands before the window, the
        window imported (untimed), then the catch-up timed. Same events every time."""
        s = self.ensure_base()
        at = next(
            (i for i in range(self.step, len(self.w.steps)) if self.w.steps[i].kind == "window"),
            None,
        )
        if at is None:
            raise RuntimeError("no catch-up window in the workload (it was imported already)")
        for step in self.w.steps[self.step : at]:
            self.record(s, "filler.jsonl", step.data)
            s.projector.catch_up()
        self.step = at
        window = self.w.steps[at]
        before = s.store.head()
        self.close(s)  # PostgreSQL copies a database only while nobody is connected to it
        self.base = None
        seconds: list[float] = []
        events: list[int] = []
        import_s: list[float] = []
        try:
            for rep in range(self.args.reps):
                label = f"catchup{rep}"
                self.db.clone("main", label)
                c = cli.Session(self.db.url(label))
                t, _ = timed(partial(self.record, c, "window.jsonl", window.data))
                import_s.append(t)
                t, caught = timed(c.projector.catch_up)
                seconds.append(t)
                events.append(caught.events)
                self.close(c)
                self.db.drop(label)
                self.log(
                    f"catch-up rep {rep + 1}: {caught.events:,} new events in {t:.3f} s "
                    f"({rate(caught.events, t):,.0f} ev/s; "
                    f"their import took {import_s[-1]:.2f} s)"
                )
        finally:
            self.base = cli.Session(self.db.url("main"))
        rates = [rate(e, t) for e, t in zip(events, seconds, strict=True)]
        per_10k = [t * 10_000 / e for e, t in zip(events, seconds, strict=True)]
        self.results["catchup"] = {
            "window_events_estimate": window.estimated_events,
            "window_transactions": window.transactions,
            "events": events,
            "seconds": seconds,
            "rate": rates,
            "seconds_per_10000": per_10k,
            "import_seconds": import_s,
            "ledger_events_before": before,
        }
        self._catchup_rates = (seconds, events, rates, per_10k)

    def catchup_row(self) -> None:
        if "catchup" not in self.results:
            return
        seconds, events, rates, per_10k = self._catchup_rates
        if not self.rebuild_seconds:  # --only catchup: one full rebuild for comparison
            s = self.ensure_complete()
            t, _ = timed(s.projector.rebuild)
            self.rebuild_seconds.append(t)
        rebuild = median(self.rebuild_seconds)
        aim = self.targets["catchup"]
        ledger = self.results["catchup"]["ledger_events_before"]
        self.rows.append(
            Row(
                f"catch-up after importing {median(events):,.0f} new events into a "
                f"{ledger:,}-event ledger, s",
                f"{median(seconds):.3f} s ({median(events):,.0f} ev; {fmt_rate(median(rates))})",
                f"full rebuild: {rebuild:.2f} s",
                "",
                f"{fmt_x(rebuild / median(seconds))} faster than a",
                f"< 0.5 s per 10,000 ev; >= {aim:,} ev/s",
                [("< 0.5 s", median(per_10k) < 0.5), ("rate", median(rates) >= aim)],
            )
        )

    # -- replay --------------------------------------------------------------------
    def measure_replay(self) -> None:
        """Two rows against the same baselines, measured in the same repetitions: the
        replay (`housing-ledger replay`: read, decode and fold the journal in memory) and
        the rebuild of every stored projection (the same fold, plus writing its rows)."""
        s = self.ensure_complete()
        is_pg = self.is_pg
        app = HousingLedger(env=persistence_env(self.db.url("main")))
        raw_conn = self.db.raw("main")
        ours: list[float] = []
        rebuilt_rates: list[float] = []
        digest_s: list[float] = []
        lib: list[float] = []
        raw: list[float] = []
        events = 0
        for rep in range(self.args.reps):
            t, replayed = timed(partial(replay.rebuild_in_memory, s.store))
            events = replayed.events
            ours.append(rate(events, t))
            t, _ = timed(partial(replay.state_digest, replayed.state))
            digest_s.append(t)
            replayed.state.close()
            del replayed
            s.conn.rollback()  # end the replay's read snapshot before the rebuild writes
            t, rebuilt = timed(s.projector.rebuild)
            self.rebuild_seconds.append(t)
            rebuilt_rates.append(rate(rebuilt.events, t))
            self.vacuum()
            t, n = timed(lambda: baselines.library_read(app))
            lib.append(rate(n, t))
            t, n = timed(lambda: baselines.raw_read(raw_conn, is_pg))
            raw.append(rate(n, t))
            self.log(
                f"replay rep {rep + 1}: ours {ours[-1]:,.0f} ev/s ({events:,} events; digest "
                f"{digest_s[-1]:.2f} s), rebuild {rebuilt_rates[-1]:,.0f} ev/s, "
                f"library {lib[-1]:,.0f} ev/s, raw {raw[-1]:,.0f} ev/s"
            )
        app.close()
        raw_conn.close()
        aim = self.targets["replay"]
        self.results["replay"] = {
            "events": events,
            "ours_ev_s": ours,
            "digest_seconds": digest_s,
            "rebuild_ev_s": rebuilt_rates,
            "library_ev_s": lib,
            "raw_ev_s": raw,
            "ratio_library": [o / b for o, b in zip(ours, lib, strict=True)],
            "ratio_raw": [o / b for o, b in zip(ours, raw, strict=True)],
            "rebuild_seconds": self.rebuild_seconds,
        }
        for name, rates, aimed in (
            ("full replay: fold the journal in memory (`replay`)", ours, aim),
            ("rebuild every stored projection", rebuilt_rates, None),
        ):
            self.rows.append(
                self.replay_row(f"{name}, events/s ({events:,} events)", rates, lib, raw, aimed)
            )

    @staticmethod
    def replay_row(
        measure: str, ours: list[float], lib: list[float], raw: list[float], aim: int | None
    ) -> Row:
        """One row against the library's read path (a) and the raw read (b); the ratio
        targets of issue 5, and its events/s aim for the replay (`aim`)."""
        ratio_a = median([o / b for o, b in zip(ours, lib, strict=True)])
        ratio_b = median([o / b for o, b in zip(ours, raw, strict=True)])
        checks: list[tuple[str, bool | None]] = [
            (">= 8x", ratio_a >= 8),
            (">= 0.3x", ratio_b >= 0.3),
        ]
        target = ">= 8x a; >= 0.3x b"
        if aim is not None:
            checks.append(("aim", median(ours) >= aim))
            target += f"; aim >= {aim:,} ev/s"
        return Row(
            measure,
            fmt_rate(median(ours)),
            f"library read + decode: {fmt_rate(median(lib))}",
            f"raw SELECT + orjson: {fmt_rate(median(raw))}",
            f"{fmt_x(ratio_a)} a; {fmt_x(ratio_b)} b",
            target,
            checks,
        )

    # -- holdings ------------------------------------------------------------------
    def measure_holdings(self) -> None:
        s = self.ensure_complete()
        conn, is_pg, as_of = s.conn, self.is_pg, self.args.as_of
        raw = self.db.raw("main")
        plain_rows = baselines.plain_periods(raw, is_pg)
        cur = raw.cursor()
        p = "%s" if is_pg else "?"
        cur.execute(
            f"SELECT holder, COUNT(*) FROM {baselines.PLAIN_PERIODS} WHERE from_date <= {p} "
            f"AND (to_date IS NULL OR to_date > {p}) GROUP BY holder ORDER BY 2 DESC LIMIT 1",
            (as_of, as_of),
        )
        entity = cur.fetchone()[0]
        cur.close()
        cases: list[tuple[str, str | None, str | None]] = [
            ("whole group", None, None),
            (f"one entity ({entity})", entity, None),
            ("--by zone", None, "zone"),
        ]
        results: dict[str, Any] = {"as_of": as_of, "plain_rows": plain_rows}
        conn.rollback()
        gc.collect()
        for name, ent, by in cases:
            ours_t: list[float] = []
            hand_t: list[float] = []
            mine = queries.holdings(conn, as_of, ent, by)
            hand = baselines.hand_holdings(raw, is_pg, as_of, ent, by)
            agree = sum(r.full_ownership + r.usufruct + r.bare_ownership for r in mine) == sum(
                int(f) + int(u) + int(b) for *_, f, u, b in hand
            )
            for _ in range(self.args.reps):
                for _ in range(self.args.query_runs):
                    t, _ = timed(partial(queries.holdings, conn, as_of, ent, by), collect=False)
                    ours_t.append(t)
                    t, _ = timed(
                        partial(baselines.hand_holdings, raw, is_pg, as_of, ent, by), collect=False
                    )
                    hand_t.append(t)
            ratio = median(ours_t) / median(hand_t)
            results[name] = {"ours_s": ours_t, "hand_s": hand_t, "same_totals": agree}
            self.log(
                f"holdings {name}: ours {fmt_ms(median(ours_t))}, hand SQL "
                f"{fmt_ms(median(hand_t))} (same totals: {agree})"
            )
            self.rows.append(
                Row(
                    f"holdings as of {as_of}, {name}: median latency",
                    fmt_ms(median(ours_t)),
                    f"hand SQL, plain table: {fmt_ms(median(hand_t))}",
                    "",
                    f"{fmt_x(ratio)} a",
                    "<= 2x a; < 200 ms",
                    [("<= 2x", ratio <= 2), ("< 200 ms", median(ours_t) < 0.2)],
                )
            )
        baselines.drop_plain_periods(raw, is_pg)
        raw.close()
        self.results["holdings"] = results

    # -- statements ----------------------------------------------------------------
    def measure_statements(self) -> None:
        s = self.ensure_complete()
        conn = s.conn
        statements: list[tuple[str, Callable[[], Any]]] = [
            ("movements --year 2018", lambda: movements.statement(conn, 2018)),
            ("sales --year 2019", lambda: sales.statement(conn, 2019)),
            (
                "programme --start 2017 --years 5 --target 100000",
                lambda: programme.statement(conn, 2017, 5, 100_000, "intermediate"),
            ),
            (
                "dismemberment --as-of 2020-12-31",
                lambda: dismemberment.statement(conn, "2020-12-31", "2020-12-31"),
            ),
            (
                "dismemberment (current)",
                lambda: dismemberment.statement(conn, None, datetime.date.today().isoformat()),
            ),
            ("divestments", lambda: divestments.statement(conn, None)),
        ]
        results: dict[str, list[float]] = {}
        for name, fn in statements:
            fn()  # warm: the first run also reads the pages into the cache
            results[name] = []
        for _ in range(self.args.reps):
            for name, fn in statements:
                t, _ = timed(fn)
                results[name].append(t)
        for name, times in results.items():
            self.log(f"statement {name}: {fmt_ms(median(times))}")
            self.rows.append(
                Row(
                    f"statement: report {name}",
                    fmt_ms(median(times)),
                    "",
                    "",
                    "",
                    "< 2 s",
                    [("< 2 s", median(times) < 2)],
                )
            )
        self.results["statements"] = results

    # -- memory --------------------------------------------------------------------
    def measure_memory(self) -> None:
        noop = run_child("noop")
        s = self.ensure_complete()  # the base was imported by a child: import_rss
        imported = self.import_rss
        s.conn.rollback()
        self.log("peak RSS: replay (in memory) and rebuild, each in a child process")
        replayed = run_child("replay", self.db.url("main"))
        rebuilt = run_child("rebuild", self.db.url("main"))
        self.results["memory"] = {
            "noop": noop,
            "import": imported,
            "replay": replayed,
            "rebuild": rebuilt,
            "note": "VmHWM of each child; ru_maxrss is not used: a child spawned by this "
            "process starts with this process's high-water mark (fork + exec)",
        }
        base = f"interpreter + imports: {fmt_mib(peak(noop))}"
        self.rows.append(
            Row(
                f"peak RSS, import ({imported['events']:,} events, one file)",
                fmt_mib(peak(imported)),
                base,
                "",
                "",
                "-",
                [],
            )
        )
        for name, report in (
            ("replay, in memory with its digest", replayed),
            ("rebuild every stored projection", rebuilt),
        ):
            self.rows.append(
                Row(
                    f"peak RSS, {name} ({report['events']:,} events)",
                    fmt_mib(peak(report)),
                    base,
                    "",
                    "",
                    "< 1 GiB",
                    [("< 1 GiB", peak(report) < GIB_KIB)],
                )
            )
        self.log(
            f"peak RSS: import {fmt_mib(peak(imported))}, replay {fmt_mib(peak(replayed))}"
            f", rebuild {fmt_mib(peak(rebuilt))}"
        )

    # -- all -----------------------------------------------------------------------
    def run(self, only: list[str]) -> None:
        for name in MEASURES:
            if name in only:
                getattr(self, f"measure_{name}")()
        self.catchup_row()
        order = [
            "bulk import",
            "full replay",
            "rebuild every",
            "catch-up",
            "holdings",
            "statement",
            "peak RSS",
        ]
        self.rows.sort(
            key=lambda r: next(
                (i for i, p in enumerate(order) if r.measure.startswith(p)), len(order)
            )
        )


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m bench.run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--units", type=int, default=100_000, help="units in the demo ledger")
    p.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    p.add_argument("--reps", type=int, default=3, help="repetitions (figures are medians)")
    p.add_argument(
        "--only",
        default=",".join(MEASURES),
        help=f"comma-separated measures among {', '.join(MEASURES)}",
    )
    p.add_argument("--seed", type=int, default=2017)
    p.add_argument(
        "--profile",
        choices=("scale", "default"),
        default="scale",
        help="demo story: scale (3-4 events per unit, issue 5) or default (1.5)",
    )
    p.add_argument(
        "--pg",
        default=PG_SERVER,
        metavar="URL",
        help="PostgreSQL server (a scratch database hl_bench_<random> is created and dropped)",
    )
    p.add_argument(
        "--stock-sample",
        type=int,
        default=20_000,
        metavar="EVENTS",
        help="events in the stock-path sample (every k-th transaction)",
    )
    p.add_argument(
        "--catchup-events",
        type=int,
        default=10_000,
        metavar="EVENTS",
        help="new events imported before each timed catch-up",
    )
    p.add_argument("--as-of", default="2020-12-31", help="date of the holdings queries")
    p.add_argument(
        "--query-runs", type=int, default=5, help="runs of each holdings query per repetition"
    )
    p.add_argument("--data-dir", default=None, help="where scratch SQLite files go (/tmp)")
    p.add_argument("--keep", action="store_true", help="keep the scratch databases")
    p.add_argument("--output", default=None, help="JSON results file (default bench/results/)")
    args = p.parse_args(argv)
    args.only = [m.strip() for m in args.only.split(",") if m.strip()]
    unknown = set(args.only) - set(MEASURES)
    if unknown:
        p.error(f"unknown measure(s): {', '.join(sorted(unknown))}")
    if args.reps < 1:
        p.error("--reps must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    return run(parse(argv))


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    windows = 1 if "catchup" in args.only else 0
    workload = build(args.units, args.seed, windows, args.catchup_events, args.profile)
    print(
        f"[   0.0s] workload: {args.units:,} units ({args.profile} story), "
        f"{workload.transactions:,} transactions (base {workload.base_transactions:,}; "
        f"catch-up window of ~{workload.window_events:,} events) "
        f"in {time.perf_counter() - started:.1f} s",
        file=sys.stderr,
    )
    with scratch(args.db, args.pg, args.keep, args.data_dir) as db:
        pg_version = db.server_version() if isinstance(db, PostgresScratch) else None
        info = machine(pg_version)
        bench = Bench(args, db, workload)
        bench.started = started
        bench.log(f"scratch: {db.where}")
        bench.run(args.only)
        total = bench.journal_events()
        complete = bench.step == len(workload.steps) and bench.base is not None
        if complete:
            size = db.size("main")
        else:
            size = None
        if bench.base is not None:
            bench.close(bench.base)
    elapsed = time.perf_counter() - started
    per_unit = total / args.units if complete and total else None
    header = (
        f"housing-ledger benchmark: {args.db}, {args.units:,} units"
        + (f" ({total:,} events, {per_unit:.2f} events/unit)" if per_unit else "")
        + f", {args.reps} reps (medians), {elapsed / 60:.1f} min; "
        + f"{info['nproc']} CPU {info['cpu']}, Python {info['python']}, SQLite {info['sqlite']}"
        + (f", PostgreSQL {pg_version}" if pg_version else "")
        + f", git {info['git']}"
    )
    print(header)
    if args.units < 1_000_000:
        print("(the targets are stated for 1M units; met? applies them at this size)")
    print()
    print(markdown(bench.rows))
    out = (
        Path(args.output)
        if args.output
        else (
            ROOT
            / "bench"
            / "results"
            / f"{args.db}-{args.units}u-{datetime.datetime.now():%Y%m%d-%H%M%S}.json"
        )
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "args": {k: v for k, v in vars(args).items()},
                "machine": info,
                "workload": {
                    "units": args.units,
                    "seed": args.seed,
                    "profile": args.profile,
                    "transactions": workload.transactions,
                    "base_transactions": workload.base_transactions,
                    "windows": len(workload.windows),
                    "window_events": workload.window_events,
                    "journal_events": total,
                    "events_per_unit": per_unit,
                    "database_bytes": size,
                },
                "elapsed_s": elapsed,
                "table": [
                    {
                        "measure": r.measure,
                        "ours": r.ours,
                        "baseline_a": r.a,
                        "baseline_b": r.b,
                        "ratio": r.ratio,
                        "target": r.target,
                        "met": r.met,
                    }
                    for r in bench.rows
                ],
                "measures": bench.results,
                "vacuum_seconds": bench.vacuum_seconds,
            },
            indent=2,
            default=str,
        )
    )
    print(f"\nresults: {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
