"""The benchmark's ledger: the seeded demo story (`ledger.demo.generate`) cut in three.

- `base`: the story up to the catch-up window, imported in one file (the bulk import);
- the *window*: the last run of about `window_events` new events (10,000) of the story
  with no merger or reversal inside, imported before the timed catch-up;
- *fillers*: the rest of the story before and after the window, imported and caught up
  untimed, so that the ledger ends as the whole story for the other measures.

The number of events of a transaction is estimated before booking as (units it names)
+ 1 (one event per unit plus the journal's `Recorded`); a merger or a reversal writes one
event per unit the absorbed entity holds or the reversed transaction touched, unknown
before booking (a merger of a large company is tens of thousands of events), so neither
ever sits in a window. The catch-up reports the events it actually folded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ledger.demo import generate

UNKNOWN_SIZE = frozenset({"merger", "reversal"})


def estimated_events(tx: dict[str, Any]) -> int:
    return len(tx.get("units") or ()) + 1


def jsonl(transactions: list[dict[str, Any]]) -> bytes:
    """The input format, as `housing-ledger demo --output` writes it."""
    if not transactions:
        return b""
    return ("\n".join(json.dumps(tx, ensure_ascii=False) for tx in transactions) + "\n").encode()


@dataclass
class Step:
    kind: str  # "window" or "filler"
    data: bytes
    transactions: int
    estimated_events: int


@dataclass
class Workload:
    units: int
    seed: int
    window_events: int
    base: bytes
    base_transactions: int
    base_estimated_events: int
    steps: list[Step] = field(default_factory=list)

    @property
    def windows(self) -> list[Step]:
        return [s for s in self.steps if s.kind == "window"]

    @property
    def transactions(self) -> int:
        return self.base_transactions + sum(s.transactions for s in self.steps)


def build(
    units: int, seed: int, windows: int, window_events: int, profile: str = "scale"
) -> Workload:
    txs = list(generate(units=units, seed=seed, profile=profile))
    total = sum(estimated_events(tx) for tx in txs)
    if windows and total < 3 * windows * window_events:
        window_events = max(20, total // (3 * windows))  # small ledgers (smoke runs)
    cuts: list[tuple[int, int]] = []  # window ranges [start, end), found backwards
    end = j = len(txs)
    acc = 0
    while len(cuts) < windows and j > 0:
        tx = txs[j - 1]
        j -= 1
        if tx["type"] in UNKNOWN_SIZE:
            end, acc = j, 0  # the partial window (and this transaction) become filler
            continue
        acc += estimated_events(tx)
        if acc >= window_events:
            cuts.append((j, end))
            end, acc = j, 0
    if len(cuts) < windows:
        raise ValueError(f"the story of {units} units is too short for {windows} windows")
    cuts.reverse()
    base_end = cuts[0][0] if cuts else len(txs)
    workload = Workload(
        units,
        seed,
        window_events,
        jsonl(txs[:base_end]),
        base_end,
        sum(estimated_events(tx) for tx in txs[:base_end]),
    )
    previous = base_end
    for start, stop in [*cuts, (len(txs), len(txs))]:
        for kind, part in (("filler", txs[previous:start]), ("window", txs[start:stop])):
            if part:
                workload.steps.append(
                    Step(kind, jsonl(part), len(part), sum(estimated_events(t) for t in part))
                )
        previous = stop
    return workload
