"""Money, shares and rates as the statements print them: decimal strings, never floats.

Money has 2 decimals; shares and rates are rounded half up to 4 decimals. Comparisons
against a target are made on exact values (`meets`), never on the rounded strings.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
_RATE_TEXT = re.compile(r"\d+(\.\d+)?")


def money(amount: Decimal) -> str:
    """`Decimal("12.5")` -> `"12.50"`."""
    return str(amount.quantize(CENT, rounding=ROUND_HALF_UP))


def ratio(numerator: int, denominator: int) -> str | None:
    """numerator / denominator rounded half up to 4 decimals; None when denominator is 0.

    Integer arithmetic, so a tie (e.g. 1/32 = 0.03125) always rounds up."""
    if denominator == 0:
        return None
    scaled = (numerator * 20_000 + denominator) // (2 * denominator)
    return f"{scaled // 10_000}.{scaled % 10_000:04d}"


def meets(units: int, base: int, target_rate: Decimal) -> bool | None:
    """Exactly `units / base >= target_rate`; None when base is 0."""
    if base == 0:
        return None
    return Decimal(units) >= target_rate * base


def parse_rate(text: str) -> Decimal:
    """A target rate as typed by a user: a plain decimal between 0 and 1."""
    if not _RATE_TEXT.fullmatch(text):
        raise ValueError(f"{text!r} is not a decimal such as 0.01")
    value = Decimal(text)
    if value > 1:
        raise ValueError(f"{text} is more than 1 (100%)")
    return value
