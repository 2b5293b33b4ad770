"""Backups taken while writers import (issue 17): `db backup` on SQLite.

A writer records transaction files one after another (`import` in its own process) while
the trial takes `db backup COPY` at a random moment. Then, on the copy, as a restore
would use it:

- its hash chain verifies, its projections equal a replay, and its holdings equal the
  reference model's fold of the transactions it holds (`assert_intact`);
- it holds every transaction committed before the backup began (the journal head read
  from outside just before) and nothing half-written: its journal is a prefix, in order,
  of the ledger's once the writer is done;
- the digest `db backup` printed is the ledger's own digest at that position.

2 trials by default, 10 with --runslow; the counts go to docs/reliability.md.
"""

from __future__ import annotations

import json
import random
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.reliability.processes import (
    assert_intact,
    journal,
    log,
    ok,
    query,
    run,
    write,
)

BATCHES = 12
PER_BATCH = 15


def transactions(batch: int) -> list[dict[str, Any]]:
    return [
        {
            "id": f"ACQ-{batch:03d}-{i:03d}",
            "type": "acquisition",
            "date": f"2019-{1 + batch % 12:02d}-{1 + i % 28:02d}",
            "entity": "LLI-B",
            "mode": "vefa",
            "price_eur": "200000.00",
            "units": [
                {
                    "unit_id": f"U-{batch:03d}-{i:03d}-{k}",
                    "commune": "92050",
                    "zone": "Abis",
                    "segment": "intermediate",
                }  # fmt: skip
                for k in range(4)
            ],
        }
        for i in range(PER_BATCH)
    ]


def head(url: str) -> int:
    rows = query(url, "SELECT MAX(id) FROM housingledger_events")
    return int(rows[0][0] or 0)


@pytest.mark.parametrize(
    "trial", [*range(2), *(pytest.param(t, marks=pytest.mark.slow) for t in range(2, 10))]
)
def test_a_backup_taken_while_a_writer_imports_restores_a_ledger_that_proves_itself(
    tmp_path: Path, trial: int
) -> None:
    url = f"sqlite:///{tmp_path}/ledger.db"
    ok(url, "init")
    entity = {"id": "E-B", "type": "register_entity", "date": "2017-01-01", "entity": "LLI-B",
              "name": "LLI B", "kind": "lli"}  # fmt: skip
    ok(url, "import", str(write(tmp_path / "entity.jsonl", [entity])))
    files = [write(tmp_path / f"batch-{b}.jsonl", transactions(b)) for b in range(BATCHES)]
    failures: list[str] = []

    def writer() -> None:
        for path in files:
            result = run(url, "import", str(path))
            if result.returncode != 0:
                failures.append(str(result))

    thread = threading.Thread(target=writer)
    thread.start()
    time.sleep(random.Random(trial).uniform(0.5, 4.0))
    before = head(url)
    copy = tmp_path / "backup.db"
    backup = run(url, "db", "backup", str(copy))
    thread.join()
    assert backup.returncode == 0, str(backup)
    assert not failures, failures
    printed = json.loads(backup.stdout)
    copy_url = f"sqlite:///{copy}"

    restored = assert_intact(copy_url)
    final = journal(url)
    assert printed["position"] >= before  # every transaction committed before it began
    assert restored.journal == final[: len(restored.journal)]  # a prefix: nothing half-written
    same = json.loads(ok(url, "audit", "digest", "--position", str(printed["position"])).stdout)
    assert same == {"position": printed["position"], "digest": printed["digest"]}
    log(
        "backup_during_import",
        url,
        transactions_in_copy=len(restored.journal),
        transactions_at_end=len(final),
        head_before=before,
        copy_position=printed["position"],
    )


def test_a_backup_never_overwrites_and_postgresql_is_pointed_to_pg_dump(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/ledger.db"
    ok(url, "init")
    taken = tmp_path / "taken.db"
    taken.write_bytes(b"not a ledger")
    refused = run(url, "db", "backup", str(taken))
    assert refused.returncode == 1 and "exists" in refused.stderr
    assert taken.read_bytes() == b"not a ledger"
    assert not list(tmp_path.glob(".*.partial"))
