"""Value lists, bounds and small value parsers of the transaction format
(docs/transactions.md).

These are the vocabulary of the ledger: entity kinds, zones (and which are tense),
segments, financing products, buyer categories, business sectors, acquisition modes,
and the bounds of a unit's fields. Every other layer takes them from here: the input
format's parsers and their fast path (`ledger.booking`), and the read side's SQL.
They must not change meaning once released: they are stored in events.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum

ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]*")
ID_MAX_LENGTH = 80
COMMUNE_PATTERN = re.compile(r"[0-9]{5}|2[AB][0-9]{3}")
REGION_PATTERN = re.compile(r"[0-9]{2}")
DATE_PATTERN = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
MONEY_PATTERN = re.compile(r"-?[0-9]{1,15}(\.[0-9]{1,2})?")  # up to 10^15 EUR
DECIMAL_PATTERN = re.compile(r"[0-9]+(\.[0-9]+)?")

#: A unit object's bounds (inclusive): rooms, year built, and the length of the
#: `surface_m2` decimal string.
ROOMS_RANGE = (1, 20)
YEAR_BUILT_RANGE = (1800, 9999)
SURFACE_MAX_LENGTH = 20

#: A legal person's usufruct cannot exceed 30 years (Civil Code art. 619).
MAX_USUFRUCT_YEARS = 30


class EntityKind(StrEnum):
    """What an entity is. A stored kind never changes meaning: `hlm` stays "an HLM body
    of unstated form" beside the three forms added later (`esh`, `oph`, `coop`)."""

    GROUP = "group"  # a structure of the group's head (Action Logement Groupe, ALI...)
    HLM = "hlm"  # an HLM body (organisme HLM, CCH L411-2) of unstated form
    LLI = "lli"  # an intermediate-housing (LLI) company
    FONCIERE = "fonciere"  # Foncière Logement (AFL), an association
    PENSION_FUND = "pension_fund"  # a pension fund (AGIRC-ARRCO)
    OTHER = "other"  # another legal person of the group's trades
    ESH = "esh"  # an HLM body: entreprise sociale pour l'habitat (L411-2, L422-2)
    OPH = "oph"  # an HLM body: office public de l'habitat (L411-2, L421-1)
    COOP = "coop"  # an HLM body: société coopérative d'HLM (L411-2, L422-3)
    SALES_COMPANY = "sales_company"  # a société de vente d'HLM (L422-4): the ONV
    ASSOCIATION = "association"  # an association (loi 1901) other than AFL
    EXTERNAL = "external"  # a legal person outside the group's trades


#: The HLM bodies (organismes HLM, CCH L411-2): the sellers subject to the HLM sale rules
#: (L443-7 and following) and to the 1% target.
HLM_BODIES = frozenset({EntityKind.HLM, EntityKind.ESH, EntityKind.OPH, EntityKind.COOP})

#: The kinds that are outside the group unless the registration says otherwise.
OUTSIDE_BY_DEFAULT = frozenset({EntityKind.PENSION_FUND, EntityKind.EXTERNAL})

#: The merger families: an entity may only be absorbed by an entity of its own family
#: (a merger joins entities of the same legal nature), with the family's name in errors.
MERGER_FAMILIES: dict[EntityKind, str] = {
    **dict.fromkeys(HLM_BODIES, "HLM body"),
    EntityKind.LLI: "LLI company",
    EntityKind.SALES_COMPANY: "sales company",
    EntityKind.ASSOCIATION: "association",
    EntityKind.FONCIERE: "association",
    EntityKind.PENSION_FUND: "pension fund",
    EntityKind.GROUP: "group structure",
    EntityKind.OTHER: "other legal person",
    EntityKind.EXTERNAL: "other legal person",
}


def default_member(kind: str) -> bool:
    """Whether an entity of `kind` is in the group when its registration does not say."""
    return kind not in OUTSIDE_BY_DEFAULT


def merger_family(kind: str) -> str:
    """The merger family of a kind (MERGER_FAMILIES)."""
    return MERGER_FAMILIES[EntityKind(kind)]


class Zone(StrEnum):
    ABIS = "Abis"
    A = "A"
    B1 = "B1"
    B2 = "B2"
    C = "C"


#: Zones tendues for intermediate housing: A bis, A and B1.
TENSE_ZONES = frozenset({Zone.ABIS, Zone.A, Zone.B1})


class Segment(StrEnum):
    SOCIAL = "social"
    INTERMEDIATE = "intermediate"
    OTHER = "other"


class Financing(StrEnum):
    PLAI = "PLAI"
    PLUS = "PLUS"
    PLS = "PLS"
    PLI = "PLI"
    OTHER = "other"


class BuyerCategory(StrEnum):
    """Who bought a unit: the sale types of the RPLS arrêté (field 58), in its order
    (`institutional` and `other` are both its type 10, another legal person)."""

    SITTING_TENANT = "sitting_tenant"  # 01 the tenant who lives in the unit
    TENANT_FAMILY = "tenant_family"  # 02 that tenant's spouse, ascendant or descendant
    TENANT = "tenant"  # 03 another tenant of the seller
    CARETAKER = "caretaker"  # 04 a caretaker (gardien) of the seller's buildings
    INDIVIDUAL = "individual"  # 05 another natural person
    SOCIAL_LANDLORD = "social_landlord"  # 06 an HLM body
    SEM = "sem"  # 07 a société d'économie mixte
    LOCAL_AUTHORITY = "local_authority"  # 08 a local authority or a grouping of them
    APPROVED_BODY = "approved_body"  # 09 a body approved under CCH L365-2
    INSTITUTIONAL = "institutional"  # 10 another legal person: an institutional investor
    OTHER = "other"  # 10 another legal person (or a buyer of no category above)


