"""Reference interpreter of a transaction list: the oracle of the property tests.

Deliberately simple, slow and written from `docs/transactions.md` and `docs/statements.md`
alone: it imports nothing from the project (only the standard library), keeps every
view as a fresh fold over the whole list, and prefers an obvious loop to a clever one.
It must not grow caches, incremental updates or shared code with `ledger/` or
`projections/`: its value is that it is an independent second implementation.

Transactions are plain dicts in the JSONL input format; dates are `YYYY-MM-DD`
strings (so string order is date order).

Reversals follow the spec's semantics for a view computed after every transaction of
the list: a reversed transaction is treated as if it had never taken effect, on any
date. So every view folds `effective(txs)` (the list without reversals and without
reversed transactions) in list order, keeping only transactions dated on or before the
as-of date when one is given.

Zoning vintages (docs/transactions.md, "Zoning vintages"): a unit's *recorded* zone is
the one its line declared, or, when the line leaves it out, its commune's class in the
vintage in force on the line's date when the line was recorded (vintages earlier in the
list, not reversed by then: a vintage reversed later leaves that zone as it was). The
views read a unit's zone *as of a day* D: its commune's class in the vintage in force on
D (the latest effective vintage dated on or before D; an arrondissement of Paris, Lyon or
Marseille has its city's class), else its recorded zone (`zone_as_of`).

Two parts:
- views of a VALID list: `holdings`, `units`, `stock`, `movements`, `sales`,
  `dismemberment`, `dismembered_units`, `conservation_check`, `zone_as_of`;
- `violations(txs)`: a rule checker giving the rule code of every invalid transaction,
  used to prove that generated ledgers are valid and that generated bad transactions
  break exactly the rule they are meant to break.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

Tx = dict[str, Any]
#: ("full", owner) | ("dismembered", usufructuary, bare_owner) | ("left",)
Holding = tuple[str, ...]

FULL, DISMEMBERED, LEFT = "full", "dismembered", "left"
TENSE_ZONES = frozenset({"Abis", "A", "B1"})
DIMENSIONS = ("zone", "segment", "financing", "commune", "region", "tense")
BUYER_CATEGORIES = (  # the sale types of RPLS field 58, in their order
    "sitting_tenant",
    "tenant_family",
    "tenant",
    "caretaker",
    "individual",
    "social_landlord",
    "sem",
    "local_authority",
    "approved_body",
    "institutional",
    "other",
)
#: The buyers of the home one tenant occupies: one unit per sale.
SINGLE_HOME = ("sitting_tenant", "tenant_family")
#: The kinds added with the group perimeter (issue 13), and who is outside it by default.
NEW_KINDS = ("esh", "oph", "coop", "sales_company", "association", "external")
OUTSIDE_BY_DEFAULT = ("pension_fund", "external")
HLM = ("hlm", "esh", "oph", "coop")
#: A merger joins entities of one family.
FAMILIES = {
    **dict.fromkeys(HLM, "hlm"),
    "lli": "lli",
    "sales_company": "sales_company",
    "association": "association",
    "fonciere": "association",
    "pension_fund": "pension_fund",
    "group": "group",
    "other": "other",
    "external": "other",
}
ALL_KINDS = frozenset(FAMILIES)
#: The kinds a buyer entity of each category may be.
BUYER_KINDS = {
    **dict.fromkeys(("sitting_tenant", "tenant_family", "tenant", "caretaker", "individual"), ()),
    "social_landlord": (*HLM, "sales_company"),
    "sem": ("other", "external"),
    "local_authority": ("other", "external"),
    "approved_body": ("association", "fonciere", "other", "external"),
    "institutional": tuple(ALL_KINDS - {*HLM, "sales_company"}),
    "other": tuple(ALL_KINDS - {*HLM, "sales_company"}),
}
MOVEMENT_FIELDS = (
    "opening",
    "registered",
    "acquired",
    "received",
    "reunited",
    "sold",
    "transferred",
    "usufruct_ended",
    "closing",
    "dismembered",
)


# --------------------------------------------------------------------------- the fold


@dataclass(frozen=True)
class Touch:
    """What one transaction touched, in the sense of the reversal rule and date rules."""

    units: frozenset[str] = frozenset()
    businesses: frozenset[str] = frozenset()
    entities: frozenset[str] = frozenset()  # registered (register_entity) or absorbed
    names: frozenset[str] = frozenset()  # every entity named in any field


@dataclass
class State:
    """Everything a fold knows after some transactions."""

    entities: dict[str, Tx] = field(default_factory=dict)  # id -> register_entity tx
    absorbed_by: dict[str, str] = field(default_factory=dict)  # entity -> merger tx id
    members: dict[str, str | None] = field(default_factory=dict)  # group member -> parent
    member_since: dict[str, str] = field(default_factory=dict)  # group member -> date
    units: dict[str, Tx] = field(default_factory=dict)  # unit id -> unit object
    holding: dict[str, Holding] = field(default_factory=dict)
    usufruct_end: dict[str, str] = field(default_factory=dict)
    usufruct_start: dict[str, str] = field(default_factory=dict)  # for the 30-year cap
    #: (unit, holding before, holding after, day after the term): each usufruct ended at
    #: its term (Civil Code arts. 617, 619), in the order the fold met them.
    term_changes: list[tuple[str, Holding, Holding, str]] = field(default_factory=list)
    #: unit -> (usufructuary, bare owner, usufruct_end) of a usufruct ended at term, while
    #: no transaction touched the unit since (an extinction recorded after it drops it).
    term_ended: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    businesses: dict[str, Tx] = field(default_factory=dict)  # id -> register_business tx
    business_owner: dict[str, str] = field(default_factory=dict)
    divested: set[str] = field(default_factory=set)
    unit_date: dict[str, str] = field(default_factory=dict)  # latest date touching
    business_date: dict[str, str] = field(default_factory=dict)
    name_date: dict[str, str] = field(default_factory=dict)  # latest date naming
    touched: dict[str, Touch] = field(default_factory=dict)  # tx id -> Touch
    order: list[str] = field(default_factory=list)  # applied tx ids, in order


def content(tx: Tx) -> Tx:
    """The transaction without the `journal` key that `import` ignores."""
    return {k: v for k, v in tx.items() if k != "journal"}


def deduplicated(txs: list[Tx]) -> list[Tx]:
    """Drop a repeated transaction with the same id and content ("already recorded")."""
    seen: dict[str, Tx] = {}
    out = []
    for tx in txs:
        if tx["id"] in seen and seen[tx["id"]] == content(tx):
            continue
        seen.setdefault(tx["id"], content(tx))
        out.append(tx)
    return out


def effective(txs: list[Tx]) -> list[Tx]:
    """Transactions that take effect: not reversals, and not reversed by any reversal;
    each unit object with its recorded zone (`with_recorded_zones`)."""
    txs = with_recorded_zones(deduplicated(txs))
    reversed_ids = {tx["reverses"] for tx in txs if tx["type"] == "reversal"}
    return [tx for tx in txs if tx["type"] != "reversal" and tx["id"] not in reversed_ids]


# --------------------------------------------------------------------------- zoning

#: The transactions whose unit objects have a zone.
UNIT_LINES = ("register_units", "acquisition")
#: What a zone taken from the unit's own line is said to come from (`units`, zone_source).
DECLARED = "declared"
#: The arrondissements of Paris, Lyon and Marseille: (first code, last code, the city).
ARRONDISSEMENTS = ((75101, 75120, "75056"), (69381, 69389, "69123"), (13201, 13216, "13055"))


def city_of(commune: str) -> str:
    """The code a zoning lists for `commune`: the city of an arrondissement, else itself."""
    if commune.isdigit():
        for first, last, city in ARRONDISSEMENTS:
            if first <= int(commune) <= last:
                return city
    return commune


def class_in(vintage: Tx | None, commune: str) -> str | None:
    """The class a vintage gives a commune (None: no vintage, or the commune not listed)."""
    if vintage is None:
        return None
    found: str | None = vintage["zones"].get(city_of(commune))
    return found


def vintage_on(vintages: list[Tx], day: str) -> Tx | None:
    """The vintage in force on `day` among `vintages`: the latest dated on or before it."""
    before = [v for v in vintages if v["date"] <= day]
    return max(before, key=lambda v: v["date"]) if before else None


def vintages(txs: list[Tx]) -> list[Tx]:
    """The vintages in force after the whole list: recorded, not reversed."""
    return [tx for tx in effective(txs) if tx["type"] == "zoning_vintage"]


def with_recorded_zones(txs: list[Tx]) -> list[Tx]:
    """The list with the zone recorded for each unit: the declared one, else the class of
    the vintage in force on the line's date among those recorded before it and not
    reversed before it (a unit line is never zoned again later)."""
    in_force: dict[str, Tx] = {}
    out = []
    for tx in txs:
        kind = tx["type"]
        if kind == "zoning_vintage":
            in_force[tx["id"]] = tx
        elif kind == "reversal":
            in_force.pop(tx["reverses"], None)
        elif kind in UNIT_LINES and any("zone" not in u for u in tx["units"]):
            vintage = vintage_on(list(in_force.values()), tx["date"])
            objects = []
            for unit in tx["units"]:
                found = class_in(vintage, unit["commune"])
                if "zone" not in unit and found is not None:
                    unit = {**unit, "zone": found}
                objects.append(unit)
            tx = {**tx, "units": objects}
        out.append(tx)
    return out


def zone_as_of(found: list[Tx], unit: Tx, day: str) -> tuple[str, str]:
    """(zone, source) of a unit object as of `day`, `found` being the vintages in force
    (`vintages`): its commune's class in the vintage in force that day and that vintage's
    transaction id, else its recorded zone and "declared"."""
    vintage = vintage_on(found, day)
    zone = class_in(vintage, unit["commune"])
    if vintage is None or zone is None:
        return unit["zone"], DECLARED
    return zone, vintage["id"]


def named_entities(tx: Tx) -> list[str]:
    """Every entity id named in any field (including the one register_entity registers)."""
    names = []
    for key in ("entity", "bare_owner", "into", "parent"):
        if isinstance(tx.get(key), str):
            names.append(tx[key])
    if isinstance(tx.get("absorbed"), list):
        names.extend(e for e in tx["absorbed"] if isinstance(e, str))
    buyer = tx.get("buyer")
    if (
        tx.get("type") == "sale"
        and isinstance(buyer, dict)
        and isinstance(buyer.get("entity"), str)
    ):
        names.append(buyer["entity"])
    return names


def _held_by(holding: Holding, entities: set[str]) -> bool:
    return holding[0] != LEFT and any(e in entities for e in holding[1:])


def next_day(day: str) -> str:
    return (dt.date.fromisoformat(day) + dt.timedelta(days=1)).isoformat()


def effective_holding(state: State, unit: str, day: str) -> Holding | None:
    """The unit's holding in law on `day`: after its usufruct's term (usufruct_end <
    day), full ownership of the bare owner, recorded or not."""
    holding = state.holding.get(unit)
    if holding is not None and holding[0] == DISMEMBERED and state.usufruct_end[unit] < day:
        return (FULL, holding[2])
    return holding


def advance(state: State, unit: str, day: str) -> None:
    """End the unit's usufruct at its term if the term is before `day`."""
    holding = state.holding.get(unit)
    if holding is None or holding[0] != DISMEMBERED or state.usufruct_end[unit] >= day:
        return
    end = state.usufruct_end.pop(unit)
    after = (FULL, holding[2])
    state.holding[unit] = after
    state.term_changes.append((unit, holding, after, next_day(end)))
    state.term_ended[unit] = (holding[1], holding[2], end)


