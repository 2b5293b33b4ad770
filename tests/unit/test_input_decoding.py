"""Strict decoding of one input line."""

from __future__ import annotations

import pytest

from ledger.booking.lines import decode_line
from ledger.errors import InvalidField


def test_a_lone_surrogate_escape_is_rejected_before_it_can_reach_the_journal() -> None:
    with pytest.raises(InvalidField, match="lone surrogate"):
        decode_line('{"id": "A", "name": "\\ud800"}')


def test_escaped_non_ascii_characters_and_emoji_pairs_are_accepted() -> None:
    assert decode_line('{"name": "\\u00e9\\ud83d\\ude00"}') == {"name": "é😀"}


def test_a_line_nested_too_deeply_is_rejected_with_a_message() -> None:
    with pytest.raises(InvalidField, match="nested too deeply"):
        decode_line("[" * 100_000 + "]" * 100_000)
