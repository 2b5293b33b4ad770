"""A zoning file: the A/B/C zone of each commune, for an RPLS-shaped import whose lines
have no zone (docs/rpls.md, "Import").

The file is one vintage of the zoning (`ledger/reference/` ships two): `;`-separated
UTF-8 (a byte-order mark is ignored), a header row, the commune code in the first column
and the zone in the one column named `zone` or starting with `Zone`. The arrondissements
of Paris, Lyon and Marseille are looked up as their commune (the unit keeps its own code).

Must not: guess. A bad row is an error (`ZONING:LINE: message`), never skipped, and a
commune the file does not list has no zone.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass

from ledger.domain.values import COMMUNE_PATTERN, Zone

_ZONES = frozenset(z.value for z in Zone)

#: (first, last) arrondissement code and the commune they belong to.
ARRONDISSEMENTS = (
    (75101, 75120, "75056"),  # Paris
    (69381, 69389, "69123"),  # Lyon
    (13201, 13216, "13055"),  # Marseille
)


def city_of(commune: str) -> str:
    """The commune code a zoning file lists for `commune`: the city of an arrondissement,
    else the code itself."""
    if commune.isdigit():
        number = int(commune)
        for first, last, city in ARRONDISSEMENTS:
            if first <= number <= last:
                return city
    return commune


class ZoningError(Exception):
    """The zoning file cannot be used; `messages` are `ZONING:LINE: message` lines."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("\n".join(messages))
        self.messages = messages


@dataclass(frozen=True, slots=True)
class Zoning:
    """One vintage of the A/B/C zoning: commune code -> zone."""

    name: str
    zones: dict[str, str]

    def zone_of(self, commune: str) -> str | None:
        return self.zones.get(city_of(commune))


def read_zoning(name: str, lines: Iterable[str]) -> Zoning:
    """The zoning of a file's text lines (`name` is how errors name the file); raises
    `ZoningError` with every error found."""
    errors: list[str] = []
    zones: dict[str, str] = {}
    column = -1
    for number, row in enumerate(csv.reader(lines, delimiter=";"), start=1):
        cells = [cell.strip(" \t\r\n\ufeff") for cell in row]
        if number == 1:
            matches = [i for i, c in enumerate(cells) if c == "zone" or c.startswith("Zone")]
            if len(matches) != 1:
                found = "no" if not matches else "more than one"
                raise ZoningError([f"{name}:1: {found} column named zone or starting with Zone"])
            column = matches[0]
            continue
        if not any(cells):
            continue
        if len(cells) <= column:
            errors.append(
                f"{name}:{number}: {len(cells)} cells, the zone is in column {column + 1}"
            )
            continue
        commune, zone = cells[0], cells[column]
        if not COMMUNE_PATTERN.fullmatch(commune):
            errors.append(f'{name}:{number}: "{commune}" is not an INSEE commune code')
        elif zone not in _ZONES:
            errors.append(
                f'{name}:{number}: commune {commune}: zone "{zone}" is not one of '
                + ", ".join(sorted(_ZONES))
            )
        elif commune in zones:
            errors.append(f"{name}:{number}: commune {commune} is listed twice")
        else:
            zones[commune] = zone
    if column < 0:
        errors.append(f"{name}:1: empty file: no header row")
    if errors:
        raise ZoningError(errors)
    return Zoning(name, zones)


def load_zoning(name: str, path: str) -> Zoning:
    """The zoning of the file at `path`; raises `ZoningError` (or OSError)."""
    with open(path, encoding="utf-8-sig", newline="") as f:
        try:
            return read_zoning(name, f)
        except UnicodeDecodeError as e:
            raise ZoningError([f"{name}: invalid UTF-8 at byte {e.start}"]) from None
        except csv.Error as e:
            raise ZoningError([f"{name}: {e}"]) from None