def advance_all(state: State, day: str | None) -> None:
    if day is not None:
        for unit in list(state.holding):
            advance(state, unit, day)


def latest_date(txs: list[Tx]) -> str | None:
    """What "as of" means without a date: the latest date of the effective transactions,
    zoning vintages left out (reference data: they change no holding)."""
    dates = [tx["date"] for tx in effective(txs) if tx["type"] != "zoning_vintage"]
    return max(dates, default=None)


def apply(state: State, tx: Tx) -> list[tuple[str, Holding | None, Holding]]:
    """Apply one valid transaction; return (unit, holding before, holding after) per unit."""
    kind, date, changes = tx["type"], tx["date"], []
    touched_units: set[str] = set()
    touched_businesses: set[str] = set()
    touched_entities: set[str] = set()

    def move(unit: str, after: Holding) -> None:
        changes.append((unit, state.holding.get(unit), after))
        state.holding[unit] = after
        touched_units.add(unit)

    if kind in ("sale", "bare_ownership_transfer", "usufruct_extinguished", "usufruct_extension"):
        for unit in tx["units"]:
            advance(state, unit, date)
    elif kind == "merger":
        for unit in list(state.holding):
            held = effective_holding(state, unit, date)
            if held is not None and _held_by(held, set(tx["absorbed"])):
                advance(state, unit, date)

    if kind == "register_entity":
        state.entities[tx["entity"]] = tx
        touched_entities.add(tx["entity"])
        if tx.get("group", tx["kind"] not in OUTSIDE_BY_DEFAULT) or "parent" in tx:
            state.members[tx["entity"]] = tx.get("parent")
            state.member_since[tx["entity"]] = date
    elif kind in ("group_entry", "share_transfer"):
        state.members[tx["entity"]] = tx.get("parent")
        state.member_since.setdefault(tx["entity"], date)
        touched_entities.add(tx["entity"])
    elif kind == "group_exit":
        del state.members[tx["entity"]], state.member_since[tx["entity"]]
        touched_entities.add(tx["entity"])
    elif kind in ("register_units", "acquisition"):
        for unit in tx["units"]:
            state.units[unit["unit_id"]] = unit
            move(unit["unit_id"], (FULL, tx["entity"]))
    elif kind == "sale":
        buyer = tx["buyer"].get("entity")
        for unit in tx["units"]:
            move(unit, (FULL, buyer) if buyer else (LEFT,))
    elif kind == "bare_ownership_transfer":
        for unit in tx["units"]:
            move(unit, (DISMEMBERED, tx["entity"], tx["bare_owner"]))
            state.usufruct_end[unit] = tx["usufruct_end"]
            state.usufruct_start[unit] = date
    elif kind == "usufruct_extinguished":
        for unit in tx["units"]:
            if state.holding[unit][0] == DISMEMBERED:  # before its term: ends it early
                move(unit, (FULL, state.holding[unit][2]))
                del state.usufruct_end[unit]
            touched_units.add(unit)  # after it: confirms the end at term
    elif kind == "usufruct_extension":
        for unit in tx["units"]:
            state.usufruct_end[unit] = tx["usufruct_end"]
            touched_units.add(unit)
    elif kind == "merger":
        absorbed, into = set(tx["absorbed"]), tx["into"]
        for unit, holding in list(state.holding.items()):
            # in law on its date: a usufruct past its term passes nowhere (the unit is its
            # bare owner's, and stays untouched unless the bare owner is absorbed)
            if not _held_by(effective_holding(state, unit, date) or holding, absorbed):
                continue
            holders = [into if e in absorbed else e for e in holding[1:]]
            if holding[0] == FULL or holders[0] == holders[1]:  # art. 617 consolidation
                if holding[0] == DISMEMBERED:
                    del state.usufruct_end[unit]
                move(unit, (FULL, holders[0]))
            else:
                move(unit, (DISMEMBERED, *holders))
        for business, owner in state.business_owner.items():
            if owner in absorbed and business not in state.divested:
                state.business_owner[business] = into
                touched_businesses.add(business)
        for entity in absorbed:
            state.absorbed_by[entity] = tx["id"]
            state.members.pop(entity, None)  # absorbed: out of the perimeter
            state.member_since.pop(entity, None)
        touched_entities |= absorbed
    elif kind == "register_business":
        state.businesses[tx["business"]] = tx
        state.business_owner[tx["business"]] = tx["entity"]
        touched_businesses.add(tx["business"])
    elif kind == "divestment":
        state.divested.add(tx["business"])
        touched_businesses.add(tx["business"])
    elif kind == "zoning_vintage":
        pass  # touches no unit, business or entity: the views read it by date
    else:
        raise AssertionError(f"cannot apply a {kind!r} transaction")
    for unit in touched_units:
        state.unit_date[unit] = date
        state.term_ended.pop(unit, None)
    for business in touched_businesses:
        state.business_date[business] = date
    names = set(named_entities(tx))
    for entity in names - ({tx["entity"]} if kind == "register_entity" else set()):
        state.name_date[entity] = max(date, state.name_date.get(entity, date))
    state.touched[tx["id"]] = Touch(
        frozenset(touched_units),
        frozenset(touched_businesses),
        frozenset(touched_entities),
        frozenset(names),
    )
    state.order.append(tx["id"])
    return changes


def fold(txs: list[Tx], as_of: str | None = None, at_term: bool = True) -> State:
    """The state after every effective transaction dated on or before `as_of` (None: the
    latest date, `latest_date`), and, with `at_term`, every usufruct whose term is before
    that date ended (without it, a unit's term is applied only when a transaction touches
    it: the state against which a new transaction is checked on its own date)."""
    state = State()
    for tx in effective(txs):
        if as_of is None or tx["date"] <= str(as_of):
            apply(state, tx)
    if at_term:
        advance_all(state, str(as_of) if as_of is not None else latest_date(txs))
    return state


# --------------------------------------------------------------------------- holdings


