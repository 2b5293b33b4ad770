"""Bad input files: every problem found, named by its line, and nothing written.

A ledger holding the small base ledger receives files mixing valid transactions (each an
acquisition of its own new unit, so no line depends on another) with bad lines of every
kind: invalid JSON, JSON that is not an object, wrong types, floats for money, missing
and unknown fields, huge strings and numbers, deep nesting, invalid UTF-8, lone
surrogates, a byte-order mark, duplicate keys, NaN. For every file:

- exit 1, no traceback;
- exactly one `FILE:LINE: message` on stderr per bad line, naming that line, and none for
  the good lines; each message one readable line (no control characters, not the 10 MB
  of the line echoed back), then `N error(s): nothing was recorded`;
- nothing written: the journal and every projection table are as they were.

Hypothesis draws the files (the import runs in this process through click's runner, a
few milliseconds each: 40 files per database by default, 500 with --runslow). The named
cases run the installed command in a real process: a 10 MB line, an empty file (our
choice: exit 0, "recorded 0", nothing written: an empty extract from a reporting job is
not an error), blank lines only, and 100,000 valid lines followed by one bad line
(SQLite by default; PostgreSQL with --runslow).
"""

from __future__ import annotations

import gc
import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.reliability import processes as p
from tests.support import base_ledger

KNOWN_KEYS = {
    "id",
    "type",
    "date",
    "reference",
    "note",
    "entity",
    "units",
    "mode",
    "price_eur",
    "seller",
    "journal",
}
REQUIRED = ("id", "type", "date", "entity", "units", "mode", "price_eur")
UNIT_REQUIRED = ("unit_id", "commune", "zone", "segment")
MAX_MESSAGE = 500
DEEP = 100_000


@pytest.fixture
def base_url(db_url: str, tmp_path: Path) -> str:
    p.ok(db_url, "init")
    p.ok(db_url, "import", str(p.write(tmp_path / "base.jsonl", base_ledger())))
    return db_url


def good(n: int) -> dict[str, Any]:
    """A valid line on top of the base ledger, independent of every other line."""
    return {
        "id": f"ACQ-{n}",
        "type": "acquisition",
        "date": "2019-01-01",
        "entity": "ESH-A",
        "mode": "existing",
        "price_eur": "150000.00",
        "note": "lot",
        "units": [
            {"unit_id": f"N-{n}", "commune": "75056", "zone": "A", "segment": "social", "rooms": 3}
        ],
    }


def line(tx: Any) -> bytes:
    return json.dumps(tx, ensure_ascii=False).encode()


# ------------------------------------------------------------------ bad lines, drawn

NOT_A_STRING = st.sampled_from([0, 1, -1, 2.5, True, False, None, [], ["x"], {}, {"a": 1}])
NOT_A_LIST: st.SearchStrategy[Any] = st.sampled_from(
    [0, 2.5, True, None, "N-1", {}, {"unit_id": "N-1"}, []]
)


@st.composite
def wrong_type(draw: Any, n: int) -> bytes:
    tx = good(n)
    key = draw(st.sampled_from(REQUIRED + ("note", "units.0", "units.0.rooms")))
    if key == "units":
        tx["units"] = draw(NOT_A_LIST)
    elif key == "units.0":
        tx["units"][0] = draw(st.sampled_from(["N-1", 1, None, [], True]))
    elif key == "units.0.rooms":
        tx["units"][0]["rooms"] = draw(st.sampled_from(["3", 2.5, True, [], 0, 21]))
    elif key == "note":  # optional, but when present a string
        tx[key] = draw(NOT_A_STRING.filter(lambda v: v is not None))
    else:
        tx[key] = draw(NOT_A_STRING)
    return line(tx)


@st.composite
def float_money(draw: Any, n: int) -> bytes:
    tx = good(n)
    tx["price_eur"] = draw(
        st.floats(allow_nan=False, allow_infinity=False)
        | st.sampled_from([1000.5, 150000.0, 1e3, 0.0])
    )
    return line(tx)


@st.composite
def missing_field(draw: Any, n: int) -> bytes:
    tx = good(n)
    key = draw(st.sampled_from(REQUIRED + tuple(f"units.0.{k}" for k in UNIT_REQUIRED)))
    if key.startswith("units.0."):
        del tx["units"][0][key.rsplit(".", 1)[1]]
    else:
        del tx[key]
    return line(tx)