#: The categories whose sale is of the home one tenant occupies: exactly one unit.
SINGLE_HOME_BUYERS = frozenset({BuyerCategory.SITTING_TENANT, BuyerCategory.TENANT_FAMILY})
#: Households: the buyers that are natural persons (sale types 01 to 05), in the law's
#: order of priority (the sitting tenant, other tenants, then other individuals).
HOUSEHOLDS = (
    BuyerCategory.SITTING_TENANT,
    BuyerCategory.TENANT_FAMILY,
    BuyerCategory.TENANT,
    BuyerCategory.CARETAKER,
    BuyerCategory.INDIVIDUAL,
)

_NATURAL_PERSONS: frozenset[EntityKind] = frozenset()
_NOT_HLM = frozenset(EntityKind) - HLM_BODIES - {EntityKind.SALES_COMPANY}

#: Which kinds of entity a buyer of each category may be, when the sale names the buyer
#: entity (`buyer.entity`): the one statement of the rule (docs/transactions.md).
BUYER_KINDS: dict[BuyerCategory, frozenset[EntityKind]] = {
    # Natural persons: never a registered entity.
    **dict.fromkeys(HOUSEHOLDS, _NATURAL_PERSONS),
    BuyerCategory.SOCIAL_LANDLORD: HLM_BODIES | {EntityKind.SALES_COMPANY},
    BuyerCategory.SEM: frozenset({EntityKind.OTHER, EntityKind.EXTERNAL}),
    BuyerCategory.LOCAL_AUTHORITY: frozenset({EntityKind.OTHER, EntityKind.EXTERNAL}),
    BuyerCategory.APPROVED_BODY: frozenset(
        {EntityKind.ASSOCIATION, EntityKind.FONCIERE, EntityKind.OTHER, EntityKind.EXTERNAL}
    ),
    BuyerCategory.INSTITUTIONAL: _NOT_HLM,
    BuyerCategory.OTHER: _NOT_HLM,
}


def buyer_fits(category: str, kind: str) -> bool:
    """Whether an entity of `kind` may be the buyer of a sale of `category` (BUYER_KINDS)."""
    return EntityKind(kind) in BUYER_KINDS[BuyerCategory(category)]


class Sector(StrEnum):
    PROPERTY_MANAGEMENT = "property_management"
    PRIVATE_DEVELOPMENT = "private_development"
    OTHER = "other"


class Consideration(StrEnum):
    GRATUITOUS = "gratuitous"
    ONEROUS = "onerous"


class AcquisitionMode(StrEnum):
    VEFA = "vefa"
    NEW_BUILD = "new_build"
    EXISTING = "existing"


class EntryMode(StrEnum):
    """How a unit entered the ledger: an opening balance or one of the acquisition modes."""

    REGISTRATION = "registration"
    VEFA = "vefa"
    NEW_BUILD = "new_build"
    EXISTING = "existing"


def parse_money(text: str) -> Decimal:
    """A decimal string with at most 2 decimal places; raises ValueError otherwise."""
    if not MONEY_PATTERN.fullmatch(text):
        raise ValueError(f"{text!r} is not an amount (at most 15 digits and 2 decimals)")
    try:
        return Decimal(text)
    except InvalidOperation as e:  # pragma: no cover - the pattern already guarantees it
        raise ValueError(f"{text!r} is not an amount") from e


def split_cents(total: Decimal, parts: int) -> list[Decimal]:
    """A lot's amount (a price, net proceeds) split among its `parts` units in the lot's
    order: equal shares in cents, the leftover cents one each to the first units. The
    shares add up to `total` exactly and differ by at most one cent, for a negative total
    (a loss) too: each share is the floor of the equal share, or one cent more. Every
    share has exactly 2 decimals. The one statement of the rule: the booking records each
    unit's share in its `Unit.Sold` event, the RPLS extract splits a sale recorded before
    it did the same way. Raises ValueError for a total with more than 2 decimals or no part."""
    if parts < 1:
        raise ValueError(f"cannot split an amount among {parts} units")
    cents = total.scaleb(2)
    if cents != cents.to_integral_value():
        raise ValueError(f"{total} has more than 2 decimals")
    share, leftover = divmod(int(cents), parts)  # floor division: leftover >= 0
    low, high = Decimal(share).scaleb(-2), Decimal(share + 1).scaleb(-2)
    return [high] * leftover + [low] * (parts - leftover)


def parse_date(text: str) -> date:
    """A `YYYY-MM-DD` calendar date; raises ValueError otherwise."""
    if not DATE_PATTERN.fullmatch(text):
        raise ValueError(f"{text!r} is not a date in the form YYYY-MM-DD")
    return date.fromisoformat(text)


def add_years(day: date, years: int) -> date:
    """The same calendar day `years` later (29 February falls back to 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)