def _dimension(state: State, unit: str, entity: str, by: str, zone: str) -> Any:
    """The `by` key of a unit held by `entity`; `zone` is the unit's zone as of the day."""
    obj = state.units[unit]
    if by == "financing":
        return obj.get("financing", "other")
    if by == "region":
        return state.entities[entity].get("region")
    if by == "tense":
        return zone in TENSE_ZONES
    if by == "zone":
        return zone
    if by in ("segment", "commune"):
        return obj[by]
    raise ValueError(f"unknown dimension {by!r}; expected one of {DIMENSIONS}")


def holdings(
    txs: list[Tx], as_of: str | None = None, by: str | None = None, entity: str | None = None
) -> list[dict[str, Any]]:
    """The `rows` of `holdings --format json`.

    Row: {"entity", ["<by>": key,] "full_ownership", "usufruct", "bare_ownership"}
    (counts of units). A dismembered unit counts once as usufruct for its usufructuary
    and once as bare ownership for its bare owner; with `by`, each under its own key
    (for `region`, the key is each holder's own region). `financing` missing ->
    "other"; `region` absent -> None; `tense` -> bool. Rows whose three counts are 0 are
    left out. Sorted with the key `(entity, (key is not None, key))`: None first, then
    strings in code-point order; False before True for `tense`. `zone` and `tense` read
    each unit's zone as of the date (`zone_as_of`: the vintage in force that day).
    """
    state = fold(txs, as_of)
    day = as_of if as_of is not None else latest_date(txs)
    found = vintages(txs)
    counts: dict[tuple[str, Any], Counter[str]] = defaultdict(Counter)
    for unit, holding in state.holding.items():
        if holding[0] == FULL:
            rights = [(holding[1], "full_ownership")]
        elif holding[0] == DISMEMBERED:
            rights = [(holding[1], "usufruct"), (holding[2], "bare_ownership")]
        else:
            rights = []
        zone = zone_as_of(found, state.units[unit], str(day))[0] if rights and by else ""
        for holder, right in rights:
            key = _dimension(state, unit, holder, by, zone) if by else None
            counts[(holder, key)][right] += 1
    rows = []
    for (holder, key), c in counts.items():
        if entity is not None and holder != entity:
            continue
        row: dict[str, Any] = {"entity": holder}
        if by:
            row[by] = key
        row.update(
            full_ownership=c["full_ownership"],
            usufruct=c["usufruct"],
            bare_ownership=c["bare_ownership"],
        )
        if c["full_ownership"] or c["usufruct"] or c["bare_ownership"]:
            rows.append(row)
    rows.sort(key=lambda r: (r["entity"], (r.get(by) is not None, r.get(by)) if by else ()))
    return rows


def _stock_holder(holding: Holding | None) -> str | None:
    """Who has the unit in stock: the full owner, or the usufructuary; nobody otherwise."""
    if holding is None or holding[0] == LEFT:
        return None
    return holding[1]


def stock(txs: list[Tx], as_of: str | None = None) -> dict[str, int]:
    """Units held in full ownership or in usufruct, per entity (entities with 0 left out)."""
    counts: Counter[str] = Counter()
    for holding in fold(txs, as_of).holding.values():
        holder = _stock_holder(holding)
        if holder is not None:
            counts[holder] += 1
    return dict(counts)


# --------------------------------------------------------------------------- units

#: How a holder got a right, by the type of the transaction that gave it (docs/units.md).
_ENTRY = {
    "register_units": "registered",
    "acquisition": "acquired",
    "sale": "received",
    "merger": "received",
    "usufruct_extinguished": "reunited",
}


def _rights(holding: Holding | None) -> set[tuple[str, str]]:
    if holding is None or holding[0] == LEFT:
        return set()
    if holding[0] == FULL:
        return {(holding[1], "full_ownership")}
    return {(holding[1], "usufruct"), (holding[2], "bare_ownership")}


def units(txs: list[Tx], as_of: str | None = None, **only: str | None) -> list[dict[str, Any]]:
    """The `rows` of `units --format json`: one row per unit and right held.

    A holder's `entered_on` and `entry` are the date and kind of the transaction that
    gave it the right it holds now (a right it keeps through later transactions keeps
    them): registered, acquired (with `acquisition_mode`), received (sale or merger),
    reunited (usufruct extinguished), and for a bare-ownership transfer `dismembered`
    (the transferor's usufruct) or `bare_ownership_received`. `zone` and `zone_source`
    are the unit's zone as of the date and where it comes from (`zone_as_of`). `only`
    filters on entity, right, zone (as of the date), segment, commune. Sorted by (entity,
    unit_id, right) in code-point order.
    """
    day = as_of if as_of is not None else latest_date(txs)
    found = vintages(txs)
    state = State()
    since: dict[tuple[str, str, str], tuple[str, str, str | None]] = {}

    def terms(seen: int) -> None:  # a usufruct ended at term: the bare owner reunited
        for unit, _, after, term_day in state.term_changes[seen:]:
            since[(unit, after[1], "full_ownership")] = (term_day, "reunited", None)

    for tx in effective(txs):
        if as_of is not None and tx["date"] > as_of:
            continue
        seen = len(state.term_changes)
        changes = apply(state, tx)
        terms(seen)
        for unit, before, after in changes:
            for holder, right in _rights(after) - _rights(before):
                if tx["type"] == "bare_ownership_transfer":
                    entry = "dismembered" if right == "usufruct" else "bare_ownership_received"
                else:
                    entry = _ENTRY[tx["type"]]
                mode = tx["mode"] if tx["type"] == "acquisition" else None
                since[(unit, holder, right)] = (tx["date"], entry, mode)
    seen = len(state.term_changes)
    advance_all(state, as_of if as_of is not None else latest_date(txs))
    terms(seen)
    rows = []
    for unit, holding in state.holding.items():
        obj = state.units[unit]
        zone, source = zone_as_of(found, obj, str(day))
        for holder, right in _rights(holding):
            entered_on, entry, mode = since[(unit, holder, right)]
            row = {
                "entity": holder,
                "unit_id": unit,
                "right": right,
                "entered_on": entered_on,
                "entry": entry,
                "acquisition_mode": mode,
                "bare_owner": holding[2] if right == "usufruct" else None,
                "usufructuary": holding[1] if right == "bare_ownership" else None,
                "usufruct_end": state.usufruct_end.get(unit) if holding[0] == DISMEMBERED else None,
                "commune": obj["commune"],
                "zone": zone,
                "zone_source": source,
                "segment": obj["segment"],
                "financing": obj.get("financing", "other"),
                "rooms": obj.get("rooms"),
                "surface_m2": obj.get("surface_m2"),
                "year_built": obj.get("year_built"),
                "rpls_id": obj.get("rpls_id"),
            }
            if all(row[k] == v for k, v in only.items() if v is not None):
                rows.append(row)
    rows.sort(key=lambda r: (r["entity"], r["unit_id"], r["right"]))
    return rows


# --------------------------------------------------------------------------- movements


def year_bounds(year: int) -> tuple[str, str]:
    """A statement year (docs/statements.md, "The year"): the stock on 1 January is taken
    as of that day, that day's transactions included; the year's flows are the
    transactions dated after it and up to the next 1 January, included."""
    return f"{year:04d}-01-01", f"{year + 1:04d}-01-01"


def in_year(tx: Tx, year: int) -> bool:
    start, end = year_bounds(year)
    return bool(start < tx["date"] <= end)


#: Column of the entity that loses a unit from stock, by transaction type.
_OUT = {"sale": "transferred", "merger": "transferred", "usufruct_extinguished": "usufruct_ended"}
#: Column of the entity that gains a unit into stock, by transaction type.
_IN = {
    "register_units": "registered",
    "acquisition": "acquired",
    "sale": "received",
    "merger": "received",
    "usufruct_extinguished": "reunited",
}


