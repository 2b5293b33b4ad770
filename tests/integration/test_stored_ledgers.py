"""A ledger written by an older version still reads, replays and proves itself.

`tests/fixtures/ledger-0.1.sqlite` was written by release 0.1.0 before the package
layout changed (every event class of the domain is in it, under its stored topic
`ledger.domain:<class>`); `ledger-0.1.expected.json` holds what that version answered on
it. The current code must give the same answers, byte for byte, on a copy: the stored
topics resolve, the hash chain verifies with the same digest, a replay gives the same
state digest, and the projections agree with it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from eventsourcing.utils import resolve_topic

import ledger.domain
from cli import main
from ledger.storage.application import HousingLedger, persistence_env

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
EXPECTED = json.loads((FIXTURES / "ledger-0.1.expected.json").read_text("utf-8"))


@pytest.fixture()
def old_ledger(tmp_path: Path) -> str:
    copy = tmp_path / "ledger-0.1.sqlite"
    shutil.copyfile(FIXTURES / "ledger-0.1.sqlite", copy)
    return f"sqlite:///{copy}"


def answer(url: str, *args: str) -> Any:
    result = CliRunner().invoke(main, ["--db", url, *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def stored_events(app: HousingLedger) -> list[Any]:
    events = app.recorder.select_notifications(start=1, limit=10_000)  # type: ignore[attr-defined]
    assert events
    return list(events)


def test_every_stored_topic_resolves_to_a_class_of_the_domain(old_ledger: str) -> None:
    app = HousingLedger(env=persistence_env(old_ledger))
    topics = {event.topic for event in stored_events(app)}
    assert len(topics) == 20
    for topic in topics:
        cls = resolve_topic(topic)
        assert cls.__module__.startswith("ledger.domain."), topic
        assert cls in vars(ledger.domain)[cls.__qualname__.split(".")[0]].__dict__.values(), topic


def test_the_library_rebuilds_every_aggregate_of_the_old_ledger(old_ledger: str) -> None:
    app = HousingLedger(env=persistence_env(old_ledger))
    ids = {event.originator_id for event in stored_events(app)}
    rebuilt = [app.repository.get(i) for i in ids]
    kinds = {type(a).__name__ for a in rebuilt}
    assert kinds == {"Unit", "Entity", "Business", "RecordedTransaction"}


def test_the_old_ledger_verifies_with_the_digest_it_had(old_ledger: str) -> None:
    assert answer(old_ledger, "audit", "digest") == EXPECTED["audit_digest"]
    result = CliRunner().invoke(main, ["--db", old_ledger, "audit", "verify"])
    assert result.exit_code == 0, result.output


def test_a_replay_of_the_old_ledger_gives_the_state_it_had_and_matches_its_projections(
    old_ledger: str,
) -> None:
    replayed = answer(old_ledger, "replay", "--check", "--format", "json")
    assert replayed["check"] == "ok"
    assert {"position": replayed["position"], "digest": replayed["digest"]} == EXPECTED[
        "state_digest"
    ]
    rebuilt = answer(old_ledger, "replay", "--format", "json")
    assert rebuilt["digest"] == EXPECTED["state_digest"]["digest"]


@pytest.mark.parametrize(
    ("key", "args"),
    [
        ("holdings", ["holdings", "--format", "json"]),
        (
            "holdings_2018_by_zone",
            ["holdings", "--as-of", "2018-12-31", "--by", "zone", "--format", "json"],
        ),
        ("journal", ["journal", "--format", "json"]),
        ("history_U-0002", ["history", "U-0002", "--format", "json"]),
        ("history_U-X1", ["history", "U-X1", "--format", "json"]),
        ("history_U-W1", ["history", "U-W1", "--format", "json"]),
    ],
)
def test_the_old_ledger_answers_as_it_did(old_ledger: str, key: str, args: list[str]) -> None:
    assert answer(old_ledger, *args) == EXPECTED[key]


def test_new_transactions_append_to_the_old_ledger_and_it_still_proves_itself(
    old_ledger: str, tmp_path: Path
) -> None:
    more = tmp_path / "more.jsonl"
    more.write_text(
        '{"id": "SALE-2020-X1", "type": "sale", "date": "2020-03-02", "entity": "LLI-X", '
        '"units": ["U-X1"], "buyer": {"category": "sitting_tenant"}, "price_eur": "250000.00"}\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["--db", old_ledger, "import", str(more)])
    assert result.exit_code == 0, result.output
    digest = answer(old_ledger, "audit", "digest")
    assert digest["position"] > EXPECTED["audit_digest"]["position"]
    assert answer(old_ledger, "replay", "--check", "--format", "json")["check"] == "ok"
    verify = CliRunner().invoke(main, ["--db", old_ledger, "audit", "verify"])
    assert verify.exit_code == 0, verify.output
