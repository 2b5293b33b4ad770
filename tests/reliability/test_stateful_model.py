"""A stateful model test: hypothesis drives the real application on a SQLite file.

The state machine keeps two things: the ledger (a `LedgerHarness` on a SQLite file, the
objects the CLI wires) and the list of transactions it accepted. Its rules:

- record a few valid transactions (drawn by `tests.strategies`' generator from the
  ledger so far): all recorded;
- file one transaction breaking one named rule (`tests.strategies.BAD_RULES`, after the
  valid transactions that set its scene): rejected with one error on its line;
- file valid lines followed by a bad one: the whole file is rejected;
- file a malformed line (bad JSON, wrong types, floats for money...): rejected;
- file again transactions already recorded: "already recorded", nothing new;
- ask holdings as of a date of the ledger;
- rebuild the projections from the journal (`projector.rebuild()`).

The valid steps and the scenes of the bad ones record zoning vintages too (and reverse
some), and the bad transactions include those breaking the zoning rules.

After every step: holdings (plain, by zone and by tense: the zone in force on the date)
equal the reference model's fold of the accepted transactions; the journal holds exactly
the accepted transactions; a rejected file changed nothing (journal size and holdings as
before); a rebuild gives exactly the rows the incremental catch-up wrote (every projection
table, without `row_id`).

25 runs of up to 15 steps by default; 200 runs of up to 30 steps with --runslow.
"""

from __future__ import annotations

import copy
import io
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from tests import reference_model
from tests.strategies import BAD_RULES, _Bad, _Builder
from tests.support import LedgerHarness, jsonl

PROJECTION_TABLES = (
    "hl_transactions",
    "hl_entities",
    "hl_units",
    "hl_periods",
    "hl_movements",
    "hl_touches",
    "hl_names",
    "hl_businesses",
    "hl_zonings",
    "hl_zone_classes",
)

MALFORMED = [
    b'{"id": "M-1", "type": "register_entity", "date": "2019-01-01"',
    b'{"id": "M-2", "type": "register_entity", "date": "2019-01-01", "entity": "M2", '
    b'"name": "m", "kind": "hlm", "colour": "red"}',
    b'{"id": "M-3", "type": "register_entity", "date": "2019-01-01", "entity": "M3", "name": "m"}',
    b'{"id": "M-4", "type": "register_entity", "date": "2019-01-01", "entity": 4, '
    b'"name": "m", "kind": "hlm"}',
    b'{"id": "M-5", "type": "register_business", "date": "2019-01-01", "entity": "X", '
    b'"business": "B", "name": "b", "sector": "other", "headcount": 1.5}',
    b'{"id": "M-6", "type": "divestment", "date": "2019-01-01", "entity": "X", "business": "B",'
    b' "buyer": "b", "price_eur": 1000.5, "employees_transferred": 0, "no_redundancy": true}',
    b'["not", "an", "object"]',
    b'{"id": "M-8", "type": "register_entity", "date": "2019-01-01", "entity": "M8", '
    b'"name": "\xff", "kind": "hlm"}',
    b'{"id": "M-9", "type": "register_entity", "date": "2019-13-01", "entity": "M9", '
    b'"name": "m", "kind": "hlm"}',
    b'{"id": "' + b"X" * 10_000 + b'", "type": "register_entity"}',
    b"[" * 50_000 + b"]" * 50_000,
]