def movements(txs: list[Tx], year: int) -> list[dict[str, Any]]:
    """The `rows` of `report movements --year YEAR`.

    Row: {"entity", "opening", "registered", "acquired", "received", "reunited", "sold",
    "transferred", "usufruct_ended", "closing", "dismembered"}, sorted by entity, rows
    with every field 0 left out.

    `opening` and `closing` are `stock` as of YEAR-01-01 and YEAR+1-01-01 (the year
    convention, `year_bounds`), computed by their own folds; the flows come from
    replaying, unit by unit, the effective transactions dated after YEAR-01-01 and up to
    YEAR+1-01-01 and comparing who has the unit in stock (full owner or
    usufructuary) before and after. A unit whose stock holder does not change moves
    nothing. So:
    - register_units / acquisition: +1 `registered` / `acquired` for the entity;
    - sale out of the ledger: `sold` for the seller; to `buyer.entity`: `transferred`
      for the seller and `received` for the buyer;
    - bare_ownership_transfer: no stock movement (the transferor keeps the usufruct);
      each unit counts in the transferor's `dismembered`;
    - usufruct_extinguished: `usufruct_ended` for the usufructuary, `reunited` for the
      bare owner;
    - merger, for each unit an absorbed entity holds a right of:
      * full ownership -> `transferred` (absorbed), `received` (into);
      * usufruct, bare ownership elsewhere -> same as full ownership;
      * usufruct, bare ownership held by `into` (consolidation) -> `transferred`
        (absorbed), `received` once (into), never also `reunited`;
      * bare ownership only (usufruct held by a third entity, or by `into`, in which case
        `into` becomes full owner by consolidation) -> nothing: bare ownership is not
        stock, and an usufructuary `into` already had the unit in stock;
      * usufruct and bare ownership both held by absorbed entities -> `transferred` for
        the usufructuary, `received` once for `into`.
    Hence closing = opening + registered + acquired + received + reunited - sold -
    transferred - usufruct_ended holds by construction if and only if the ledger's dates
    make as-of views consistent; the property tests check it.
    """
    start, end = year_bounds(year)
    opening, closing = stock(txs, start), stock(txs, end)
    flows: dict[str, Counter[str]] = defaultdict(Counter)
    for flow in unit_flows(txs, year):
        for entity, column in flow.moves:
            flows[entity][column] += flow.units
    rows = []
    for entity in sorted(set(opening) | set(closing) | set(flows)):
        row: dict[str, Any] = {"entity": entity}
        row.update({name: flows[entity][name] for name in MOVEMENT_FIELDS})
        row["opening"], row["closing"] = opening.get(entity, 0), closing.get(entity, 0)
        if any(row[name] for name in MOVEMENT_FIELDS):
            rows.append(row)
    return rows


@dataclass(frozen=True)
class Flow:
    """One stock change of the year: `moves` are (entity, column) pairs of one unit (or, for
    `dismembered`, of `units` units) changing in one transaction dated `day`."""

    day: str
    moves: tuple[tuple[str, str], ...]
    units: int = 1


def unit_flows(txs: list[Tx], year: int) -> list[Flow]:
    """The stock changes of the year's flows, transaction by transaction, unit by unit."""
    start, end = year_bounds(year)
    found = []
    state = State()
    for tx in effective(txs):
        if tx["date"] > end:
            continue
        changes = apply(state, tx)
        if tx["date"] <= start:
            continue
        if tx["type"] == "bare_ownership_transfer":
            found.append(Flow(tx["date"], ((tx["entity"], "dismembered"),), len(tx["units"])))
        for unit, before, after in changes:
            losing, gaining = _stock_holder(before), _stock_holder(after)
            if losing == gaining:
                continue
            moves = []
            if losing is not None:
                column = "sold" if after[0] == LEFT else _OUT.get(tx["type"])
                assert column, f"{tx['id']}: unexpected loss of {unit} by {losing}"
                moves.append((losing, column))
            if gaining is not None:
                assert tx["type"] in _IN, f"{tx['id']}: unexpected gain of {unit}"
                moves.append((gaining, _IN[tx["type"]]))
            found.append(Flow(tx["date"], tuple(moves)))
    advance_all(state, end)
    for _, before, after, term_day in state.term_changes:  # usufructs ended at term
        if start < term_day <= end:
            found.append(Flow(term_day, ((before[1], "usufruct_ended"), (after[1], "reunited"))))
    return found


#: The group line's columns (`report movements`, JSON key `group`).
GROUP_MOVEMENT_FIELDS = (
    "opening",
    "registered",
    "acquired",
    "received",
    "reunited",
    "joined",
    "sold",
    "transferred",
    "usufruct_ended",
    "left",
    "closing",
    "dismembered",
)


def movements_group(txs: list[Tx], year: int) -> dict[str, Any]:
    """The `group` line of `report movements`: the stock of the entities of the group on
    each date; a change between two entities of the group on its date moves nothing; an
    entity entering (leaving) the group brings (takes) its stock of the eve of that day."""
    start, end = year_bounds(year)
    row: dict[str, Any] = dict.fromkeys(GROUP_MOVEMENT_FIELDS, 0)
    row["opening"] = sum(n for e, n in stock(txs, start).items() if member(txs, e, start))
    row["closing"] = sum(n for e, n in stock(txs, end).items() if member(txs, e, end))
    for flow in unit_flows(txs, year):
        inside = [(e, c) for e, c in flow.moves if in_group(txs, e, flow.day)]
        if len(inside) == 2:
            continue
        for _, column in inside:
            row[column] += flow.units
    for tx in effective(txs):
        if tx["type"] in ("group_entry", "group_exit") and in_year(tx, year):
            held = stock(txs, _previous_day(tx["date"])).get(tx["entity"], 0)
            row["joined" if tx["type"] == "group_entry" else "left"] += held
    return {"entity": "group", **row}


def movement_identity_holds(row: dict[str, Any]) -> bool:
    """closing = opening + registered + acquired + received + reunited - sold - ..."""
    inflow = row["registered"] + row["acquired"] + row["received"] + row["reunited"]
    outflow = row["sold"] + row["transferred"] + row["usufruct_ended"]
    return bool(row["closing"] == row["opening"] + inflow - outflow)


# --------------------------------------------------------------------------- sales


def _half_up(numerator: int, denominator: int, places: int = 4) -> str:
    scaled = Fraction(numerator, denominator) * 10**places + Fraction(1, 2)
    n = scaled.numerator // scaled.denominator
    return f"{n // 10**places}.{n % 10**places:0{places}d}"


#: Entity kinds of the HLM bodies (docs/transactions.md): the sellers of `report sales`.
HLM_BODIES = frozenset({"hlm", "esh", "oph", "coop"})
#: Buyer categories that are households (natural persons, RPLS sale types 01 to 05).
HOUSEHOLDS = frozenset({"sitting_tenant", "tenant_family", "tenant", "caretaker", "individual"})
#: Kinds outside the group unless `register_entity` says otherwise.
OUTSIDE_BY_DEFAULT = frozenset({"pension_fund", "external"})


def kinds(txs: list[Tx]) -> dict[str, str]:
    return {tx["entity"]: tx["kind"] for tx in effective(txs) if tx["type"] == "register_entity"}


def member(txs: list[Tx], entity: str, day: str) -> bool:
    """Whether `entity` is of the group as of `day`, for a statement's group line: from its
    registration (unless its kind is outside by default, or it says `group: false`), until
    a `group_exit`; again from a `group_entry`. An absorbed entity stays where it was: it
    holds nothing after the merger, which moves its rights on the merger's date."""
    inside = False
    for tx in effective(txs):
        if tx["date"] > day:
            continue
        if tx["type"] == "register_entity" and tx["entity"] == entity:
            inside = bool(tx.get("group", tx["kind"] not in OUTSIDE_BY_DEFAULT) or tx.get("parent"))
        elif tx["type"] in ("group_entry", "group_exit") and tx["entity"] == entity:
            inside = tx["type"] == "group_entry"
    return inside


def _previous_day(day: str) -> str:
    return (dt.date.fromisoformat(day) - dt.timedelta(days=1)).isoformat()


def in_group(txs: list[Tx], entity: str, day: str) -> bool:
    """Of the group for a transaction dated `day`: a member as of that day."""
    return member(txs, entity, day)


def _sales_row(
    entity: str, kind: str | None, base: int, own: list[Tx], within: int, target_rate: str
) -> dict[str, Any]:
    by_category = dict.fromkeys(BUYER_CATEGORIES, 0)
    for tx in own:
        by_category[tx["buyer"]["category"]] += len(tx["units"])
    sold = sum(by_category.values())
    households = sum(by_category[c] for c in HOUSEHOLDS)
    block = sum(
        len(tx["units"])
        for tx in own
        if tx["buyer"]["category"] == "institutional" and len(tx["units"]) > 1
    )
    in_blocks = sum(
        len(tx["units"])
        for tx in own
        if tx["buyer"]["category"] not in HOUSEHOLDS and len(tx["units"]) > 1
    )
    proceeds = sum((Decimal(tx["price_eur"]) for tx in own), Decimal(0))
    with_net = [tx for tx in own if tx.get("net_proceeds_eur") is not None]
    net = sum((Decimal(tx["net_proceeds_eur"]) for tx in with_net), Decimal(0))
    target = Fraction(Decimal(target_rate))
    return {
        "entity": entity,
        "kind": kind,
        "opening_stock": base,
        "units_sold": sold,
        "by_category": by_category,
        "sold_to_households": households,
        "sold_in_blocks": in_blocks,
        "sold_within_group": within,
        "sitting_tenant_share": _half_up(by_category["sitting_tenant"], households)
        if households
        else None,
        "block_sold_to_institutionals": block,
        "proceeds_eur": str(proceeds.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)),
        "net_proceeds_eur": str(net.quantize(Decimal("0.01"))) if with_net else None,
        "units_with_net_proceeds": sum(len(tx["units"]) for tx in with_net),
        "sales_rate": _half_up(sold, base) if base else None,
        "household_sales_rate": _half_up(households, base) if base else None,
        "target_rate": target_rate,
        "target_met": Fraction(sold, base) >= target if base else None,
        "household_target_met": Fraction(households, base) >= target if base else None,
    }


