"""Sorted runs of byte lines: the external sort behind the replay's digest and check.

A replay digests and compares every projection row, each as one line sorted bytewise. A
national ledger's rows do not fit in memory, so `Runs` holds lines as sorted runs (in
memory for a small state, else each in an anonymous temporary file, under `TMPDIR`) and
merges them when read. Each line ends with b"\\n": the lines are compact JSON, whose bytes
are all above b"\\n", so the terminated lines sort exactly as the bare ones would.
"""

from __future__ import annotations

import heapq
import tempfile
from collections.abc import Iterator
from typing import IO


class Runs:
    """Lines added in sorted runs, read back as one sorted stream (as often as wanted).
    With `spill`, each run goes to a temporary file."""

    def __init__(self, spill: bool) -> None:
        self.spill = spill
        self.lines = 0
        self._memory: list[list[bytes]] = []
        self._files: list[IO[bytes]] = []

    def add(self, lines: list[bytes]) -> None:
        """Sort `lines` (in place) and keep them as one run."""
        if not lines:
            return
        lines.sort()
        self.lines += len(lines)
        if not self.spill:
            self._memory.append(lines)
            return
        file = tempfile.TemporaryFile()  # noqa: SIM115 (closed by close())
        for start in range(0, len(lines), 10_000):
            file.write(b"".join(lines[start : start + 10_000]))
        self._files.append(file)

    def __iter__(self) -> Iterator[bytes]:
        for file in self._files:
            file.seek(0)
        runs: list[Iterator[bytes]] = [iter(run) for run in self._memory]
        runs.extend(iter(file) for file in self._files)  # a binary file iterates its lines
        if len(runs) == 1:
            return runs[0]
        return heapq.merge(*runs)

    def close(self) -> None:
        for file in self._files:
            file.close()
        self._files.clear()
        self._memory.clear()


def chunks(lines: Iterator[bytes], size: int = 10_000) -> Iterator[bytes]:
    """The lines joined `size` at a time (for hashing)."""
    chunk: list[bytes] = []
    for line in lines:
        chunk.append(line)
        if len(chunk) == size:
            yield b"".join(chunk)
            chunk = []
    if chunk:
        yield b"".join(chunk)


def differences(
    stored: Iterator[bytes], rebuilt: Iterator[bytes]
) -> tuple[int, bytes | None, bytes | None]:
    """Walk two sorted streams of lines as multisets: how many lines are in one and not the
    other, the first (smallest) line only `stored` has, and the first only `rebuilt` has."""
    count = 0
    extra: bytes | None = None
    missing: bytes | None = None
    a, b = next(stored, None), next(rebuilt, None)
    while a is not None or b is not None:
        if a == b:
            a, b = next(stored, None), next(rebuilt, None)
        elif b is None or (a is not None and a < b):
            count += 1
            extra = a if extra is None else extra
            a = next(stored, None)
        else:
            count += 1
            missing = b if missing is None else missing
            b = next(rebuilt, None)
    return count, extra, missing
