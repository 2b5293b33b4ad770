"""The command service: `Recorder` records transaction files in the journal.

`Recorder.record` runs the import pipeline on a stream of lines, chunk by chunk: parse
(`lines`, `transactions`) -> book against the ledger (`book`, `handlers`) -> write the
chunk's events, all inside one database transaction holding the journal's write lock,
committed if and only if nothing was rejected (docs/decisions/0012-streamed-import.md).
`Recorder.record_stream` does the same for a long stream of registrations (an RPLS
file), writing each transaction as it is booked. It reaches the
outside world only through the ports (`ports.EventStore`, the journal; `ports.LedgerIndex`,
the lookups served by the projections) and the library application's mapper, which the
composition root (cli.py) hands it.

Must not: open a database, write anything when a line is rejected, or log and skip a
bad line (every error is returned, with its file and line).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate

from ledger.booking.book import ALREADY_RECORDED, Book
from ledger.booking.handlers import HANDLERS
from ledger.booking.lines import decode_line
from ledger.booking.ports import EventStore, LedgerIndex, Pending
from ledger.booking.transactions import Transaction, parse_transaction
from ledger.errors import ConcurrencyConflict, RuleViolation
from ledger.gcpause import paused_gc


@dataclass(frozen=True, slots=True)
class LineError:
    source: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.message}"


@dataclass
class ImportResult:
    recorded: int = 0
    already_recorded: int = 0
    events: int = 0
    position: int = 0
    errors: list[LineError] = field(default_factory=list)


Progress = Callable[[int], None]
#: Transactions (CHUNK) and units named (CHUNK_UNITS) parsed, booked and written at a time
#: by `Recorder.record`: bound what an import holds besides what `Book.release_written` keeps.
CHUNK = 2000
CHUNK_UNITS = 10_000
#: Events booked but not written after which a chunk is written at once, before its end (a
#: chunk of mergers of hundreds of thousands of units is then not held whole).
FLUSH_EVENTS = 20_000


def read_source(name: str, stream: IO[bytes]) -> Iterator[tuple[int, Any | LineError]]:
    """(line number, decoded JSON value or LineError) for every non-blank line."""
    for number, raw in enumerate(stream, start=1):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            yield number, LineError(name, number, f"invalid UTF-8 at byte {e.start}")
            continue
        if not text.strip():
            continue
        try:
            yield number, decode_line(text)
        except RuleViolation as e:
            yield number, LineError(name, number, e.message)


class Recorder:
    """Records files of transactions: all lines valid, or nothing written."""

    def __init__(self, app: Application[UUID], store: EventStore, index: LedgerIndex) -> None:
        self.app = app
        self.store = store
        self.index = index
        self.empty = False

    def load(self, keys: Iterable[UUID]) -> dict[UUID, Aggregate]:
        """Rebuild aggregates from their stored events, in bulk, with the library's mapper.
        An empty journal (when this import began) has none: no need to ask. (Had a
        writer stored some since, the append's check of what was read finds it.)"""
        aggregates: dict[UUID, Any] = {}
        if self.empty:
            return aggregates
        for stored in self.store.load(keys):
            event: Any = self.app.mapper.to_domain_event(stored)
            aggregates[event.originator_id] = event.mutate(aggregates.get(event.originator_id))
        return aggregates

    def record(
        self,
        sources: Iterable[tuple[str, IO[bytes]]],
        progress: Progress | None = None,
        chunk: int | None = None,
    ) -> ImportResult:
        """Record files of JSON Lines (each a name and a stream of its bytes, read line by
        line as the import goes): `chunk` transactions at a time are parsed, booked and
        written, in one database transaction that holds the journal's write lock from
        the first line to the last, then released from memory (`Book.release_written`).
        After an error every line is still checked, so every error is reported, and then
        nothing is recorded (the transaction is rolled back)."""
        entries = (
            (name, number, value)
            for name, stream in sources
            for number, value in read_source(name, stream)
        )
        with paused_gc():
            return self._record(entries, progress, chunk or CHUNK)

    def record_stream(
        self,
        name: str,
        values: Iterable[tuple[int, Any]],
        withhold: Callable[[], bool] | None = None,
        progress: Progress | None = None,
    ) -> ImportResult:
        """Record `register_units` transactions (a line number and a JSON object each) in
        memory that does not grow with the number of units: each transaction is booked
        and written as it comes, in one database transaction that holds the journal's
        write lock from the first to the last (so nothing read can change meanwhile), and
        is then forgotten (`Book.release`). `withhold`, asked once every value is parsed,
        says the source found errors of its own. After an error (of the source or the
        ledger) every transaction is still booked, so every error is reported, and then
        nothing is recorded (the writer abandons). The caller guarantees that unit ids and
        rpls ids are unique across the transactions (an RPLS file checks both): a
        released unit is found again in the journal, but not its rpls id."""
        result = ImportResult()
        with paused_gc(), self.store.writing() as writer:
            head = writer.head
            self.empty = head == 0
            book = Book(self.index, self.load, self.app.mapper, HANDLERS)
            for done, (number, value) in enumerate(values, start=1):
                if progress is not None:
                    progress(done)
                try:
                    tx = parse_transaction(value)
                except RuleViolation as e:
                    result.errors.append(LineError(name, number, e.message))
                    continue
                if tx.type != "register_units":
                    raise ValueError(f"record_stream records register_units, not {tx.type}")
                book.prefetch([tx])
                try:
                    booked = book.apply(tx)
                except RuleViolation as e:
                    result.errors.append(LineError(name, number, f"{tx.type} {tx.id}: {e.message}"))
                    continue
                if booked == ALREADY_RECORDED:
                    result.already_recorded += 1
                    continue
                assert isinstance(booked, list)
                result.recorded += 1
                # Written even after an error (the block then drops it all), so that the
                # lines after it are checked against what the lines before it recorded.
                result.events += len(writer.write(booked))
                self.empty = False
                book.release(tx)
            if result.errors or (withhold is not None and withhold()):
                writer.abandon()
                result.recorded = result.already_recorded = result.events = 0
                result.position = head
            else:
                result.position = writer.head
        return result

    def _record(
        self,
        entries: Iterable[tuple[str, int, Any]],
        progress: Progress | None,
        chunk: int,
    ) -> ImportResult:
        """Validate and write `entries` chunk by chunk in one database transaction that
        holds the journal's write lock (docs/decisions/0012-streamed-import.md)."""
        result = ImportResult()
        order: dict[str, int] = {}
        read_at = self.store.head()  # where the projections (the index) stand
        done = 0
        with self.store.writing() as writer:
            head = writer.head
            self.empty = head == 0
            book = Book(self.index, self.load, self.app.mapper, HANDLERS)
            events: list[Pending] = []
            written: list[str] = []

            def flush() -> None:
                """Write what is booked and not written yet; forget it."""
                if book.has_merger and head != read_at:
                    # A merger's units come from the projections, caught up to `read_at`.
                    raise ConcurrencyConflict(
                        f"the journal moved from position {read_at} to {head} while "
                        "this file was validated, and it contains a merger (whose units "
                        "are read from the projections); nothing was written: run the "
                        "import again (or use --retries)"
                    )
                # Written even after an error (the transaction is then rolled back), so
                # that later lines are checked against what earlier lines recorded.
                if events:
                    result.events += len(writer.write(events))
                    self.empty = False
                book.release_written(written)
                events.clear()
                written.clear()

            for lines in _chunks(entries, chunk):
                parsed: list[tuple[str, int, Transaction]] = []
                for name, number, value in lines:
                    order.setdefault(name, len(order))
                    if isinstance(value, LineError):
                        result.errors.append(value)
                        continue
                    try:
                        parsed.append((name, number, parse_transaction(value)))
                    except RuleViolation as e:
                        result.errors.append(LineError(name, number, e.message))
                del lines
                book.prefetch(tx for _, _, tx in parsed)
                for name, number, tx in parsed:
                    done += 1
                    try:
                        booked = book.apply(tx)
                    except RuleViolation as e:
                        result.errors.append(
                            LineError(name, number, f"{tx.type} {tx.id}: {e.message}")
                        )
                        continue
                    finally:
                        if progress is not None:
                            progress(done)
                    if booked == ALREADY_RECORDED:
                        result.already_recorded += 1
                        continue
                    assert isinstance(booked, list)
                    result.recorded += 1
                    events.extend(booked)
                    written.append(tx.id)
                    del booked
                    if len(events) >= FLUSH_EVENTS:
                        flush()
                del parsed
                flush()
            result.errors.sort(key=lambda e: (order.get(e.source, -1), e.line))
            if result.errors:
                writer.abandon()
                result.recorded = result.already_recorded = result.events = 0
            result.position = writer.head if result.events else head
        return result


def _chunks(
    entries: Iterable[tuple[str, int, Any]], size: int
) -> Iterator[list[tuple[str, int, Any]]]:
    """`entries` in lists of at most `size` lines and about CHUNK_UNITS units named (a
    registration of thousands of units is a chunk of its own), read as asked for."""
    lines: list[tuple[str, int, Any]] = []
    units = 0
    for entry in entries:
        lines.append(entry)
        value = entry[2]
        if isinstance(value, dict) and isinstance(value.get("units"), list):
            units += len(value["units"])
        if len(lines) >= size or units >= CHUNK_UNITS:
            yield lines
            lines, units = [], 0
    if lines:
        yield lines