def _within_group(txs: list[Tx], sale: Tx) -> bool:
    buyer = sale["buyer"].get("entity")
    return (
        buyer is not None
        and in_group(txs, sale["entity"], sale["date"])
        and in_group(txs, buyer, sale["date"])
    )


def sales(
    txs: list[Tx], year: int, target_rate: str = "0.01", sellers: str = "hlm"
) -> list[dict[str, Any]]:
    """The `rows` of `report sales --year YEAR [--target-rate R] [--sellers S]`.

    Row: {"entity", "kind", "opening_stock", "units_sold", "by_category" (every category),
    "sold_to_households", "sold_in_blocks", "sold_within_group", "sitting_tenant_share",
    "block_sold_to_institutionals", "proceeds_eur", "net_proceeds_eur",
    "units_with_net_proceeds", "sales_rate", "household_sales_rate", "target_rate",
    "target_met", "household_target_met"}; every entity (an HLM body unless `sellers` is
    `all`) with opening stock (as of YEAR-01-01) > 0 or a sale of the year's flows (every
    buyer, to a registered entity too), sorted by entity. Households are the buyers of
    sale types 01-05; the sitting-tenant share is over them; a block is a sale of more
    than one unit to a legal person; `sold_within_group` counts the units sold to another
    entity of the group (both of it on the sale's date).
    """
    opening = stock(txs, year_bounds(year)[0])
    kind = kinds(txs)
    year_sales = [tx for tx in effective(txs) if tx["type"] == "sale" and in_year(tx, year)]
    rows = []
    for entity in sorted(set(opening) | {tx["entity"] for tx in year_sales}):
        if sellers != "all" and kind.get(entity) not in HLM_BODIES:
            continue
        own = [tx for tx in year_sales if tx["entity"] == entity]
        within = sum(len(tx["units"]) for tx in own if _within_group(txs, tx))
        rows.append(
            _sales_row(entity, kind.get(entity), opening.get(entity, 0), own, within, target_rate)
        )
    return rows


def sales_group(
    txs: list[Tx], year: int, target_rate: str = "0.01", sellers: str = "hlm"
) -> dict[str, Any]:
    """The `group` line of `report sales`: over the rows' entities of the group, the
    opening stock of those of the group on 1 January, and only their sales to buyers
    outside the group (`sold_within_group`: the units they sold inside it, left out)."""
    start = year_bounds(year)[0]
    chosen = [r["entity"] for r in sales(txs, year, target_rate, sellers)]
    year_sales = [tx for tx in effective(txs) if tx["type"] == "sale" and in_year(tx, year)]
    own = [
        tx
        for tx in year_sales
        if tx["entity"] in chosen
        and in_group(txs, tx["entity"], tx["date"])
        and not _within_group(txs, tx)
    ]
    within = sum(
        len(tx["units"]) for tx in year_sales if tx["entity"] in chosen and _within_group(txs, tx)
    )
    opening = stock(txs, start)
    base = sum(opening.get(e, 0) for e in chosen if member(txs, e, start))
    return _sales_row("group", None, base, own, within, target_rate)


# --------------------------------------------------------------------------- dismemberment


def dismembered_units(txs: list[Tx], as_of: str | None = None) -> dict[tuple[str, str], int]:
    """{(usufructuary, bare_owner): number of units dismembered between them}."""
    counts: Counter[tuple[str, str]] = Counter()
    for holding in fold(txs, as_of).holding.values():
        if holding[0] == DISMEMBERED:
            counts[(holding[1], holding[2])] += 1
    return dict(counts)


def dismemberment(
    txs: list[Tx], as_of: str | None = None, today: str | None = None
) -> list[dict[str, Any]]:
    """The `rows` of `report dismemberment`: {"usufructuary", "bare_owner", "units",
    "maturities" ({year of usufruct_end as str: units}), "overdue"}, sorted by both.
    `units` are dismembered as of `as_of` (None: the latest date); `overdue` counts those
    whose usufruct_end < the judged date (as_of, or `today` when as_of is None), and the
    units (not in `units`) whose usufruct ended at term before both dates, untouched by
    any transaction since (no extinction recorded, still the bare owner's)."""
    judge = as_of if as_of is not None else today
    if judge is None:
        raise ValueError("give as_of, or today when as_of is None")
    state = fold(txs, as_of)
    rows: dict[tuple[str, str], dict[str, Any]] = {}

    def row(pair: tuple[str, str]) -> dict[str, Any]:
        return rows.setdefault(
            pair,
            {
                "usufructuary": pair[0],
                "bare_owner": pair[1],
                "units": 0,
                "maturities": {},
                "overdue": 0,
            },
        )

    for unit, holding in state.holding.items():
        if holding[0] != DISMEMBERED:
            continue
        found = row((holding[1], holding[2]))
        end = state.usufruct_end[unit]
        found["units"] += 1
        found["maturities"][end[:4]] = found["maturities"].get(end[:4], 0) + 1
        found["overdue"] += end < str(judge)
    for usufructuary, bare_owner, end in state.term_ended.values():
        if end < str(judge):
            row((usufructuary, bare_owner))["overdue"] += 1
    return [rows[key] for key in sorted(rows)]


# --------------------------------------------------------------------------- conservation


def conservation_check(txs: list[Tx], as_of: str | None = None) -> None:
    """Raise AssertionError unless every unit that entered is accounted for exactly once.

    A unit entered when an effective register_units/acquisition dated on or before
    `as_of` listed it. It must now be held by exactly one registered, active full owner,
    or by an active usufructuary and a different active bare owner, or have left the
    ledger through an effective sale without `buyer.entity`. Every registered business
    must be held by an active entity, or divested.
    """
    included = [tx for tx in effective(txs) if as_of is None or tx["date"] <= str(as_of)]
    entered = [
        u["unit_id"]
        for tx in included
        if tx["type"] in ("register_units", "acquisition")
        for u in tx["units"]
    ]
    sold_out = {
        u
        for tx in included
        if tx["type"] == "sale" and not tx["buyer"].get("entity")
        for u in tx["units"]
    }
    assert len(entered) == len(set(entered)), f"a unit entered twice: {sorted(entered)}"
    state = fold(txs, as_of)
    assert set(state.holding) == set(entered), (
        f"held units {sorted(state.holding)} differ from entered units {sorted(entered)}"
    )

    def active(entity: str) -> bool:
        return entity in state.entities and entity not in state.absorbed_by

    for unit in entered:
        holding = state.holding[unit]
        if holding[0] == FULL:
            assert active(holding[1]), f"{unit} is held by {holding[1]}, not an active entity"
        elif holding[0] == DISMEMBERED:
            _, usufructuary, bare_owner = holding
            assert usufructuary != bare_owner, (
                f"{unit}: usufruct and bare ownership both held by {usufructuary}"
            )
            assert active(usufructuary) and active(bare_owner), f"{unit}: inactive holder {holding}"
            assert unit in state.usufruct_end, f"{unit}: dismembered without a usufruct end"
        else:
            assert holding == (LEFT,), f"{unit}: unknown holding {holding}"
            assert unit in sold_out, f"{unit} left the ledger without a sale out of it"
    for business, owner in state.business_owner.items():
        assert business in state.divested or active(owner), f"{business} held by inactive {owner}"


