"""The soak (issue 17): 8 writers and 32 readers on one ledger for a bounded time.

Eight writers import small files one after another (`import --retries 20`): acquisitions
of new units, sales of the writer's own units of the base ledger, new subsidiaries and
their mergers into the writer's own holding entity. Only a merger can meet a conflict
that retrying does not solve quickly: it conflicts with every concurrent write (the
journal moved while it was validated), so under eight busy writers it may run out of
retries; such a file exits 4 naming the conflict and records nothing, and its writer
goes on (nothing later depends on it). Thirty-two readers ask `holdings` (plain, by
zone, one entity as of a date), `history` of a unit the writers sell, `units` of an
entity the mergers feed, and the `report movements` and `report sales` statements, in
JSON, round and round. Every worker is an OS process (`processes.Fleet`).

Checked:
- writers exit 0, or 4 on a merger file whose retries ran out (counted, named in the
  error); readers exit 0; no traceback anywhere;
- every answer stands at a transaction boundary of the final journal (nothing
  half-written visible), each reader's positions never go back, and an answer started
  after an import was acknowledged includes it;
- every answer equals the same command with `--known-at` its position, asked once the
  writers are done (the ledger as it stood then), and plain `holdings` answers equal the
  reference model's fold of the journal up to that position;
- at the end `audit verify` and `replay --check` pass, holdings equal the reference
  model, and the journal holds exactly the base and the files whose import exited 0,
  each transaction once and as filed.

Each command's p50/p99 latency is printed and logged (HL_RELIABILITY_LOG), never
asserted. A few seconds per database by default; minutes with --runslow.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from tests import reference_model
from tests.reliability import processes as p

WRITERS, READERS = 8, 32
SECONDS, SLOW_SECONDS = 5.0, 180.0
RETRIES = 20
REFERENCE_CHECKS = 30  # plain holdings answers also folded by the reference model (slow)
CONFLICT_WORDS = ("changed by another writer", "the journal moved from position")


def _entity(eid: str, kind: str) -> dict[str, Any]:
    return {"id": f"ENT-{eid}", "type": "register_entity", "date": "2017-01-01",
            "entity": eid, "name": f"Entity {eid}", "kind": kind, "region": "11"}  # fmt: skip


def _unit(uid: str, segment: str = "social", zone: str = "A") -> dict[str, Any]:
    return {"unit_id": uid, "commune": "75056", "zone": zone, "segment": segment}


def base(sales_per_writer: int) -> list[dict[str, Any]]:
    units = [_unit(f"B-{w}-{i}") for w in range(WRITERS) for i in range(sales_per_writer)]
    return [
        _entity("ESH-A", "hlm"),
        _entity("LLI-A", "lli"),
        *(_entity(f"TGT-{w}", "lli") for w in range(WRITERS)),
        {
            "id": "OPEN-A",
            "type": "register_units",
            "date": "2017-01-01",
            "entity": "ESH-A",
            "units": units,
        },  # fmt: skip
    ]


def writer_file(w: int, k: int) -> list[dict[str, Any]]:
    """Writer w's k-th file: two acquisitions, and by turns the sale of one of its own
    base units, a new subsidiary with two units, or that subsidiary's merger."""
    txs: list[dict[str, Any]] = [
        {
            "id": f"ACQ-{w}-{k}-{j}",
            "type": "acquisition",
            "date": "2018-02-01",
            "entity": "LLI-A",
            "mode": "existing",
            "price_eur": "150000.00",
            "units": [_unit(f"U-{w}-{k}-{j}", "intermediate", "B1")],
        }  # fmt: skip
        for j in range(2)
    ]
    if k % 2 == 1:
        txs.append(
            {
                "id": f"SALE-{w}-{k}",
                "type": "sale",
                "date": "2018-03-01",
                "entity": "ESH-A",
                "units": [f"B-{w}-{k // 2}"],
                "buyer": {"category": "sitting_tenant"},
                "price_eur": "90000.00",
            }  # fmt: skip
        )
    if k % 5 == 2:
        txs.append(_entity(f"SUB-{w}-{k}", "lli"))
        txs.append(
            {
                "id": f"OPEN-SUB-{w}-{k}",
                "type": "register_units",
                "date": "2017-06-01",
                "entity": f"SUB-{w}-{k}",
                "units": [_unit(f"S-{w}-{k}-{j}", "intermediate") for j in range(2)],
            }  # fmt: skip
        )
    if k % 5 == 3:
        day = dt.date(2018, 1, 1) + dt.timedelta(days=k)
        txs.append(
            {
                "id": f"MRG-{w}-{k}",
                "type": "merger",
                "date": day.isoformat(),
                "absorbed": [f"SUB-{w}-{k - 1}"],
                "into": f"TGT-{w}",
            }  # fmt: skip
        )
    return txs