@st.composite
def unknown_field(draw: Any, n: int) -> bytes:
    tx = good(n)
    # (control characters in a field's name: see test_injection.py)
    key = draw(
        st.text(
            st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=30
        ).filter(lambda k: k not in KNOWN_KEYS)
    )
    target = tx if draw(st.booleans()) else tx["units"][0]
    if target is not tx and key in {
        "unit_id",
        "commune",
        "zone",
        "segment",
        "financing",
        "rooms",
        "surface_m2",
        "year_built",
        "rpls_id",
    }:
        key = "colour"
    target[key] = draw(st.sampled_from(["x", 1, None, [], {}]))
    return line(tx)


@st.composite
def huge(draw: Any, n: int) -> bytes:
    tx = good(n)
    size = draw(st.sampled_from([81, 2001, 100_000, 1_000_000]))
    key = draw(
        st.sampled_from(
            [
                "id",
                "entity",
                "type",
                "date",
                "units.0.unit_id",
                "units.0.commune",
                "rooms",
                "digits",
            ]
        )
    )
    if key == "rooms":
        tx["units"][0]["rooms"] = draw(st.sampled_from([10**30, -(10**30), 2**63, 2**64 + 1]))
        return line(tx)
    if key == "digits":  # an integer literal longer than Python accepts (4300 digits)
        return line(tx).replace(b'"rooms": 3', b'"rooms": ' + b"9" * 5000)
    text = draw(st.sampled_from("xA9é")) * size
    if key.startswith("units.0."):
        tx["units"][0][key.rsplit(".", 1)[1]] = text
    else:
        tx[key] = text
    return line(tx)


@st.composite
def nested(draw: Any, n: int) -> bytes:
    depth = draw(st.sampled_from([1000, DEEP]))
    where = draw(st.sampled_from(["line", "note", "units"]))
    deep = b"[" * depth + b"]" * depth
    if where == "line":
        return deep
    text = line(good(n))
    if where == "note":
        return text.replace(b'"note": "lot"', b'"note": ' + deep)
    return text.replace(b'"rooms": 3', b'"rooms": ' + b'{"a":' * depth + b"1" + b"}" * depth)


@st.composite
def invalid_utf8(draw: Any, n: int) -> bytes:
    bad = draw(
        st.sampled_from(
            [
                b"\xff",
                b"\xfe\xff",
                b"\xc3\x28",
                b"\xc0\xaf",
                b"\xed\xa0\x80",
                b"\xf8\x88\x80\x80\x80",
                b"\x80",
                b"\xe2\x82",
            ]
        )
    )
    text = line(good(n))
    at = draw(st.sampled_from([b'"lot"', b'"ESH-A"', b'"existing"']))
    return text.replace(at, at[:2] + bad + at[2:])


@st.composite
def invalid_json(draw: Any, n: int) -> bytes:
    text = line(good(n))
    how = draw(
        st.sampled_from(
            ["cut", "junk", "not-object", "nan", "duplicate", "surrogate", "bom", "control"]
        )
    )
    if how == "cut":
        return text[: draw(st.integers(1, len(text) - 1))]
    if how == "junk":
        junk = draw(
            st.text(min_size=1, max_size=50).filter(lambda s: s.strip() != "" and "\n" not in s)
        )
        try:
            json.loads(junk)
        except ValueError:
            return junk.encode()
        return b"{" + junk.encode()
    if how == "not-object":
        return line(draw(st.sampled_from([[good(n)], "text", 42, None, True, [], 1.5])))
    if how == "nan":
        return text.replace(b'"lot"', draw(st.sampled_from([b"NaN", b"Infinity", b"-Infinity"])))
    if how == "duplicate":
        return text.replace(b'"note": "lot"', b'"note": "lot", "note": "lot"')
    if how == "surrogate":
        return text.replace(b'"lot"', draw(st.sampled_from([b'"\\ud800"', b'"a\\udfffb"'])))
    if how == "bom":
        return b"\xef\xbb\xbf" + text
    return text.replace(b'"lot"', b'"l\x01ot"')  # a raw control character inside a string


BAD_KINDS = [
    wrong_type,
    float_money,
    missing_field,
    unknown_field,
    huge,
    nested,
    invalid_utf8,
    invalid_json,
]


@st.composite
def bad_files(draw: Any) -> tuple[list[bytes], set[int]]:
    """(lines, the 1-based numbers of the bad lines); blank lines in between count."""
    size = draw(st.integers(1, 12))
    bad_positions = draw(st.sets(st.integers(0, size - 1), min_size=1, max_size=size))
    lines: list[bytes] = []
    bad_numbers: set[int] = set()
    for i in range(size):
        if draw(st.integers(0, 5)) == 0:
            lines.append(draw(st.sampled_from([b"", b"   ", b"\t"])))
        if i in bad_positions:
            kind = draw(st.sampled_from(BAD_KINDS))
            lines.append(draw(kind(i)))
            bad_numbers.add(len(lines))
        else:
            lines.append(line(good(i)))
    return lines, bad_numbers