# --------------------------------------------------------------------------- rule checker

ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]*$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MONEY_RE = re.compile(r"^-?\d+(\.\d{1,2})?$")
COMMUNE_RE = re.compile(r"^(\d{5}|2[AB]\d{3})$")
DECIMAL_RE = re.compile(r"^\d+(\.\d+)?$")
REGION_RE = re.compile(r"^\d{2}$")
SIRET_RE = re.compile(r"^[0-9]{14}$")
VALUE_LISTS = {
    "kind": {"group", "hlm", "lli", "fonciere", "pension_fund", "other", *NEW_KINDS},
    "zone": {"Abis", "A", "B1", "B2", "C"},
    "segment": {"social", "intermediate", "other"},
    "financing": {"PLAI", "PLUS", "PLS", "PLI", "other"},
    "category": set(BUYER_CATEGORIES),
    "sector": {"property_management", "private_development", "other"},
    "consideration": {"gratuitous", "onerous"},
    "mode": {"vefa", "new_build", "existing"},
}
COMMON_FIELDS = {"id", "type", "date", "reference", "note", "journal"}
FIELDS: dict[str, tuple[set[str], set[str]]] = {  # type -> (required, optional)
    "register_entity": ({"entity", "name", "kind"}, {"region", "group", "parent"}),
    "group_entry": ({"entity"}, {"parent"}),
    "group_exit": ({"entity"}, set()),
    "share_transfer": ({"entity", "parent"}, set()),
    "register_units": ({"entity", "units"}, set()),
    "acquisition": ({"entity", "units", "mode", "price_eur"}, {"seller", "seller_siret"}),
    "sale": ({"entity", "units", "buyer", "price_eur"}, {"net_proceeds_eur"}),
    "bare_ownership_transfer": (
        {"entity", "bare_owner", "units", "usufruct_end", "consideration"},
        {"price_eur"},
    ),
    "usufruct_extinguished": ({"units"}, set()),
    "usufruct_extension": ({"units", "usufruct_end"}, set()),
    "merger": ({"absorbed", "into"}, set()),
    "register_business": ({"entity", "business", "name", "sector", "headcount"}, set()),
    "divestment": (
        {"entity", "business", "buyer", "price_eur", "employees_transferred", "no_redundancy"},
        set(),
    ),
    "reversal": ({"reverses", "reason"}, set()),
    "zoning_vintage": ({"source", "sha256", "zones"}, {"file"}),
}
#: A unit's `zone` is optional in the fields: the zoning rules say when it is required.
UNIT_FIELDS = (
    {"unit_id", "commune", "segment"},
    {"zone", "financing", "rooms", "surface_m2", "year_built", "rpls_id"},
)
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")

Error = tuple[str, str]  # (rule code, message)
#: The transactions the perimeter rules apply to.
PERIMETER_TYPES = ("register_entity", "group_entry", "group_exit", "share_transfer")

#: Every rule code `violations` can give.
RULE_CODES = frozenset({
    # syntax, fields, types, value lists
    "unknown_type", "missing_field", "unknown_field", "field_type", "id_format",
    "date_format", "money_format", "value_list", "commune_format", "region_format",
    "rooms_range", "surface_format", "year_built_range", "empty_list", "empty_reason",
    # ids
    "duplicate_transaction_id", "duplicate_entity", "duplicate_unit_id", "duplicate_rpls_id",
    "duplicate_business", "duplicate_in_list",
    # entities and dates
    "unknown_entity", "entity_registered_later", "entity_inactive", "date_goes_back",
    # units, prices, dismemberment
    "unknown_unit", "unit_not_full_owner", "unit_not_dismembered", "price_negative",
    "sitting_tenant_single_unit", "tenant_family_single_unit", "buyer_is_seller",
    "bare_owner_is_transferor", "net_proceeds_above_price", "siret_format",
    "seller_siret_without_seller",
    "usufruct_end_not_after_date", "usufruct_too_long", "gratuitous_with_price",
    "onerous_without_price", "merger_into_absorbed",
    "usufruct_ended_at_term", "extension_not_later",
    # businesses
    "unknown_business", "business_already_divested", "business_not_held_by_seller",
    "employees_exceed_headcount",
    # reversals
    "reversal_unknown_tx", "reversal_of_reversal", "reversal_already_reversed",
    "reversal_blocked", "reversal_entity_absorbed",
    # kinds and the group perimeter
    "merger_family", "buyer_kind", "already_member", "not_member", "parent_not_member",
    "parent_is_entity", "same_parent", "parent_outside_group",
    # zoning vintages
    "sha256_format", "empty_zones", "zone_mismatch", "commune_not_in_zoning", "zone_required",
    "zoning_date_taken", "zoning_file_recorded",
})  # fmt: skip


def is_id(value: Any) -> bool:
    return isinstance(value, str) and 1 <= len(value) <= 80 and bool(ID_RE.match(value))


def is_date(value: Any) -> bool:
    if not isinstance(value, str) or not DATE_RE.match(value):
        return False
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def is_int(value: Any) -> bool:
    return type(value) is int


def add_30_years(date: str) -> str:
    """The last allowed usufruct_end (Civil Code art. 619); 29 Feb maps to 28 Feb."""
    d = dt.date.fromisoformat(date)
    try:
        return d.replace(year=d.year + 30).isoformat()
    except ValueError:
        return d.replace(year=d.year + 30, day=28).isoformat()


def _unit_errors(unit: Any, year: int) -> list[Error]:
    if not isinstance(unit, dict):
        return [("field_type", "a unit must be an object")]
    errors: list[Error] = []
    required, optional = UNIT_FIELDS
    errors += [
        ("missing_field", f"unit field {k} is required") for k in sorted(required - set(unit))
    ]
    errors += [
        ("unknown_field", f"unknown unit field {k}")
        for k in sorted(set(unit) - required - optional)
    ]
    checks = {
        "unit_id": ("id_format", is_id),
        "commune": ("commune_format", lambda v: isinstance(v, str) and COMMUNE_RE.match(v)),
        "zone": ("value_list", lambda v: v in VALUE_LISTS["zone"]),
        "segment": ("value_list", lambda v: v in VALUE_LISTS["segment"]),
        "financing": ("value_list", lambda v: v in VALUE_LISTS["financing"]),
        "rooms": ("rooms_range", lambda v: is_int(v) and 1 <= v <= 20),
        "surface_m2": (
            "surface_format",
            lambda v: isinstance(v, str) and DECIMAL_RE.match(v) and Decimal(v) > 0,
        ),
        "year_built": ("year_built_range", lambda v: is_int(v) and 1800 <= v <= year + 5),
        "rpls_id": ("field_type", lambda v: isinstance(v, str) and v != ""),
    }
    for key, (code, ok) in checks.items():
        if key in unit and not ok(unit[key]):
            errors.append((code, f"unit field {key} is invalid: {unit[key]!r}"))
    return errors


def _field_errors(tx: Any) -> list[Error]:
    """Syntax, fields, types and value lists: what needs no ledger state."""
    if not isinstance(tx, dict):
        return [("field_type", "a transaction must be a JSON object")]
    if tx.get("type") not in FIELDS:
        return [("unknown_type", f"unknown transaction type {tx.get('type')!r}")]
    required, optional = FIELDS[tx["type"]]
    required = required | {"id", "type", "date"}
    errors: list[Error] = [
        ("missing_field", f"field {k} is required") for k in sorted(required - set(tx))
    ]
    errors += [
        ("unknown_field", f"unknown field {k}")
        for k in sorted(set(tx) - required - optional - COMMON_FIELDS)
    ]
    if errors:
        return errors
    if not is_id(tx["id"]):
        errors.append(("id_format", f"invalid id {tx['id']!r}"))
    if not is_date(tx["date"]):
        return errors + [("date_format", f"invalid date {tx['date']!r}")]
    year = int(tx["date"][:4])
    for key in ("reference", "note", "name", "seller"):
        if key in tx and not isinstance(tx[key], str):
            errors.append(("field_type", f"{key} must be a string"))
    for key in ("entity", "bare_owner", "into", "business", "parent"):
        if key in tx and not is_id(tx[key]):
            errors.append(("id_format", f"invalid {key} {tx[key]!r}"))
    if "group" in tx and type(tx["group"]) is not bool:
        errors.append(("field_type", "group must be a boolean"))
    elif tx.get("group") is False and "parent" in tx:
        errors.append(("parent_outside_group", "a parent is given with group false"))
    for key in ("kind", "mode", "consideration", "sector"):
        if key in tx and tx[key] not in VALUE_LISTS[key]:
            errors.append(("value_list", f"invalid {key} {tx[key]!r}"))
    if "region" in tx and not (isinstance(tx["region"], str) and REGION_RE.match(tx["region"])):
        errors.append(("region_format", f"invalid region {tx['region']!r}"))
    for key in ("price_eur", "net_proceeds_eur"):
        if key in tx and not (isinstance(tx[key], str) and MONEY_RE.match(tx[key])):
            errors.append(("money_format", f"{key} must be a decimal string: {tx[key]!r}"))
    if (
        tx["type"] == "sale"
        and "net_proceeds_eur" in tx
        and not errors
        and Decimal(tx["net_proceeds_eur"]) > Decimal(tx["price_eur"])
    ):
        errors.append(("net_proceeds_above_price", "net_proceeds_eur is more than price_eur"))
    if "seller_siret" in tx:
        if not (isinstance(tx["seller_siret"], str) and SIRET_RE.match(tx["seller_siret"])):
            errors.append(("siret_format", f"seller_siret is not 14 digits: {tx['seller_siret']}"))
        if "seller" not in tx:
            errors.append(("seller_siret_without_seller", "seller_siret without a seller"))
    if "usufruct_end" in tx and not is_date(tx["usufruct_end"]):
        errors.append(("date_format", f"invalid usufruct_end {tx['usufruct_end']!r}"))
    for key in ("headcount", "employees_transferred"):
        if key in tx and not (is_int(tx[key]) and tx[key] >= 0):
            errors.append(("field_type", f"{key} must be an integer >= 0"))
    if "no_redundancy" in tx and type(tx["no_redundancy"]) is not bool:
        errors.append(("field_type", "no_redundancy must be a boolean"))
    if "absorbed" in tx and not (
        isinstance(tx["absorbed"], list)
        and tx["absorbed"]
        and all(is_id(e) for e in tx["absorbed"])
    ):
        errors.append(("id_format", "absorbed must be a non-empty list of entity ids"))
    if "units" in tx:
        if not isinstance(tx["units"], list) or not tx["units"]:
            errors.append(("empty_list", "units must be a non-empty list"))
        elif tx["type"] in ("register_units", "acquisition"):
            for unit in tx["units"]:
                errors += _unit_errors(unit, year)
        elif not all(is_id(u) for u in tx["units"]):
            errors.append(("id_format", "units must be unit ids"))
    if tx["type"] == "sale":
        errors += _buyer_errors(tx["buyer"])
    if tx["type"] == "divestment" and not isinstance(tx["buyer"], str):
        errors.append(("field_type", "buyer must be a name"))
    if tx["type"] == "reversal":
        if not isinstance(tx["reverses"], str):
            errors.append(("field_type", "reverses must be a transaction id"))
        if not isinstance(tx["reason"], str) or not tx["reason"].strip():
            errors.append(("empty_reason", "reason must be a non-empty string"))
    if tx["type"] == "zoning_vintage":
        errors += _vintage_field_errors(tx)
    return errors