def reader_commands(rng: random.Random, count: int, sales: int) -> list[list[str]]:
    menu = [
        lambda: ["holdings"],
        lambda: ["holdings", "--by", "zone"],
        lambda: ["holdings", "--entity", "LLI-A", "--as-of", "2018-02-15"],
        lambda: ["history", f"B-{rng.randrange(WRITERS)}-{rng.randrange(min(6, sales))}"],
        lambda: ["units", "--entity", f"TGT-{rng.randrange(WRITERS)}"],
        lambda: ["report", "movements", "--year", "2018"],
        lambda: ["report", "sales", "--year", "2018"],
    ]  # fmt: skip
    return [[*rng.choice(menu)(), "--format", "json"] for _ in range(count)]


def name(args: list[str]) -> str:
    """The command a latency belongs to."""
    return " ".join(args[:2]) if args[0] == "report" else args[0]


def soak(url: str, folder: Path, seconds: float, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    files_per_writer = int(seconds * 12) + 20  # more than a writer gets through
    sales = files_per_writer // 2 + 1
    p.ok(url, "init")
    p.ok(url, "import", str(p.write(folder / "base.jsonl", base(sales))))
    files: dict[str, list[dict[str, Any]]] = {}
    plans = []
    for w in range(WRITERS):
        commands = []
        for k in range(files_per_writer):
            path = p.write(folder / f"w{w}-{k:04d}.jsonl", writer_file(w, k))
            files[str(path)] = writer_file(w, k)
            commands.append(["import", "--retries", str(RETRIES), str(path)])
        plans.append(p.Plan(commands))
    plans += [p.Plan(reader_commands(rng, 60, sales), cycle=True) for _ in range(READERS)]
    results = p.fleet(url, folder / "fleet", plans, seconds)
    writes = [d for worker in results[:WRITERS] for d in worker]
    reads = [d for worker in results[WRITERS:] for d in worker]
    for done in writes + reads:
        assert "Traceback" not in done.stderr, str(done)

    # Writers: acknowledged, or a merger that ran out of retries (and then nothing of it).
    exhausted = []
    for done in writes:
        if done.returncode == 0:
            continue
        filed = files[done.args[-1]]
        assert done.returncode == 4, str(done)
        assert any(tx["type"] == "merger" for tx in filed), f"not a merger file\n{done}"
        assert any(word in done.stderr for word in CONFLICT_WORDS), str(done)
        exhausted.append(done)
    assert [d.returncode for d in reads if d.returncode != 0] == [], [
        str(d) for d in reads if d.returncode != 0
    ][:3]

    # The ledger: exactly the base and the acknowledged files, as filed, each once.
    intact = p.assert_intact(url)
    rows = [
        json.loads(line) for line in p.ok(url, "journal", "--format", "jsonl").stdout.splitlines()
    ]
    positions = {row["id"]: row["journal"]["position"] for row in rows}
    expected = base(sales) + [tx for d in writes if d.returncode == 0 for tx in files[d.args[-1]]]
    assert sorted(intact.journal, key=lambda tx: tx["id"]) == sorted(
        expected, key=lambda tx: tx["id"]
    )

    # Readers: boundaries, monotonic, read-after-acknowledged-write.
    boundaries = {0, *positions.values()}
    acknowledged = sorted(
        (d.end, max(positions[tx["id"]] for tx in files[d.args[-1]]))
        for d in writes
        if d.returncode == 0
    )
    answers: dict[tuple[str, ...], dict[int, Any]] = defaultdict(dict)
    last_seen: dict[int, int] = {}
    for done in sorted(reads, key=lambda d: d.start):
        doc = json.loads(done.stdout)
        at = doc["position"]
        assert at in boundaries, f"an answer at position {at}, inside a transaction\n{done}"
        assert at >= last_seen.get(done.worker, 0), f"reader went back in time\n{done}"
        last_seen[done.worker] = at
        seen = [pos for end, pos in acknowledged if end < done.start]
        assert at >= max(seen, default=0), f"missed an acknowledged import\n{done}"
        answers[tuple(done.args)].setdefault(at, doc)

    # Each answer = the same question asked afterwards with --known-at its position.
    checks = [[*args, "--known-at", str(at)] for args, by in answers.items() for at in by]
    replayed = p.fleet(url, folder / "check", [p.Plan(checks[i::2]) for i in range(2)])
    journal_order = sorted(intact.journal, key=lambda tx: positions[tx["id"]])
    stale: list[str] = []
    for done in (d for worker in replayed for d in worker):
        assert done.returncode == 0, str(done)
        args, at = tuple(done.args[:-2]), int(done.args[-1])
        if json.loads(done.stdout) != answers[args][at]:
            doc = answers[args][at]
            found = _which(doc, args, journal_order, positions) if len(stale) < 5 else "differs"
            stale.append(f"{' '.join(args)} at {at}: {found}")
    plain = sorted(answers[("holdings", "--format", "json")].items())
    for at, doc in rng.sample(plain, min(len(plain), REFERENCE_CHECKS)):
        prefix = [tx for tx in journal_order if positions[tx["id"]] <= at]
        if doc["rows"] != reference_model.holdings(prefix):
            stale.append(f"holdings at {at} differs from the reference model")
    stale_commands = sorted({line.split(" at ")[0] for line in stale})

    latencies = defaultdict(list)
    for done in writes + reads:
        latencies[name(done.args)].append(done.seconds)
    figures = {
        "seconds": seconds,
        "imports": len(writes),
        "imports_acknowledged": len(writes) - len(exhausted),
        "merger_files": sum(
            any(tx["type"] == "merger" for tx in files[d.args[-1]]) for d in writes
        ),
        "retries_exhausted": len(exhausted),
        "reads": len(reads),
        "answers_checked": len(checks),
        "transactions": len(intact.journal),
        "stale_answers": len(stale),
        "stale_commands": stale_commands,
        "latency": {cmd: p.percentiles(values) for cmd, values in sorted(latencies.items())},
    }
    print(json.dumps(figures, indent=1))
    if stale:
        raise StaleAnswer(
            f"{len(stale)} of {len(checks)} answers are not the ledger as it "
            "stood at the position they give:\n" + "\n".join(stale[:20])
        )
    return figures


class StaleAnswer(AssertionError):
    """An answer that is not the ledger at the position it gives (docs/reliability.md)."""


def _which(
    doc: dict[str, Any],
    args: tuple[str, ...],
    journal: list[dict[str, Any]],
    positions: dict[str, int],
) -> str:
    """For a plain holdings answer: the journal positions whose ledger it does match."""
    if args[:1] != ("holdings",) or len(args) != 3:
        return "differs"
    at = doc["position"]
    end = next(n for n, tx in enumerate(journal) if positions[tx["id"]] == at)
    matching = [
        positions[journal[n]["id"]]
        for n in range(end, max(-1, end - 20), -1)  # the 20 transactions before
        if reference_model.holdings(journal[: n + 1]) == doc["rows"]
    ]
    return f"differs; it is the ledger at position(s) {matching}"


@pytest.mark.parametrize(
    "seconds",
    [
        pytest.param(SECONDS),
        pytest.param(SLOW_SECONDS, marks=pytest.mark.slow),
    ],
)
def test_eight_writers_and_thirty_two_readers_agree_with_the_journal(
    db_url: str, tmp_path: Path, seconds: float
) -> None:
    figures = soak(db_url, tmp_path, seconds, seed=int(seconds))
    p.log("soak", db_url, **figures)
