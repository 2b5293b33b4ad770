"""Report arithmetic that needs no ledger: rates as 4-decimal strings, rounded half up."""

from __future__ import annotations

from projections.reports import money


def test_rates_are_rounded_half_up_on_exact_ties() -> None:
    assert money.ratio(1, 32) == "0.0313"  # 0.03125
    assert money.ratio(1, 3) == "0.3333"
    assert money.ratio(2, 3) == "0.6667"
    assert money.ratio(5, 5) == "1.0000"
    assert money.ratio(0, 7) == "0.0000"
    assert money.ratio(3, 0) is None