def _vintage_field_errors(tx: Tx) -> list[Error]:
    """A vintage's texts (an optional `file` given as null is absent), its file's SHA-256
    and its classes (commune code -> zone)."""
    errors: list[Error] = [
        ("field_type", f"{key} must be a non-blank string")
        for key in ("source", "file")
        if not (key == "file" and tx.get(key) is None)
        and not (isinstance(tx.get(key), str) and tx[key].strip())
    ]
    if not (isinstance(tx["sha256"], str) and SHA256_RE.match(tx["sha256"])):
        errors.append(("sha256_format", f"sha256 is not 64 lowercase hex digits: {tx['sha256']!r}"))
    zones = tx["zones"]
    if not isinstance(zones, dict):
        return errors + [("field_type", "zones must be an object")]
    if not zones:
        return errors + [("empty_zones", "zones must give the class of at least one commune")]
    for commune, zone in zones.items():
        if not COMMUNE_RE.match(commune):
            errors.append(("commune_format", f"zones: {commune!r} is not a commune code"))
        elif zone not in VALUE_LISTS["zone"]:
            errors.append(("value_list", f"zones: commune {commune} has no zone {zone!r}"))
    return errors


def _buyer_errors(buyer: Any) -> list[Error]:
    if not isinstance(buyer, dict):
        return [("field_type", "buyer must be an object")]
    errors: list[Error] = []
    if "category" not in buyer:
        errors.append(("missing_field", "buyer.category is required"))
    elif buyer["category"] not in VALUE_LISTS["category"]:
        errors.append(("value_list", f"invalid buyer.category {buyer['category']!r}"))
    errors += [
        ("unknown_field", f"unknown buyer field {k}")
        for k in sorted(set(buyer) - {"category", "name", "entity"})
    ]
    if "name" in buyer and not isinstance(buyer["name"], str):
        errors.append(("field_type", "buyer.name must be a string"))
    if "entity" in buyer and not is_id(buyer["entity"]):
        errors.append(("id_format", f"invalid buyer.entity {buyer['entity']!r}"))
    return errors


def _describe(holding: Holding | None) -> str:
    if holding is None:
        return "unknown"
    if holding[0] == FULL:
        return f"held in full ownership by {holding[1]}"
    if holding[0] == DISMEMBERED:
        return f"usufruct held by {holding[1]}, bare ownership by {holding[2]}"
    return "sold out of the ledger"


def _duplicates(values: list[Any]) -> list[Any]:
    return sorted({v for v in values if values.count(v) > 1}, key=str)


def _entity_errors(state: State, tx: Tx) -> list[Error]:
    errors: list[Error] = []
    names = named_entities(tx)
    if tx["type"] == "register_entity":
        names = names[1:]
        if tx["entity"] in state.entities:
            errors.append(("duplicate_entity", f"entity {tx['entity']} is already registered"))
    for entity in dict.fromkeys(names):
        if entity not in state.entities:
            errors.append(("unknown_entity", f"entity {entity} is not registered"))
        elif state.entities[entity]["date"] > tx["date"]:
            errors.append(
                (
                    "entity_registered_later",
                    f"entity {entity} is registered on {state.entities[entity]['date']}",
                )
            )
        elif entity in state.absorbed_by:
            errors.append(
                ("entity_inactive", f"entity {entity} was absorbed by {state.absorbed_by[entity]}")
            )
    return errors


def _units_errors(state: State, tx: Tx, wanted: str) -> list[Error]:
    """Listed units: no duplicate; each known and held as `wanted` (full / dismembered)."""
    units: list[str] = tx["units"]
    errors: list[Error] = [
        ("duplicate_in_list", f"unit {u} is listed twice") for u in _duplicates(units)
    ]
    for unit in dict.fromkeys(units):
        holding = state.holding.get(unit)
        if holding is None:
            errors.append(("unknown_unit", f"unit {unit} is not in the ledger"))
        elif wanted == FULL and effective_holding(state, unit, tx["date"]) != (FULL, tx["entity"]):
            errors.append(
                (
                    "unit_not_full_owner",
                    f"unit {unit} is not held in full ownership "
                    f"by {tx['entity']} ({_describe(holding)})",
                )
            )
        elif wanted == DISMEMBERED and holding[0] != DISMEMBERED:
            errors.append(
                ("unit_not_dismembered", f"unit {unit} is not dismembered ({_describe(holding)})")
            )
        elif wanted == DISMEMBERED and tx["type"] == "usufruct_extension":
            errors += _extension_errors(state, tx, unit)
        elif wanted == DISMEMBERED and tx["date"] <= state.usufruct_end[unit]:
            if holding[1] in state.absorbed_by:  # an early end: both holders must be active
                errors.append(("entity_inactive", f"usufructuary {holding[1]} was absorbed"))
    return errors


def _extension_errors(state: State, tx: Tx, unit: str) -> list[Error]:
    """A term not yet passed moves later, within 30 years of the usufruct's start."""
    end, new = state.usufruct_end[unit], tx["usufruct_end"]
    if tx["date"] > end:
        return [("usufruct_ended_at_term", f"unit {unit}: its usufruct ended at term on {end}")]
    if new <= end:
        return [("extension_not_later", f"unit {unit}: {new} is not after {end}")]
    if new > add_30_years(state.usufruct_start[unit]):
        return [("usufruct_too_long", f"unit {unit}: {new} is more than 30 years after its start")]
    if state.holding[unit][1] in state.absorbed_by:
        return [("entity_inactive", f"usufructuary {state.holding[unit][1]} was absorbed")]
    return []


def _price(tx: Tx) -> Decimal | None:
    return Decimal(tx["price_eur"]) if "price_eur" in tx else None


