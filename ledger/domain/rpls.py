"""The code lists of the arrêté du 5 janvier 2010 (RPLS, table 2) that the ledger reads
and writes, and the ledger values they map to (docs/rpls.md).

One source for both directions: the import of an RPLS-shaped file
(`ledger.booking.rpls_file`) and the extract (`projections.reports.rpls_codes`) take
their codes from here, so the two cannot disagree. Must not: import anything but the
standard library and the domain's value lists, nor change a code's meaning (codes are
kept in recorded transactions).
"""

from __future__ import annotations

from ledger.domain.values import Financing

#: Field 3 (type of right), the ledger's rights that have a code (bare ownership has none).
RIGHTS = {"full_ownership": "1", "usufruct": "4"}
#: Field 3 codes of leases, which have no counterpart in the ledger.
LEASES = {"2": "rehabilitation lease", "3": "emphyteutic lease", "5": "building lease"}

#: Field 29 (entry mode): built by the landlord, bought with works, bought without works,
#: bought off-plan (VEFA).
ENTRY_MODES = ("1", "2", "3", "4")

#: Field 37 (exit reason): left the stock during the year before the survey (1-5), or
#: still in the stock (9).
EXIT_REASONS_LEFT = ("1", "2", "3", "4", "5")
STILL_IN_STOCK = "9"

#: Field 38 (no longer exists): change of use, merged or split.
NO_LONGER_EXISTS = ("1", "2")

#: Field 34 (APL agreement): 1 yes, 2 no.
APL_AGREEMENT = {"1": True, "2": False}

#: Field 32 (initial financing): every code of the arrêté and the ledger's family.
FINANCING_CODES = {
    "10": Financing.PLAI,
    "11": Financing.PLAI,
    "12": Financing.PLUS,
    "13": Financing.PLUS,
    "14": Financing.PLS,
    "16": Financing.PLI,
    **{code: Financing.OTHER for code in ("15", "17", "49", "50", "51", "52", "53", "54", "55")},
    "99": Financing.OTHER,
}
#: Field 32 by family, for a unit recorded without its exact code.
FAMILY_CODES = {
    Financing.PLAI: "10",
    Financing.PLUS: "13",
    Financing.PLS: "14",
    Financing.PLI: "16",
    Financing.OTHER: "49",
}
#: The "other" financings, whose name goes in field 33 (financing label).
OTHER_FINANCING_CODES = ("49", "99")
#: The financing of intermediate housing (PLI): a unit without a segment gets
#: `intermediate`.
INTERMEDIATE_FINANCING_CODE = "16"

#: The longest texts of the arrêté's fields 30 (previous owner), 33 (financing label)
#: and 54 (CUS segment).
PREVIOUS_OWNER_LENGTH, FINANCING_LABEL_LENGTH, CUS_SEGMENT_LENGTH = 100, 30, 20
#: Field 23 (construction type): collective, individual.
CONSTRUCTION_TYPES = ("C", "I")