# ------------------------------------------------------------------ checks


def assert_every_bad_line_named_once(stderr: str, name: str, bad: set[int]) -> None:
    errors = [x for x in stderr.splitlines() if x.strip()]
    numbered = re.compile(re.escape(name) + r":(\d+): \S")
    named = [int(m[1]) for m in map(numbered.match, errors) if m]
    assert sorted(named) == sorted(bad), (
        f"lines named {named}, bad lines {sorted(bad)}\n" + stderr[:3000]
    )
    assert errors[-1] == f"{len(bad)} error(s): nothing was recorded", errors[-1][:500]
    assert len(errors) == len(bad) + 1, stderr[:3000]
    for error in errors:
        assert len(error) <= MAX_MESSAGE + len(name), f"a {len(error)}-character message"
        assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", error), repr(error)
    assert "Traceback" not in stderr


def import_in_process(url: str, path: Path) -> tuple[int, str, str]:
    from cli import main

    result = CliRunner().invoke(main, ["--db", url, "import", str(path)])
    gc.collect()  # the command's connection goes with its session
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # a crash: show it
    return result.exit_code, result.stdout, result.stderr


def check_bad_file(url: str, folder: Path, drawn: tuple[list[bytes], set[int]]) -> None:
    lines, bad = drawn
    before = p.snapshot(url)
    path = folder / "bad.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    code, _, stderr = import_in_process(url, path)
    assert code == 1, stderr[:3000]
    assert_every_bad_line_named_once(stderr, str(path), bad)
    assert p.snapshot(url) == before