def _type_errors(state: State, accepted: list[Tx], tx: Tx) -> list[Error]:
    kind, errors = tx["type"], []
    price = _price(tx)
    if price is not None and price < 0:
        errors.append(("price_negative", "price_eur must be >= 0"))
    if kind in ("register_units", "acquisition"):
        ids = [u["unit_id"] for u in tx["units"]]
        errors += [("duplicate_in_list", f"unit {u} is listed twice") for u in _duplicates(ids)]
        errors += [
            ("duplicate_unit_id", f"unit {u} is already registered")
            for u in dict.fromkeys(ids)
            if u in state.units
        ]
        rpls = [u["rpls_id"] for u in tx["units"] if "rpls_id" in u]
        known = {u.get("rpls_id") for u in state.units.values()} - {None}
        errors += [
            ("duplicate_rpls_id", f"rpls_id {r} is already used")
            for r in dict.fromkeys(rpls)
            if r in known or rpls.count(r) > 1
        ]
        errors += _zone_errors(accepted, tx)
    elif kind == "zoning_vintage":
        for other in vintages(accepted):
            if other["date"] == tx["date"]:
                errors.append(("zoning_date_taken", f"{other['id']} is in force from {tx['date']}"))
            if other["sha256"] == tx["sha256"]:
                errors.append(("zoning_file_recorded", f"{other['id']} has this sha256"))
    elif kind == "sale":
        errors += _units_errors(state, tx, FULL)
        if tx["buyer"]["category"] in SINGLE_HOME and len(tx["units"]) != 1:
            code = f"{tx['buyer']['category']}_single_unit"
            errors.append((code, "a sale of the home a tenant occupies has one unit"))
        if tx["buyer"].get("entity") == tx["entity"]:
            errors.append(("buyer_is_seller", "buyer.entity is the seller"))
        elif tx["buyer"].get("entity") in state.entities:
            kind = state.entities[tx["buyer"]["entity"]]["kind"]
            if kind not in BUYER_KINDS[tx["buyer"]["category"]]:
                errors.append(("buyer_kind", f"a {tx['buyer']['category']} buyer is no {kind}"))
    elif kind == "bare_ownership_transfer":
        errors += _units_errors(state, tx, FULL)
        if tx["bare_owner"] == tx["entity"]:
            errors.append(("bare_owner_is_transferor", "bare_owner is the transferor"))
        if tx["usufruct_end"] <= tx["date"]:
            errors.append(("usufruct_end_not_after_date", "usufruct_end must be after date"))
        elif tx["usufruct_end"] > add_30_years(tx["date"]):
            errors.append(("usufruct_too_long", "usufruct_end is more than 30 years after date"))
        if tx["consideration"] == "gratuitous" and price is not None and price > 0:
            errors.append(("gratuitous_with_price", "a gratuitous transfer has no price"))
        if tx["consideration"] == "onerous" and (price is None or price <= 0):
            errors.append(("onerous_without_price", "an onerous transfer needs a price > 0"))
    elif kind in ("usufruct_extinguished", "usufruct_extension"):
        errors += _units_errors(state, tx, DISMEMBERED)
    elif kind == "merger":
        if tx["into"] in tx["absorbed"]:
            errors.append(("merger_into_absorbed", "into is one of the absorbed entities"))
        elif tx["into"] in state.entities:
            family = FAMILIES[state.entities[tx["into"]]["kind"]]
            errors += [
                ("merger_family", f"{e} is not of the family of {tx['into']}")
                for e in dict.fromkeys(tx["absorbed"])
                if e in state.entities and FAMILIES[state.entities[e]["kind"]] != family
            ][:1]
        errors += [
            ("duplicate_in_list", f"entity {e} is absorbed twice")
            for e in _duplicates(tx["absorbed"])
        ]
    elif kind == "register_business":
        if tx["business"] in state.businesses:
            errors.append(
                ("duplicate_business", f"business {tx['business']} is already registered")
            )
    elif kind == "divestment":
        business = tx["business"]
        if business not in state.businesses:
            errors.append(("unknown_business", f"business {business} is not registered"))
        else:
            if business in state.divested:
                errors.append(("business_already_divested", f"business {business} is divested"))
            elif state.business_owner[business] != tx["entity"]:
                errors.append(
                    (
                        "business_not_held_by_seller",
                        f"business {business} is held by {state.business_owner[business]}",
                    )
                )
            if tx["employees_transferred"] > state.businesses[business]["headcount"]:
                errors.append(("employees_exceed_headcount", "employees_transferred > headcount"))
    elif kind == "reversal":
        errors += _reversal_errors(state, accepted, tx)
    return errors


def _zone_errors(accepted: list[Tx], tx: Tx) -> list[Error]:
    """Each unit's zone against the vintage in force on the line's date: its commune must
    be listed and a zone given must be its class; with no vintage in force, a zone is
    required."""
    vintage = vintage_on(vintages(accepted), tx["date"])
    errors: list[Error] = []
    for unit in tx["units"]:
        found = class_in(vintage, unit["commune"])
        if vintage is None:
            if "zone" not in unit:
                errors.append(("zone_required", f"unit {unit['unit_id']}: no zone, no vintage"))
        elif found is None:
            errors.append(
                (
                    "commune_not_in_zoning",
                    f"unit {unit['unit_id']}: commune {unit['commune']} not in {vintage['id']}",
                )
            )
        elif "zone" in unit and unit["zone"] != found:
            errors.append(
                (
                    "zone_mismatch",
                    f"unit {unit['unit_id']}: {unit['zone']} is not {found} ({vintage['id']})",
                )
            )
    return errors


def _reversal_errors(state: State, accepted: list[Tx], tx: Tx) -> list[Error]:
    target = next((t for t in accepted if t["id"] == tx["reverses"]), None)
    if target is None:
        return [("reversal_unknown_tx", f"no transaction {tx['reverses']} is recorded")]
    if target["type"] == "reversal":
        return [("reversal_of_reversal", f"{target['id']} is itself a reversal")]
    if any(t["type"] == "reversal" and t["reverses"] == target["id"] for t in accepted):
        return [("reversal_already_reversed", f"{target['id']} is already reversed")]
    errors: list[Error] = []
    touch = state.touched[target["id"]]
    later = state.order[state.order.index(target["id"]) + 1 :]
    for other in later:
        t = state.touched[other]
        if (
            (t.units & touch.units)
            or (t.businesses & touch.businesses)
            or (t.names & touch.entities)
        ):
            errors.append(("reversal_blocked", f"{other} touched what {target['id']} touched"))
            break
    for entity in sorted(touch.names):
        absorber = state.absorbed_by.get(entity)
        if absorber is not None and absorber != target["id"]:
            errors.append(("reversal_entity_absorbed", f"{entity} was absorbed by {absorber}"))
    return errors


def _perimeter_errors(state: State, tx: Tx) -> list[Error]:
    """The group perimeter: joining when a member, leaving or moving shares when not, and a
    parent that is the entity itself, not a member on the date, or already the parent."""
    kind, entity, parent = tx["type"], tx.get("entity"), tx.get("parent")
    if kind == "group_entry" and entity in state.members:
        return [("already_member", f"{entity} is already a member")]
    if kind in ("group_exit", "share_transfer") and entity not in state.members:
        return [("not_member", f"{entity} is not a member")]
    if kind == "share_transfer" and state.members[entity] == parent:
        return [("same_parent", f"{parent} already holds the shares of {entity}")]
    if parent is None:
        return []
    if parent == entity:
        return [("parent_is_entity", f"parent {parent} is the entity")]
    if parent not in state.members or state.member_since[parent] > tx["date"]:
        return [("parent_not_member", f"parent {parent} is not a member on {tx['date']}")]
    return []


def _date_errors(state: State, tx: Tx) -> list[Error]:
    """Dates never go back for a unit, a business, or an entity named by a merger.

    Read as: a transaction's date must be on or after the latest effective transaction
    that touched each unit / business it touches; and a merger's date on or after the
    latest effective transaction naming each entity it names.
    """
    kind, date = tx["type"], tx["date"]
    units: set[str] = set()
    businesses: set[str] = set()
    entities: set[str] = set()
    if kind in ("sale", "bare_ownership_transfer", "usufruct_extinguished", "usufruct_extension"):
        units = set(tx["units"])
    elif kind in ("divestment",):
        businesses = {tx["business"]}
    elif kind == "merger":
        absorbed = set(tx["absorbed"])
        units = {
            u
            for u in state.holding
            if _held_by(effective_holding(state, u, date) or (LEFT,), absorbed)
        }
        businesses = {
            b for b, o in state.business_owner.items() if o in absorbed and b not in state.divested
        }
        entities = absorbed | {tx["into"]}
    elif kind in ("group_entry", "group_exit", "share_transfer"):
        entities = {tx["entity"]}
    late = [f"unit {u}" for u in sorted(units) if state.unit_date.get(u, date) > date]
    late += [f"business {b}" for b in sorted(businesses) if state.business_date.get(b, date) > date]
    late += [f"entity {e}" for e in sorted(entities) if state.name_date.get(e, date) > date]
    return [("date_goes_back", f"{what} was touched after {date}") for what in late]


def violations(txs: list[Any]) -> list[tuple[int, str, str]]:
    """Every rule broken, as (index in txs, rule code, message), checking each
    transaction against the valid ones before it (an invalid one is not applied).

    A repeated id with the same content is skipped ("already recorded"); with other
    content it is `duplicate_transaction_id`, and nothing else is checked for it. Field
    errors stop the domain checks of that transaction.
    """
    accepted: list[Tx] = []
    found: list[tuple[int, str, str]] = []
    for index, tx in enumerate(txs):
        if isinstance(tx, dict):
            earlier = next((t for t in accepted if t["id"] == tx.get("id")), None)
            if earlier is not None:
                if content(earlier) != content(tx):
                    found.append(
                        (
                            index,
                            "duplicate_transaction_id",
                            f"id {tx['id']} is recorded with other content",
                        )
                    )
                continue
        errors = _field_errors(tx)
        if not errors:
            state = fold(accepted, at_term=False)  # each unit judged on tx's date
            errors = _entity_errors(state, tx)
            if not errors and tx["type"] in PERIMETER_TYPES:
                errors = _perimeter_errors(state, tx)
            if tx["type"] != "register_entity":
                errors += _type_errors(state, accepted, tx)
            if tx["type"] != "reversal":
                errors += _date_errors(state, tx)
        assert {code for code, _ in errors} <= RULE_CODES, errors
        found += [(index, code, message) for code, message in errors]
        if not errors:
            accepted.append(tx)
    return found