def dump(conn: Any) -> dict[str, list[tuple[Any, ...]]]:
    """Every projection row, without the surrogate `row_id`, sorted."""
    out = {}
    for table in PROJECTION_TABLES:
        columns = [r[1] for r in conn.query(f"PRAGMA table_info({table})") if r[1] != "row_id"]
        rows = conn.query(f"SELECT {', '.join(columns)} FROM {table}")
        out[table] = sorted(rows, key=repr)
    return out


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="hl-stateful-"))
        self.ledger = LedgerHarness(f"sqlite:///{self.folder}/ledger.db")
        self.builder = _Builder(None)  # type: ignore[arg-type]
        self.accepted: list[dict[str, Any]] = []

    # -- helpers ------------------------------------------------------------------
    def draw_with(self, data: st.DataObject) -> None:
        self.builder.draw = data.draw

    def record_valid(self, txs: list[dict[str, Any]]) -> None:
        if not txs:
            return
        result = self.ledger.record(txs)
        assert not result.errors, [str(e) for e in result.errors]
        assert result.recorded == len(txs)
        self.accepted += txs

    def assert_rejected(self, data: bytes, bad_lines: set[int] | None = None) -> None:
        size, held = self.ledger.journal_size(), self.ledger.holdings()
        self.ledger.session.current()
        result = self.ledger.session.recorder.record([("f.jsonl", io.BytesIO(data))])
        self.ledger.session.projector.catch_up()
        assert result.errors, "a bad file was accepted"
        assert result.recorded == 0
        if bad_lines is not None:
            assert {e.line for e in result.errors} == bad_lines, [str(e) for e in result.errors]
        assert self.ledger.journal_size() == size, "a rejected file wrote to the journal"
        assert self.ledger.holdings() == held

    def saved_builder(self) -> _Builder:
        draw, self.builder.draw = self.builder.draw, None  # type: ignore[assignment]
        saved = copy.deepcopy(self.builder)
        self.builder.draw = draw
        return saved

    # -- rules --------------------------------------------------------------------
    @initialize(data=st.data())
    def register_the_first_entities(self, data: st.DataObject) -> None:
        self.draw_with(data)
        for _ in range(data.draw(st.integers(2, 4), label="entities")):
            self.builder.register_entity()
        self.record_valid(list(self.builder.txs))

    @rule(data=st.data(), steps=st.integers(1, 4))
    def record_valid_transactions(self, data: st.DataObject, steps: int) -> None:
        self.draw_with(data)
        start = len(self.builder.txs)
        for _ in range(steps):
            self.builder.random_step()
        self.record_valid(self.builder.txs[start:])

    @rule(data=st.data(), broken=st.sampled_from(BAD_RULES))
    def reject_a_transaction_breaking_one_rule(self, data: st.DataObject, broken: str) -> None:
        self.draw_with(data)
        start = len(self.builder.txs)
        bad = getattr(_Bad(self.builder), broken)()
        self.record_valid(self.builder.txs[start:])  # the scene it needs, all valid
        self.assert_rejected(jsonl([bad]), {1})

    @rule(data=st.data(), steps=st.integers(1, 3), broken=st.sampled_from(BAD_RULES))
    def reject_a_file_of_valid_lines_ending_with_a_bad_one(
        self, data: st.DataObject, steps: int, broken: str
    ) -> None:
        saved = self.saved_builder()
        self.draw_with(data)
        start = len(self.builder.txs)
        for _ in range(steps):
            self.builder.random_step()
        bad = getattr(_Bad(self.builder), broken)()
        lines = [*self.builder.txs[start:], bad]
        self.assert_rejected(jsonl(lines), {len(lines)})
        self.builder = saved  # nothing of the file happened

    @rule(line=st.sampled_from(MALFORMED), blank_before=st.integers(0, 2))
    def reject_a_malformed_line(self, line: bytes, blank_before: int) -> None:
        self.assert_rejected(b"\n" * blank_before + line + b"\n", {blank_before + 1})

    @precondition(lambda self: bool(self.accepted))
    @rule(data=st.data())
    def file_again_transactions_already_recorded(self, data: st.DataObject) -> None:
        again = data.draw(
            st.lists(
                st.sampled_from(self.accepted),
                min_size=1,
                max_size=5,
                unique_by=lambda tx: tx["id"],
            )
        )
        size = self.ledger.journal_size()
        result = self.ledger.record(again)
        assert not result.errors, [str(e) for e in result.errors]
        assert (result.recorded, result.already_recorded) == (0, len(again))
        assert self.ledger.journal_size() == size

    @precondition(lambda self: bool(self.accepted))
    @rule(data=st.data())
    def holdings_as_of_a_date_equal_the_model(self, data: st.DataObject) -> None:
        dates = sorted({tx["date"] for tx in self.accepted})
        as_of = data.draw(st.sampled_from(dates + ["2015-12-31", "2099-12-31"]))
        for by in (None, "zone"):
            assert self.ledger.holdings(as_of=as_of, by=by) == reference_model.holdings(
                self.accepted, as_of=as_of, by=by
            ), (as_of, by)

    @rule()
    def a_rebuild_gives_the_rows_the_catch_up_wrote(self) -> None:
        conn = self.ledger.session.current()
        incremental = dump(conn)
        self.ledger.session.projector.rebuild()
        assert dump(conn) == incremental

    # -- after every step ---------------------------------------------------------
    @invariant()
    def holdings_equal_the_model(self) -> None:
        assert self.ledger.holdings() == reference_model.holdings(self.accepted)
        for by in ("zone", "tense"):
            assert self.ledger.holdings(by=by) == reference_model.holdings(self.accepted, by=by)

    @invariant()
    def the_journal_holds_exactly_the_accepted_transactions(self) -> None:
        conn = self.ledger.session.current()
        recorded = [
            json.loads(c)
            for (c,) in conn.query("SELECT content FROM hl_transactions ORDER BY position")
        ]
        assert recorded == self.accepted

    def teardown(self) -> None:
        self.ledger.close()
        shutil.rmtree(self.folder, ignore_errors=True)


BASE = settings(
    deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)

TestTheLedgerFollowsItsModel = LedgerMachine.TestCase
TestTheLedgerFollowsItsModel.settings = settings(BASE, max_examples=25, stateful_step_count=15)


@pytest.mark.slow
def test_the_ledger_follows_its_model_over_many_runs() -> None:
    from hypothesis.stateful import run_state_machine_as_test

    run_state_machine_as_test(
        LedgerMachine, settings=settings(BASE, max_examples=200, stateful_step_count=30)
    )
