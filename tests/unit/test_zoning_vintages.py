"""The zoning vintage's two readers agree: the booking (ledger/booking/zoning.py) and the
fold (projections/fold/zoning.py) give a commune, arrondissements included, one class."""

from __future__ import annotations

from ledger.booking import zoning as booking
from projections.fold import zoning as fold


def test_the_booking_and_the_fold_list_the_same_arrondissements() -> None:
    assert booking.ARRONDISSEMENTS == fold.ARRONDISSEMENTS


def test_an_arrondissement_has_its_citys_class_on_both_sides() -> None:
    zones = {"75056": "Abis", "75108": "B2", "69381": "A", "13055": "A"}
    folded = fold.classes(zones)
    read = booking.Zoning("test", zones)
    for commune in ("75101", "75108", "75120", "13201", "13216", "69123", "69381", "01001"):
        assert folded.get(commune) == read.zone_of(commune), commune
    assert folded["75108"] == "Abis"  # listed itself, read as Paris
    assert "69381" not in folded  # Lyon not listed: no class, as the booking says
