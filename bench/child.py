"""Run one operation in a fresh interpreter and report its peak memory (RSS).

    python bench/child.py noop                # the interpreter plus the ledger's imports
    python bench/child.py import URL FILE     # record FILE (JSONL) into the ledger at URL
    python bench/child.py replay URL          # the replay: fold the journal in memory, digest
    python bench/child.py rebuild URL         # rebuild every projection from the journal

The last line of stdout is JSON: events, seconds, and the peak RSS in KiB from
/proc/self/status (VmHWM) and from getrusage(RUSAGE_SELF).ru_maxrss.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cli  # noqa: E402  (the composition root: Session)
from projections.engine import replay  # noqa: E402


def vm_hwm_kib() -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def main(argv: list[str]) -> int:
    command = argv[0]
    report: dict[str, object] = {"command": command}
    if command == "import":
        url, path = argv[1], argv[2]
        session = cli.Session(url)
        session.current()
        store = session.store
        writing = store.writing
        held = [0.0]

        @contextmanager
        def timed_writing() -> Iterator[object]:
            """The journal's write lock is held for the whole block (lock to commit)."""
            began = time.perf_counter()
            try:
                with writing() as writer:
                    yield writer
            finally:
                held[0] += time.perf_counter() - began

        store.writing = timed_writing  # type: ignore[method-assign,assignment]
        report["monotonic_start"] = time.monotonic()
        started = time.perf_counter()
        with open(path, "rb") as stream:  # read line by line, as `import FILE` does
            result = session.recorder.record([(Path(path).name, stream)])
        report["seconds"] = time.perf_counter() - started
        report["monotonic_end"] = time.monotonic()
        report["append_seconds"] = held[0]
        report["events"] = result.events
        report["errors"] = len(result.errors)
    elif command == "replay":
        session = cli.Session(argv[1])
        replayed = replay.rebuild_in_memory(session.store)
        report["digest"] = replay.state_digest(replayed.state)
        report["seconds"] = replayed.seconds
        report["events"] = replayed.events
    elif command == "rebuild":
        session = cli.Session(argv[1])
        rebuilt = session.projector.rebuild()
        report["seconds"] = rebuilt.seconds
        report["events"] = rebuilt.events
    elif command != "noop":
        print(f"unknown command {command}", file=sys.stderr)
        return 2
    report["vmhwm_kib"] = vm_hwm_kib()
    report["maxrss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
