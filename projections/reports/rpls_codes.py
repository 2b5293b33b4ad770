"""The RPLS extract's row and columns, and the code lists of the arrêté du 5 janvier
2010 that the ledger can fill (docs/rpls.md): right, entry mode, exit reason, sale type, financing.

One place for each mapping from a ledger value to an arrêté code, so the extract and its
documentation cannot drift apart. Must not: read the database.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Any

from ledger.domain import rpls as domain_codes
from ledger.domain.values import AcquisitionMode, BuyerCategory, Financing


@dataclass(frozen=True, slots=True)
class RplsRow:
    rpls_id: str | None
    si_id: str
    right: str
    commune: str
    construction_type: str | None
    rooms: int | None
    surface_m2: str | None
    year_built: int | None
    first_let_year: int | None
    entry_year: int | None
    entry_mode: str | None
    previous_owner: str | None
    previous_owner_siret: str | None
    financing: str | None
    financing_label: str | None
    apl_agreement: str | None
    exit_reason: str
    occupancy: str | None
    cus_segment: str | None
    sale_type: str | None
    sale_price_eur: str | None
    net_proceeds_eur: str | None
    transfer_n1: str
    zone: str
    segment: str
    bare_owner: str | None
    usufruct_end: str | None

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


#: The extract's columns, in the order of docs/rpls.md.
COLUMNS = tuple(f.name for f in fields(RplsRow))


#: The rights that make a unit part of the stock (bare ownership has no RPLS code); the
#: code lists shared with the import live in `ledger.domain.rpls`.
RIGHTS = domain_codes.RIGHTS


class Exit(StrEnum):
    """Field 37: why the unit left the entity's stock during N-1."""

    SOLD_TO_OCCUPANT = "1"
    SOLD_TO_SOCIAL_LANDLORD = "2"
    OTHER_SALE = "3"
    OTHER_REASON = "5"
    STILL_HELD = "9"


class Transfer(StrEnum):
    """The project column `transfer_n1`: the latest change of the entity's right in N-1."""

    GAINED = "1"
    LOST = "2"
    BARE_OWNERSHIP_TRANSFERRED = "3"
    USUFRUCT_CONSOLIDATED = "4"
    NONE = "9"


#: Field 37 for a sale, by the buyer's category: 1 to the occupant, 2 to a social
#: landlord (an HLM body, a SEM, a body approved under L365-2: filers of RPLS too), 3 the
#: rest.
SALE_EXIT = {
    BuyerCategory.SITTING_TENANT: Exit.SOLD_TO_OCCUPANT,
    BuyerCategory.TENANT_FAMILY: Exit.OTHER_SALE,
    BuyerCategory.TENANT: Exit.OTHER_SALE,
    BuyerCategory.CARETAKER: Exit.OTHER_SALE,
    BuyerCategory.INDIVIDUAL: Exit.OTHER_SALE,
    BuyerCategory.SOCIAL_LANDLORD: Exit.SOLD_TO_SOCIAL_LANDLORD,
    BuyerCategory.SEM: Exit.SOLD_TO_SOCIAL_LANDLORD,
    BuyerCategory.LOCAL_AUTHORITY: Exit.OTHER_SALE,
    BuyerCategory.APPROVED_BODY: Exit.SOLD_TO_SOCIAL_LANDLORD,
    BuyerCategory.INSTITUTIONAL: Exit.OTHER_SALE,
    BuyerCategory.OTHER: Exit.OTHER_SALE,
}

#: Field 58 (sale type), by the buyer's category: every type of the arrêté, `institutional`
#: and `other` both 10 (another legal person).
SALE_TYPE = {
    BuyerCategory.SITTING_TENANT: "01",
    BuyerCategory.TENANT_FAMILY: "02",
    BuyerCategory.TENANT: "03",
    BuyerCategory.CARETAKER: "04",
    BuyerCategory.INDIVIDUAL: "05",
    BuyerCategory.SOCIAL_LANDLORD: "06",
    BuyerCategory.SEM: "07",
    BuyerCategory.LOCAL_AUTHORITY: "08",
    BuyerCategory.APPROVED_BODY: "09",
    BuyerCategory.INSTITUTIONAL: "10",
    BuyerCategory.OTHER: "10",
}

#: Field 29 (entry mode) of an acquisition, by its mode (2, bought with works, is never
#: derived).
ACQUISITION_ENTRY = {
    AcquisitionMode.VEFA: "4",
    AcquisitionMode.NEW_BUILD: "1",
    AcquisitionMode.EXISTING: "3",
}
#: Field 29 of a unit that moved inside the ledger (sale, merger, end of a usufruct).
MOVED_IN = "3"
#: The entry modes for which field 30 (previous owner) is written.
BOUGHT = ("2", "3")

#: Field 32 (initial financing) by family, when the exact code was not imported.
FINANCING = domain_codes.FAMILY_CODES

#: Field 40 (occupancy) of a unit that left the stock.
LEFT_OCCUPANCY = "9"


def financing_code(financing: str | None) -> str | None:
    """Field 32 for the unit's recorded financing; None when it has none."""
    return None if financing is None else FINANCING[Financing(financing)]
