"""The streamed JSONL import (docs/decisions/0012-streamed-import.md): chunks written in
one database transaction and released from memory record exactly what one whole-file
chunk records; an error in any chunk writes nothing and every error is reported."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from cli import main
from commands.recording import CHUNK_VARIABLE


def run(url: str, *args: str, chunk: int | None = None, stdin: bytes | None = None) -> Result:
    env = {CHUNK_VARIABLE: str(chunk)} if chunk else {}
    return CliRunner().invoke(main, ["--db", url, *args], env=env, input=stdin)


def ok(url: str, *args: str, **kwargs: Any) -> Result:
    result = run(url, *args, **kwargs)
    assert result.exit_code == 0, result.output
    return result


def digest(url: str) -> str:
    summary = json.loads(ok(url, "replay", "--check", "--format", "json").stdout)
    assert summary["check"] == "ok", summary
    return str(summary["digest"])


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's story: registrations, sales, mergers of units entered in the same
    file, usufructs, reversals of transactions of the same file."""
    folder = tmp_path_factory.mktemp("story")
    path = folder / "demo.jsonl"
    ok(f"sqlite:///{folder}/scratch.db", "demo", "--units", "600", "--output", str(path))
    return path


def test_every_chunk_size_records_the_same_ledger(story: Path, tmp_path: Path) -> None:
    digests = {}
    for chunk in (1, 7, 100_000):
        url = f"sqlite:///{tmp_path}/chunk{chunk}.db"
        ok(url, "import", str(story), chunk=chunk)
        digests[chunk] = digest(url)
        again = ok(url, "import", str(story), chunk=chunk)
        assert "recorded 0 transaction(s)" in again.stdout
    assert len(set(digests.values())) == 1, digests


def test_errors_in_several_chunks_are_all_reported_and_nothing_is_written(
    db_url: str, story: Path, tmp_path: Path
) -> None:
    lines = story.read_text("utf-8").splitlines()
    broken = list(lines)
    late = len(lines) - 3
    broken[5] = "{not json"
    sale = json.loads(broken[late])
    sale["date"] = "not a date"
    broken[late] = json.dumps(sale)
    path = tmp_path / "broken.jsonl"
    path.write_text("\n".join(broken) + "\n", "utf-8")
    result = run(db_url, "import", str(path), chunk=5)
    assert result.exit_code == 1, result.output
    assert f"{path}:6:" in result.stderr
    assert f"{path}:{late + 1}:" in result.stderr
    assert "nothing was recorded" in result.stderr
    journal = ok(db_url, "journal", "--format", "jsonl").stdout
    assert journal.strip() == ""


def test_standard_input_is_streamed_and_spooled_for_retries(story: Path, tmp_path: Path) -> None:
    data = story.read_bytes()
    first = f"sqlite:///{tmp_path}/a.db"
    second = f"sqlite:///{tmp_path}/b.db"
    ok(first, "import", "-", stdin=data, chunk=9)
    ok(second, "import", "--retries", "2", "-", stdin=data, chunk=9)
    assert digest(first) == digest(second)


def test_a_chunk_written_before_its_end_records_the_same_journal(
    story: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A chunk whose booked events pass `FLUSH_EVENTS` (a merger of many units) is written
    and released at once, before its end: same events in the same order, same ledger."""
    import sqlite3

    from ledger.booking import service
    from ledger.storage.eventstore import JournalWriter

    def journal(path: Path) -> list[tuple[bytes, int, str]]:
        with sqlite3.connect(path) as conn:
            return conn.execute(
                "SELECT originator_id, originator_version, topic FROM housingledger_events "
                "ORDER BY id"
            ).fetchall()

    whole, flushed = tmp_path / "whole.db", tmp_path / "flushed.db"
    ok(f"sqlite:///{whole}", "import", str(story), chunk=100_000)
    writes: list[int] = []
    write = JournalWriter.write

    def counted(self: JournalWriter, events: Any) -> list[int]:
        writes.append(len(events))
        return write(self, events)

    monkeypatch.setattr(service, "FLUSH_EVENTS", 50)
    monkeypatch.setattr(JournalWriter, "write", counted)
    ok(f"sqlite:///{flushed}", "import", str(story), chunk=100_000)
    assert len(writes) > 10 and max(writes) < sum(writes) / 2, writes
    assert journal(flushed) == journal(whole)
    assert digest(f"sqlite:///{flushed}") == digest(f"sqlite:///{whole}")


def test_the_chain_is_linked_across_the_slices_of_a_write(
    story: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`JournalWriter.write` sends and links `APPEND_CHUNK` events at a time: the chain's
    links continue from one slice to the next, as `audit verify` recomputes them."""
    from ledger.storage import eventstore

    monkeypatch.setattr(eventstore, "APPEND_CHUNK", 7)
    url = f"sqlite:///{tmp_path}/sliced.db"
    ok(url, "import", str(story), chunk=100_000)
    verified = ok(url, "audit", "verify")
    assert "chain verified" in verified.stdout, verified.stdout
    assert "journal is empty" not in verified.stdout