HYPOTHESIS = settings(
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


@settings(HYPOTHESIS, max_examples=40)
@given(drawn=bad_files())
def test_every_bad_line_is_named_once_and_nothing_is_written(
    base_url: str, tmp_path: Path, drawn: tuple[list[bytes], set[int]]
) -> None:
    check_bad_file(base_url, tmp_path, drawn)


@pytest.mark.slow
@settings(HYPOTHESIS, max_examples=500)
@given(drawn=bad_files())
def test_every_bad_line_is_named_once_and_nothing_is_written_many_files(
    base_url: str, tmp_path: Path, drawn: tuple[list[bytes], set[int]]
) -> None:
    check_bad_file(base_url, tmp_path, drawn)


# ------------------------------------------------------------------ named cases, real processes


def test_each_kind_of_problem_is_named_on_its_line_by_the_installed_command(
    base_url: str, tmp_path: Path
) -> None:
    cases: list[tuple[bytes, str]] = [
        (line(good(1))[:-5], "invalid JSON"),
        (line({**good(2), "price_eur": 150000.5}), "price_eur"),
        (line({**good(3), "price_eur": 150000}), "price_eur"),
        (line({k: v for k, v in good(4).items() if k != "entity"}), "entity"),
        (line({**good(5), "colour": "blue"}), "colour"),
        (line({**good(6), "id": "X" * 100_000}), "id"),
        (line({**good(7), "units": [{**good(7)["units"][0], "rooms": 10**40}]}), "rooms"),
        (b"[" * DEEP + b"]" * DEEP, "nested"),
        (line(good(9)).replace(b'"lot"', b'"l\xffot"'), "UTF-8"),
        (line(good(10)).replace(b'"lot"', b'"\\ud800"'), "surrogate"),
        (b"\xef\xbb\xbf" + line(good(11)), "BOM"),
        (line(good(12)).replace(b'"lot"', b"NaN"), "NaN"),
        (line(["a list"]), "object"),
        (line({**good(14), "date": "2019-02-30"}), "date"),
        (line({**good(15), "type": "gift"}), "type"),
    ]
    lines = [line(good(100))] + [c for c, _ in cases] + [line(good(101))]
    path = tmp_path / "every-kind.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    before = p.snapshot(base_url)
    result = p.run(base_url, "import", str(path))
    p.assert_clean_failure(result, 1)
    assert_every_bad_line_named_once(result.stderr, str(path), set(range(2, len(cases) + 2)))
    for number, (_, word) in enumerate(cases, start=2):
        message = next(x for x in result.error_lines if x.startswith(f"{path}:{number}: "))
        assert word.lower() in message.lower(), message
    assert p.snapshot(base_url) == before


def test_a_10_mb_line_is_rejected_quickly_with_a_short_message(
    base_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "ten-megabytes.jsonl"
    huge_field = line({**good(1), "colour": "x" * 10_000_000})
    huge_id = line({**good(2), "id": "A" * 10_000_000})
    path.write_bytes(
        line(good(0)) + b"\n" + huge_field + b"\n" + huge_id + b"\n" + b"x" * 10_000_000 + b"\n"
    )
    before = p.snapshot(base_url)
    result = p.run(base_url, "import", str(path), timeout=120)
    p.assert_clean_failure(result, 1)
    assert_every_bad_line_named_once(result.stderr, str(path), {2, 3, 4})
    assert result.seconds < 60
    assert p.snapshot(base_url) == before


def test_an_empty_file_records_nothing_and_succeeds(base_url: str, tmp_path: Path) -> None:
    before = p.snapshot(base_url)
    for content in (b"", b"\n", b"\n  \n\t\n", b"\r\n"):  # empty, blank lines only
        path = tmp_path / "empty.jsonl"
        path.write_bytes(content)
        result = p.ok(base_url, "import", str(path))
        assert result.stdout.startswith(
            "recorded 0 transaction(s) (0 events), 0 already recorded"
        ), (content, result)
        assert result.stderr == ""
        assert p.snapshot(base_url) == before


def _many_then_bad(url: str, folder: Path, count: int) -> None:
    path = folder / "many.jsonl"
    with path.open("wb") as f:
        for n in range(count):
            f.write(line(good(n)) + b"\n")
        f.write(line({**good(count), "price_eur": 1.5}) + b"\n")
    before = p.snapshot(url)
    result = p.run(url, "import", str(path), timeout=600)
    p.assert_clean_failure(result, 1)
    assert_every_bad_line_named_once(result.stderr, str(path), {count + 1})
    assert "price_eur" in result.error_lines[0]
    assert p.snapshot(url) == before
    p.log("many-lines", url, lines=count + 1, seconds=round(result.seconds, 1))


def test_100000_valid_lines_and_one_bad_line_at_the_end_record_nothing(
    sqlite_url: str, tmp_path: Path
) -> None:
    p.ok(sqlite_url, "import", str(p.write(tmp_path / "base.jsonl", base_ledger())))
    _many_then_bad(sqlite_url, tmp_path, 100_000)


@pytest.mark.slow
@pytest.mark.postgres
def test_100000_valid_lines_and_one_bad_line_at_the_end_record_nothing_on_postgresql(
    pg_url: str, tmp_path: Path
) -> None:
    p.ok(pg_url, "init")
    p.ok(pg_url, "import", str(p.write(tmp_path / "base.jsonl", base_ledger())))
    _many_then_bad(pg_url, tmp_path, 100_000)


@pytest.mark.parametrize("digits", [30, 400])
def test_a_huge_amount_is_refused_at_import_or_reported_exactly(
    base_url: str, tmp_path: Path, digits: int
) -> None:
    """The format sets no upper bound on money; an amount the statements cannot print must
    be refused at import (exit 1), or printed exactly: never a crash later."""
    amount = "9" * digits + ".99"
    txs: list[dict[str, Any]] = [
        {
            "id": "BIZ-HUGE",
            "type": "register_business",
            "date": "2019-01-01",
            "entity": "ESH-A",
            "business": "BIZ-HUGE",
            "name": "b",
            "sector": "other",
            "headcount": 1,
        },
        {
            "id": "DIV-HUGE",
            "type": "divestment",
            "date": "2019-01-02",
            "entity": "ESH-A",
            "business": "BIZ-HUGE",
            "buyer": "x",
            "price_eur": amount,
            "employees_transferred": 0,
            "no_redundancy": True,
        },
        {
            "id": "SALE-HUGE",
            "type": "sale",
            "date": "2019-01-02",
            "entity": "ESH-A",
            "units": ["U1"],
            "buyer": {"category": "individual"},
            "price_eur": amount,
        },
    ]
    before = p.snapshot(base_url)
    result = p.run(base_url, "import", str(p.write(tmp_path / "huge.jsonl", txs)))
    p.assert_no_traceback(result)
    if result.returncode == 1:
        assert "price_eur" in result.stderr
        assert p.snapshot(base_url) == before
        return
    assert result.returncode == 0, str(result)
    divestments = p.run(base_url, "report", "divestments", "--format", "json")
    p.assert_no_traceback(divestments)
    assert divestments.returncode == 0, str(divestments)
    assert json.loads(divestments.stdout)["rows"][-1]["price_eur"] == amount
    sales = p.run(base_url, "report", "sales", "--year", "2019", "--format", "json")
    p.assert_no_traceback(sales)
    assert sales.returncode == 0, str(sales)
    row = next(r for r in json.loads(sales.stdout)["rows"] if r["entity"] == "ESH-A")
    assert row["proceeds_eur"] == amount
