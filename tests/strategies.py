"""Hypothesis strategies: random VALID ledgers, and ledgers with one invalid transaction.

`ledgers()` draws a list of transactions in the JSONL input format (`docs/transactions.md`)
step by step from a small stateful generator that only ever draws what the rules allow.
`ledger_and_bad_tx()` draws a valid ledger and one more transaction that breaks exactly
one named rule (the rule codes of `tests/reference_model.violations`).

The generator keeps its own small picture of the ledger (`_World`) instead of reusing
the reference model's fold: the two are checked against each other by the tests
(every generated ledger must pass `reference_model.violations`). No import from the
project; standard library and hypothesis only.

Dates: mostly nondecreasing, but a step sometimes takes the same date, or an earlier
date than the latest transaction, whenever what it touches allows it. The generator
respects the strictest reading of "dates never go back": for each unit and business, and,
for each entity once it has been named by a merger, for every transaction naming it.

Zoning vintages (docs/transactions.md): about half the ledgers record `zoning_vintage`
transactions (over `CITIES`, some listing only part of them, at dates among the ledger's
dates or before them all) and sometimes reverse one, or record a reversed vintage's file
again; the others never do, so ledgers without vintages stay common. A unit object on a
date a vintage is in force names a commune it lists (or an arrondissement of a city it
lists) and declares its class or, half the time, leaves `zone` out; before the earliest
vintage it declares any zone.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

Tx = dict[str, Any]
Draw = Callable[[st.SearchStrategy[Any]], Any]

START = dt.date(2016, 1, 1)
ENTITY_POOL = (
    "ESH-IDF",
    "LLI-IDF",
    "LLI-EST",
    "AFL",
    "AGIRC-ARRCO",
    "OPH-13",
    "LLI-SUD",
    "ESH.NORD",
    "PF:IRCANTEC",
    "SCI/AFL-1",
)
MAX_RANDOM_ENTITIES = 6
KINDS = (
    "hlm",
    "esh",
    "lli",
    "fonciere",
    "association",
    "pension_fund",
    "sales_company",
    "external",
)
#: A merger joins entities of one family (docs/transactions.md).
FAMILY = {"esh": "hlm", "fonciere": "association"}
#: Who is outside the group unless the registration says otherwise.
OUTSIDE = ("pension_fund", "external")
#: The categories of a sale to a buyer entity that fit the buyer's kind.
HLM_BUYERS = ("social_landlord",)
ENTITY_BUYERS = {
    "hlm": HLM_BUYERS,
    "esh": HLM_BUYERS,
    "sales_company": HLM_BUYERS,
    "external": ("sem", "approved_body", "institutional", "other"),
    "association": ("approved_body", "institutional", "other"),
    "fonciere": ("approved_body", "institutional", "other"),
}


def family(kind: str) -> str:
    return FAMILY.get(kind, kind)


REGIONS = (None, "11", "84", "44")
#: The communes a zoning vintage lists (some of them), and the arrondissements that
#: take the class of their city (Paris 75056, Lyon 69123, Marseille 13055).
CITIES = ("75056", "69123", "2A004", "13055", "93066", "2B033", "92050")
ARRONDISSEMENTS = {"75108": "75056", "69381": "69123", "13216": "13055"}
COMMUNES = (*CITIES, *ARRONDISSEMENTS)
#: A commune no vintage lists.
UNZONED_COMMUNE = "01001"
ZONES = ("Abis", "A", "B1", "B2", "C")
SEGMENTS = ("social", "intermediate", "other")
FINANCINGS = ("PLAI", "PLUS", "PLS", "PLI", "other")
SECTORS = ("property_management", "private_development", "other")
UNKNOWN_ENTITY = "NOBODY-1"


def iso(d: dt.date) -> str:
    return d.isoformat()


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def add_30_years(d: dt.date, leap: str = "strict") -> dt.date:
    """d + 30 years; 29 Feb -> 28 Feb ("strict", surely allowed) or 1 Mar ("lenient")."""
    try:
        return d.replace(year=d.year + 30)
    except ValueError:
        if leap == "strict":
            return d.replace(year=d.year + 30, day=28)
        return dt.date(d.year + 30, 3, 1)


def money(cents: int) -> str:
    sign, cents = ("-" if cents < 0 else ""), abs(cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"


def class_in(vintage: Tx | None, commune: str) -> str | None:
    """The class a vintage gives a commune (an arrondissement: its city's)."""
    if vintage is None:
        return None
    found: str | None = vintage["zones"].get(ARRONDISSEMENTS.get(commune, commune))
    return found


def tx_names(tx: Tx) -> set[str]:
    """Entities a transaction names in any field."""
    names = {tx[k] for k in ("entity", "bare_owner", "into", "parent") if k in tx}
    names |= set(tx.get("absorbed", ()))
    if tx["type"] == "sale" and "entity" in tx["buyer"]:
        names.add(tx["buyer"]["entity"])
    return names


@dataclass
class _World:
    """The generator's own picture of the effective ledger."""

    reg_date: dict[str, dt.date] = field(default_factory=dict)
    kind: dict[str, str] = field(default_factory=dict)
    members: dict[str, str | None] = field(default_factory=dict)  # member -> parent
    member_since: dict[str, dt.date] = field(default_factory=dict)
    absorbed_by: dict[str, str] = field(default_factory=dict)
    holding: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: unit -> (start, usufruct_end) of its dismemberment: it ends at term by law.
    term: dict[str, tuple[dt.date, dt.date]] = field(default_factory=dict)
    rpls: dict[str, str] = field(default_factory=dict)  # unit -> rpls id
    unit_date: dict[str, dt.date] = field(default_factory=dict)
    owner: dict[str, str] = field(default_factory=dict)  # business -> owner
    headcount: dict[str, int] = field(default_factory=dict)
    divested: set[str] = field(default_factory=set)
    business_date: dict[str, dt.date] = field(default_factory=dict)
    name_date: dict[str, dt.date] = field(default_factory=dict)
    merger_named: set[str] = field(default_factory=set)
    released: dict[str, dt.date] = field(default_factory=dict)
    touches: dict[str, tuple[set[str], set[str], set[str], set[str]]] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    vintages: dict[str, Tx] = field(default_factory=dict)  # in force: id -> its transaction

    @classmethod
    def replay(cls, txs: list[Tx]) -> _World:
        world = cls()
        for tx in txs:
            world.apply(tx)
        return world

    def active(self) -> list[str]:
        return sorted(e for e in self.reg_date if e not in self.absorbed_by)

    def active_members(self) -> list[str]:
        return [e for e in self.active() if e in self.members]

    def outsiders(self) -> list[str]:
        return [e for e in self.active() if e not in self.members]

    def same_family(self, entity: str) -> list[str]:
        """The other active entities a merger may join `entity` with."""
        own = family(self.kind[entity])
        return [e for e in self.active() if e != entity and family(self.kind[e]) == own]

    def full_units(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for unit, h in sorted(self.holding.items()):
            if h[0] == "full":
                out.setdefault(h[1], []).append(unit)
        return out

    def vintage_on(self, d: dt.date) -> Tx | None:
        """The zoning vintage in force on `d`: the latest dated on or before it."""
        before = [v for v in self.vintages.values() if day(v["date"]) <= d]
        return max(before, key=lambda v: str(v["date"])) if before else None

    def dismembered(self) -> list[str]:
        return sorted(u for u, h in self.holding.items() if h[0] == "dism")

    def effective(self, unit: str, d: dt.date) -> tuple[str, ...]:
        """The unit's holding in law on `d`: after its usufruct's term, the bare owner's."""
        h = self.holding[unit]
        if h[0] == "dism" and self.term[unit][1] < d:
            return ("full", h[2])
        return h

    def advance(self, unit: str, d: dt.date) -> None:
        if unit in self.holding and self.holding[unit] != self.effective(unit, d):
            self.holding[unit] = self.effective(unit, d)
            del self.term[unit]

    def extensible(self) -> list[str]:
        """Dismembered units whose term can still move later (within 30 years)."""
        return sorted(
            u
            for u, (start, end) in self.term.items()
            if self.unit_date[u] <= end < add_30_years(start)
            and self.holding[u][1] not in self.absorbed_by
        )

    def moved_by_merger(
        self, absorbed: list[str], on: dt.date | None = None
    ) -> tuple[list[str], list[str]]:
        units = sorted(
            u
            for u in self.holding
            if set((self.holding[u] if on is None else self.effective(u, on))[1:]) & set(absorbed)
        )
        businesses = sorted(
            b for b, o in self.owner.items() if o in absorbed and b not in self.divested
        )
        return units, businesses

    def apply(self, tx: Tx) -> None:
        """Apply, and remember when each entity last gave up a right in a unit."""
        before = dict(self.holding)
        self._apply(tx)
        d = day(tx["date"])
        for unit, old in before.items():
            new = self.holding.get(unit)
            for holder in set(old[1:]) - set((new or ("left",))[1:]):
                self.released[holder] = max(self.released.get(holder, d), d)

    def _apply(self, tx: Tx) -> None:  # noqa: C901 - one branch per type reads best here
        kind, d = tx["type"], day(tx["date"])
        units: set[str] = set()
        businesses: set[str] = set()
        entities: set[str] = set()
        if kind == "register_entity":
            self.reg_date[tx["entity"]] = d
            self.kind[tx["entity"]] = tx["kind"]
            entities.add(tx["entity"])
            if tx.get("group", tx["kind"] not in OUTSIDE) or "parent" in tx:
                self.members[tx["entity"]] = tx.get("parent")
                self.member_since[tx["entity"]] = d
        elif kind in ("group_entry", "share_transfer"):
            self.members[tx["entity"]] = tx.get("parent")
            self.member_since.setdefault(tx["entity"], d)
            entities.add(tx["entity"])
        elif kind == "group_exit":
            del self.members[tx["entity"]], self.member_since[tx["entity"]]
            entities.add(tx["entity"])
        elif kind in ("register_units", "acquisition"):
            for unit in tx["units"]:
                self.holding[unit["unit_id"]] = ("full", tx["entity"])
                if "rpls_id" in unit:
                    self.rpls[unit["unit_id"]] = unit["rpls_id"]
                units.add(unit["unit_id"])
        # A usufruct ends at its term: the units a transaction touches, judged on its date.
        if kind in ("sale", "bare_ownership_transfer") or kind.startswith("usufruct_"):
            for unit in tx["units"]:
                self.advance(unit, d)
        if kind == "merger":
            for unit in self.moved_by_merger(tx["absorbed"], d)[0]:
                self.advance(unit, d)
        if kind == "usufruct_extension":
            for unit in tx["units"]:
                self.term[unit] = (self.term[unit][0], day(tx["usufruct_end"]))
            units |= set(tx["units"])
        elif kind == "sale":
            buyer = tx["buyer"].get("entity")
            for unit in tx["units"]:
                self.holding[unit] = ("full", buyer) if buyer else ("left",)
            units |= set(tx["units"])
        elif kind == "bare_ownership_transfer":
            for unit in tx["units"]:
                self.holding[unit] = ("dism", tx["entity"], tx["bare_owner"])
                self.term[unit] = (d, day(tx["usufruct_end"]))
            units |= set(tx["units"])
        elif kind == "usufruct_extinguished":
            for unit in tx["units"]:  # after the term: a confirmation (already full)
                if self.holding[unit][0] == "dism":
                    self.holding[unit] = ("full", self.holding[unit][2])
                    del self.term[unit]
            units |= set(tx["units"])
        elif kind == "merger":
            absorbed, into = tx["absorbed"], tx["into"]
            moved_units, moved_businesses = self.moved_by_merger(absorbed, d)
            for unit in moved_units:
                holders = tuple(into if e in absorbed else e for e in self.holding[unit][1:])
                if len(set(holders)) == 1:
                    self.holding[unit] = ("full", holders[0])
                    self.term.pop(unit, None)
                else:
                    self.holding[unit] = ("dism", *holders)
            for business in moved_businesses:
                self.owner[business] = into
            for entity in absorbed:
                self.absorbed_by[entity] = tx["id"]
                self.members.pop(entity, None)
                self.member_since.pop(entity, None)
            self.merger_named |= set(absorbed) | {into}
            units, businesses, entities = set(moved_units), set(moved_businesses), set(absorbed)
        elif kind == "register_business":
            self.owner[tx["business"]] = tx["entity"]
            self.headcount[tx["business"]] = tx["headcount"]
            businesses.add(tx["business"])
        elif kind == "divestment":
            self.divested.add(tx["business"])
            businesses.add(tx["business"])
        elif kind == "zoning_vintage":
            self.vintages[tx["id"]] = tx
        for unit in units:
            self.unit_date[unit] = d
        for business in businesses:
            self.business_date[business] = d
        names = tx_names(tx) - ({tx["entity"]} if kind == "register_entity" else set())
        for entity in names:
            self.name_date[entity] = max(d, self.name_date.get(entity, d))
        self.touches[tx["id"]] = (units, businesses, entities, tx_names(tx))
        self.order.append(tx["id"])


class _Builder:
    """Draws valid transactions one at a time and records them."""

    def __init__(self, draw: Draw) -> None:
        self.draw = draw
        self.txs: list[Tx] = []
        self.world = _World()
        self.clock = START
        self.serial = 0
        self.seen_units: set[str] = set()
        self.seen_rpls: set[str] = set()
        self.seen_businesses: set[str] = set()
        #: Whether random steps record zoning vintages (drawn once per ledger).
        self.zoned: bool | None = None
        self.files = 0  # zoning files made up so far (each its own sha256)

    # ----------------------------------------------------------------- bookkeeping

    def new_id(self, prefix: str) -> str:
        self.serial += 1
        style = self.serial % 4
        if style == 1:
            return f"{prefix}-{self.serial:04d}"
        if style == 2:
            return f"{prefix}:{self.clock.year}/{self.serial}"
        if style == 3:
            return f"{prefix}.{self.serial}"
        return f"{prefix}_{self.serial}"

    def effective(self) -> list[Tx]:
        reversed_ids = {tx["reverses"] for tx in self.txs if tx["type"] == "reversal"}
        return [tx for tx in self.txs if tx["type"] != "reversal" and tx["id"] not in reversed_ids]

    def record(self, tx: Tx) -> Tx:
        if tx["type"] not in ("reversal",) and self.draw(st.integers(0, 5)) == 0:
            tx["reference"] = f"Acte {tx['date'][:4]}/{self.serial}"
        self.txs.append(tx)
        if tx["type"] == "reversal":
            self.world = _World.replay(self.effective())
        else:
            self.world.apply(tx)
        self.clock = max(self.clock, day(tx["date"]))
        return tx

    def floor(
        self,
        names: Sequence[str] = (),
        units: Sequence[str] = (),
        businesses: Sequence[str] = (),
        merger: bool = False,
    ) -> dt.date:
        """Earliest date the rules allow for a transaction naming/touching these."""
        w, lb = self.world, START
        for entity in names:
            lb = max(lb, w.reg_date[entity])
            if merger or entity in w.merger_named:
                lb = max(lb, w.name_date.get(entity, lb))
        for unit in units:
            lb = max(lb, w.unit_date[unit])
        for business in businesses:
            lb = max(lb, w.business_date[business])
        return lb

    def pick_date(self, lb: dt.date) -> dt.date:
        """Mostly on or after the latest date so far; sometimes the same; sometimes earlier."""
        if lb < self.clock and self.draw(st.integers(0, 3)) == 3:
            return lb + dt.timedelta(days=self.draw(st.integers(0, (self.clock - lb).days)))
        gap = self.draw(st.one_of(st.just(0), st.integers(1, 400)))
        return max(lb, self.clock) + dt.timedelta(days=gap)

    def reversible(self) -> list[str]:
        """Effective transactions that the reversal rules allow to reverse now."""
        w, out = self.world, []
        restored = self._restored_holders() if w.absorbed_by else {}
        for i, target in enumerate(w.order):
            units, businesses, entities, names = w.touches[target]
            blocked = any(
                (w.touches[o][0] & units)
                or (w.touches[o][1] & businesses)
                or (w.touches[o][3] & entities)
                for o in w.order[i + 1 :]
            )
            absorbed = any(w.absorbed_by.get(e, target) != target for e in names)
            if any(h in w.absorbed_by for h in restored.get(target, ())):
                absorbed = True
            if not blocked and not absorbed:
                out.append(target)
        return out

    def _restored_holders(self) -> dict[str, set[str]]:
        """Who reversing each effective transaction would hand a right back to: the
        holders, as recorded, of the units it touched just before it (a usufruct past its
        term included), but those it absorbed itself.

        The product rejects a reversal that hands a right back to an entity absorbed since
        (`entity_absorbed_since`): e.g. reversing a usufruct extinction after the former
        usufructuary was absorbed by a merger, or a merger that moved a unit whose
        usufruct had ended at its term after that usufructuary was absorbed.
        """
        world, found = _World(), {}
        for tx in self.effective():
            before = dict(world.holding)
            world.apply(tx)
            holders = {h for u in world.touches[tx["id"]][0] for h in before.get(u, ())[1:]}
            found[tx["id"]] = holders - set(tx.get("absorbed", ()))
        return found

    # ----------------------------------------------------------------- values

    def price(self, positive: bool = False) -> str:
        cents = self.draw(
            st.one_of(
                st.integers(1 if positive else 0, 100),
                st.integers(5_000_000, 40_000_000),
                st.integers(1, 10**11),
            )
        )
        return money(cents)

    def net_proceeds(self, price: str) -> str:
        """Net proceeds of a lot sold for `price`: at most the price, a loss too."""
        cents = int(price.replace(".", ""))  # `money` gives 2 decimals
        return money(self.draw(st.integers(-cents - 100, cents)))

    def unit_object(self, on: dt.date, taken: set[str], rpls: str | None = None) -> Tx:
        """A new unit entering on `on`: its commune and zone fit the vintage in force."""
        draw, w, year = self.draw, self.world, on.year
        freed = sorted(self.seen_units - set(w.holding) - taken)
        if freed and draw(st.integers(0, 2)) == 0:
            unit_id = draw(st.sampled_from(freed))
        else:
            unit_id = f"U-{len(self.seen_units) + 1:05d}"
        taken.add(unit_id)
        self.seen_units.add(unit_id)
        vintage = w.vintage_on(on)
        if vintage is None:
            commune = draw(st.sampled_from(COMMUNES))
            zone: str | None = draw(st.sampled_from(ZONES))
        else:
            commune = draw(st.sampled_from([c for c in COMMUNES if class_in(vintage, c)]))
            zone = class_in(vintage, commune) if draw(st.booleans()) else None
        unit: Tx = {"unit_id": unit_id, "commune": commune}
        if zone is not None:
            unit["zone"] = zone
        unit["segment"] = draw(st.sampled_from(SEGMENTS))
        if draw(st.booleans()):
            unit["financing"] = draw(st.sampled_from(FINANCINGS))
        if draw(st.booleans()):
            unit["rooms"] = draw(st.integers(1, 20))
        if draw(st.booleans()):
            unit["surface_m2"] = f"{draw(st.integers(9, 250))}.{draw(st.integers(0, 99)):02d}"
        if draw(st.booleans()):
            unit["year_built"] = draw(st.integers(1800, year + 5))
        if rpls is None and draw(st.booleans()):
            in_use = set(w.rpls.values()) | {r for r in taken if r.startswith("RPLS")}
            freed_rpls = sorted(self.seen_rpls - in_use)
            if freed_rpls and draw(st.booleans()):
                rpls = draw(st.sampled_from(freed_rpls))
            else:
                rpls = f"RPLS{len(self.seen_rpls) + 1:09d}"
        if rpls is not None:
            unit["rpls_id"] = rpls
            taken.add(rpls)
            self.seen_rpls.add(rpls)
        return unit

    def units_for(self, on: dt.date, count: int, rpls: str | None = None) -> list[Tx]:
        taken: set[str] = set()
        return [self.unit_object(on, taken, rpls if i == 0 else None) for i in range(count)]

    def subset(self, items: list[str], low: int = 1, high: int = 3) -> list[str]:
        return self.draw(
            st.lists(
                st.sampled_from(items),
                min_size=low,
                max_size=max(low, min(high, len(items))),
                unique=True,
            )
        )

    # ----------------------------------------------------------------- steps

    def register_entity(
        self,
        entity: str | None = None,
        date: dt.date | None = None,
        kind: str | None = None,
        membership: bool = True,
    ) -> Tx:
        """A registration; with `membership`, sometimes a stated `group` or a `parent`."""
        if entity is None:
            free = [e for e in ENTITY_POOL if e not in self.world.reg_date]
            entity = self.draw(st.sampled_from(free))
        kind = kind or self.draw(st.sampled_from(KINDS))
        tx: Tx = {
            "id": self.new_id("ENT"),
            "type": "register_entity",
            "date": "",
            "entity": entity,
            "name": f"Entité {entity}",
            "kind": kind,
        }
        lb = START
        how = self.draw(st.sampled_from(("default", "stated", "parent"))) if membership else ""
        parents = self.world.active_members()
        if how == "stated":
            tx["group"] = self.draw(st.booleans())
        elif how == "parent" and parents:
            tx["parent"] = self.draw(st.sampled_from(parents))
            lb = max(self.floor([tx["parent"]]), self.world.member_since[tx["parent"]])
        tx["date"] = iso(date or self.pick_date(lb))
        region = self.draw(st.sampled_from(REGIONS))
        if region is not None:
            tx["region"] = region
        return self.record(tx)

    def parent_floor(self, parent: str) -> dt.date:
        """The earliest date `parent` may be named as a parent: registered, a member."""
        return max(self.floor([parent]), self.world.member_since[parent])

    def group_entry(self, entity: str | None = None, parent: str | None = None) -> Tx:
        entity = entity or self.draw(st.sampled_from(self.world.outsiders()))
        lb = self.floor([entity], merger=True)
        parents = [p for p in self.world.active_members() if p != entity]
        if parent is None and parents and self.draw(st.booleans()):
            parent = self.draw(st.sampled_from(parents))
        tx: Tx = {"id": self.new_id("ENTRY"), "type": "group_entry", "date": "", "entity": entity}
        if parent is not None:
            tx["parent"] = parent
            lb = max(lb, self.parent_floor(parent))
        tx["date"] = iso(self.pick_date(lb))
        return self.record(tx)

    def group_exit(self, entity: str | None = None) -> Tx:
        entity = entity or self.draw(st.sampled_from(self.world.active_members()))
        d = self.pick_date(self.floor([entity], merger=True))
        return self.record(
            {"id": self.new_id("EXIT"), "type": "group_exit", "date": iso(d), "entity": entity}
        )

    def share_transfers(self) -> list[tuple[str, str]]:
        """(member, another member that does not hold its shares yet)."""
        members = self.world.active_members()
        return [(e, p) for e in members for p in members if p not in (e, self.world.members[e])]

    def share_transfer(self, entity: str | None = None, parent: str | None = None) -> Tx:
        if entity is None or parent is None:
            entity, parent = self.draw(st.sampled_from(self.share_transfers()))
        lb = max(self.floor([entity], merger=True), self.parent_floor(parent))
        return self.record(
            {
                "id": self.new_id("SHARES"),
                "type": "share_transfer",
                "date": iso(self.pick_date(lb)),
                "entity": entity,
                "parent": parent,
            }
        )

    def register_units(
        self,
        kind: str = "register_units",
        entity: str | None = None,
        count: int | None = None,
        date: dt.date | None = None,
        rpls: str | None = None,
    ) -> Tx:
        draw = self.draw
        entity = entity or draw(st.sampled_from(self.world.active()))
        d = date or self.pick_date(self.floor([entity]))
        count = count or draw(st.integers(1, 5))
        tx: Tx = {
            "id": self.new_id("REG" if kind == "register_units" else "ACQ"),
            "type": kind,
            "date": iso(d),
            "entity": entity,
            "units": self.units_for(d, count, rpls),
        }
        if kind == "acquisition":
            tx["mode"] = draw(st.sampled_from(("vefa", "new_build", "existing")))
            tx["price_eur"] = self.price()
            if draw(st.booleans()):
                tx["seller"] = "Promoteur X"
                if draw(st.booleans()):
                    tx["seller_siret"] = draw(st.from_regex(r"[0-9]{14}", fullmatch=True))
        return self.record(tx)

    def sale(
        self, seller: str | None = None, units: list[str] | None = None, how: str | None = None
    ) -> Tx:
        draw, holders = self.draw, self.world.full_units()
        holders = {e: u for e, u in holders.items() if e not in self.world.absorbed_by}
        seller = seller or draw(st.sampled_from(sorted(holders)))
        own = holders[seller]
        others = [e for e in self.world.active() if e != seller]
        if how is None:
            hows = ["sitting_tenant", "lot"] + (["block"] if len(own) > 1 else [])
            how = draw(st.sampled_from(hows + (["entity"] if others else [])))
        if how == "sitting_tenant":
            units = units or [draw(st.sampled_from(own))]
            buyer: Tx = {"category": draw(st.sampled_from(("sitting_tenant", "tenant_family")))}
        elif how == "lot":
            units = units or self.subset(own)
            lot_buyers = ("tenant", "caretaker", "individual", "other", "social_landlord")
            buyer = {"category": draw(st.sampled_from((*lot_buyers, "sem", "local_authority")))}
        elif how == "block":
            units = units or self.subset(own, 2, 5)
            buyer = {"category": "institutional"}
        else:
            units = units or self.subset(own)
            entity = draw(st.sampled_from(others))
            entity_buyers = ENTITY_BUYERS.get(self.world.kind[entity], ("institutional", "other"))
            buyer = {"category": draw(st.sampled_from(entity_buyers)), "entity": entity}
        if draw(st.booleans()):
            buyer["name"] = "Acquéreur"
        d = self.pick_date(self.floor([seller, *tx_names({"type": "sale", "buyer": buyer})], units))
        tx: Tx = {
            "id": self.new_id("SALE"),
            "type": "sale",
            "date": iso(d),
            "entity": seller,
            "units": units,
            "buyer": buyer,
            "price_eur": self.price(),
        }
        if draw(st.booleans()):
            tx["net_proceeds_eur"] = self.net_proceeds(tx["price_eur"])
        return self.record(tx)

    def bare_ownership_transfer(self, transferor: str | None = None) -> Tx:
        draw = self.draw
        holders = {
            e: u for e, u in self.world.full_units().items() if e not in self.world.absorbed_by
        }
        transferor = transferor or draw(st.sampled_from(sorted(holders)))
        bare_owner = draw(st.sampled_from([e for e in self.world.active() if e != transferor]))
        units = self.subset(holders[transferor])
        d = self.pick_date(self.floor([transferor, bare_owner], units))
        span = (add_30_years(d) - d).days  # short terms too: they pass within the ledger
        end = d + dt.timedelta(
            days=draw(st.one_of(st.integers(1, 700), st.integers(1, span), st.just(span)))
        )
        tx: Tx = {
            "id": self.new_id("BOT"),
            "type": "bare_ownership_transfer",
            "date": iso(d),
            "entity": transferor,
            "bare_owner": bare_owner,
            "units": units,
            "usufruct_end": iso(end),
            "consideration": draw(st.sampled_from(("gratuitous", "onerous"))),
        }
        if tx["consideration"] == "onerous":
            tx["price_eur"] = self.price(positive=True)
        elif draw(st.booleans()):
            tx["price_eur"] = "0.00"
        return self.record(tx)

    def usufruct_extinguished(self) -> Tx:
        w = self.world
        units = self.subset(w.dismembered())
        floor = self.floor(units=units)
        for unit in units:  # an early end needs an active usufructuary: else after the term
            if w.holding[unit][1] in w.absorbed_by:
                floor = max(floor, w.term[unit][1] + dt.timedelta(days=1))
        d = self.pick_date(floor)
        return self.record(
            {
                "id": self.new_id("EXT"),
                "type": "usufruct_extinguished",
                "date": iso(d),
                "units": units,
            }
        )

    def usufruct_extension(self) -> Tx:
        """The term of one dismembered unit moved later, on a date before it passes."""
        w, draw = self.world, self.draw
        unit = draw(st.sampled_from(w.extensible()))
        start, end = w.term[unit]
        floor = self.floor(units=[unit])
        d = floor + dt.timedelta(days=draw(st.integers(0, (end - floor).days)))
        cap = add_30_years(start)
        new = end + dt.timedelta(days=draw(st.integers(1, (cap - end).days)))
        return self.record(
            {
                "id": self.new_id("EXTN"),
                "type": "usufruct_extension",
                "date": iso(d),
                "units": [unit],
                "usufruct_end": iso(new),
            }
        )

    def merger(self, absorbed: list[str] | None = None, into: str | None = None) -> Tx:
        """A merger of entities of one family (registering one of the family when no
        other active entity is of it)."""
        w = self.world
        if into is None:
            if absorbed:
                candidates = [e for e in w.same_family(absorbed[0]) if e not in absorbed]
            else:
                candidates = [e for e in w.active() if w.same_family(e)]
            if not candidates:
                anchor = absorbed[0] if absorbed else self.draw(st.sampled_from(w.active()))
                free = [e for e in ENTITY_POOL if e not in w.reg_date]
                added = free[0] if free else f"SAME-{self.serial}"
                self.register_entity(added, kind=w.kind[anchor])
                candidates = [added] if absorbed else [anchor]
            into = self.draw(st.sampled_from(candidates))
        absorbed = absorbed or self.subset(w.same_family(into), 1, 2)
        units, businesses = self.world.moved_by_merger(absorbed)
        floor = self.floor([*absorbed, into], units, businesses, merger=True)
        # The product rejects a merger dated before an absorbed entity gave up a right.
        released = self.world.released
        floor = max([floor, *(released[e] for e in absorbed if e in released)])
        d = self.pick_date(floor)
        return self.record(
            {
                "id": self.new_id("MRG"),
                "type": "merger",
                "date": iso(d),
                "absorbed": absorbed,
                "into": into,
            }
        )

    def register_business(self, entity: str | None = None) -> Tx:
        entity = entity or self.draw(st.sampled_from(self.world.active()))
        freed = sorted(self.seen_businesses - set(self.world.owner))
        if freed and self.draw(st.booleans()):
            business = self.draw(st.sampled_from(freed))
        else:
            business = f"BIZ-{len(self.seen_businesses) + 1}"
        self.seen_businesses.add(business)
        d = self.pick_date(self.floor([entity]))
        return self.record(
            {
                "id": self.new_id("BIZ"),
                "type": "register_business",
                "date": iso(d),
                "entity": entity,
                "business": business,
                "name": f"Activité {business}",
                "sector": self.draw(st.sampled_from(SECTORS)),
                "headcount": self.draw(st.integers(0, 500)),
            }
        )

    def held_businesses(self) -> list[str]:
        return sorted(b for b in self.world.owner if b not in self.world.divested)

    def divestment(self, business: str | None = None) -> Tx:
        business = business or self.draw(st.sampled_from(self.held_businesses()))
        owner = self.world.owner[business]
        employees = self.draw(st.integers(0, self.world.headcount[business]))
        d = self.pick_date(self.floor([owner], businesses=[business]))
        return self.record(
            {
                "id": self.new_id("DIV"),
                "type": "divestment",
                "date": iso(d),
                "entity": owner,
                "business": business,
                "buyer": "Repreneur Y",
                "price_eur": self.price(),
                "employees_transferred": employees,
                "no_redundancy": self.draw(st.booleans()),
            }
        )

    def vintage_date(self) -> dt.date:
        """A date no vintage in force has: one of the ledger's, a new one, or one before
        every transaction (so that the vintage covers the whole ledger)."""
        draw = self.draw
        taken = {day(v["date"]) for v in self.world.vintages.values()}
        dates = sorted({day(tx["date"]) for tx in self.txs} - taken)
        how = draw(st.sampled_from(("ledger", "new", "early")))
        if how == "ledger" and dates:
            d = draw(st.sampled_from(dates))
        elif how == "early":
            d = START - dt.timedelta(days=draw(st.integers(1, 800)))
        else:
            d = self.pick_date(START)
        while d in taken:
            d += dt.timedelta(days=1)
        return d

    def zoning_file(self) -> tuple[str, dict[str, str]]:
        """(sha256, classes) of a zoning file: a new file (its own sha256; every city, or
        only some), or sometimes the file of a vintage reversed since, recorded again."""
        in_force = {v["sha256"] for v in self.world.vintages.values()}
        again = [
            (tx["sha256"], tx["zones"])
            for tx in self.txs
            if tx["type"] == "zoning_vintage" and tx["sha256"] not in in_force
        ]
        if again and self.draw(st.integers(0, 2)) == 0:
            sha, zones = self.draw(st.sampled_from(again))
            return sha, dict(zones)
        self.files += 1
        sha = hashlib.sha256(f"zoning file {self.files}".encode()).hexdigest()
        listed = list(CITIES)
        if self.draw(st.integers(0, 2)) == 0:
            listed = self.subset(listed, 1, len(CITIES) - 1)
        return sha, {c: self.draw(st.sampled_from(ZONES)) for c in listed}

    def vintage_tx(self, d: dt.date, derived_id: bool = False) -> Tx:
        """A `zoning_vintage` dated `d` (not recorded); with `derived_id`, the id the CLI
        derives from the date and the file's hash when no transaction has it yet."""
        sha, zones = self.zoning_file()
        derived = f"zoning-abc-{iso(d)}-{sha[:12]}"
        if not derived_id or any(tx["id"] == derived for tx in self.txs):
            derived = self.new_id("ZON")
        tx: Tx = {"id": derived, "type": "zoning_vintage", "date": iso(d), "source": "test"}
        if self.draw(st.booleans()):
            tx["file"] = f"zonage-{self.files}.csv"
        tx["sha256"] = sha
        tx["zones"] = zones
        return tx

    def zoning_vintage(self, date: dt.date | None = None) -> Tx:
        d = date or self.vintage_date()
        return self.record(self.vintage_tx(d, derived_id=self.draw(st.booleans())))

    def reversal(self, target: str | None = None) -> Tx:
        target = target or self.draw(st.sampled_from(self.reversible()))
        reversed_tx = next(tx for tx in self.txs if tx["id"] == target)
        d = self.pick_date(day(reversed_tx["date"]))
        return self.record(
            {
                "id": self.new_id("REV"),
                "type": "reversal",
                "date": iso(d),
                "reverses": target,
                "reason": "Erreur de saisie",
            }
        )

    # ----------------------------------------------------------------- random ledger

    def random_step(self) -> None:
        w = self.world
        active = w.active()
        full = [e for e in w.full_units() if e not in w.absorbed_by]
        options: list[Callable[[], Tx]] = []
        if active:
            options += [
                self.register_units,
                lambda: self.register_units("acquisition"),
                lambda: self.register_units("acquisition"),
                self.register_business,
            ]
        if len(w.reg_date) < MAX_RANDOM_ENTITIES or not active:
            options.append(self.register_entity)
        if full:
            options += [self.sale, self.sale]
        if full and len(active) >= 2:
            options += [self.bare_ownership_transfer, self.bare_ownership_transfer]
        if w.dismembered():
            options += [self.usufruct_extinguished, self.usufruct_extinguished]
        if w.extensible():
            options.append(self.usufruct_extension)
        if any(w.same_family(e) for e in active):
            options.append(self.merger)
        if w.outsiders():
            options.append(self.group_entry)
        if w.active_members():
            options.append(self.group_exit)
        if self.share_transfers():
            options.append(self.share_transfer)
        if self.held_businesses():
            options.append(self.divestment)
        if self.reversible():
            options.append(self.reversal)
        if self.zoned is None:
            self.zoned = self.draw(st.booleans())
        if self.zoned:
            options.append(self.zoning_vintage)
            if w.vintages:
                options.append(
                    lambda: self.reversal(self.draw(st.sampled_from(sorted(w.vintages))))
                )
        self.draw(st.sampled_from(options))()

    def random_ledger(self, max_transactions: int) -> None:
        self.zoned = self.draw(st.booleans())
        for _ in range(self.draw(st.integers(2, min(5, max_transactions)))):
            self.register_entity()
        if self.zoned and self.draw(st.integers(0, 3)) > 0:
            self.zoning_vintage()
        for _ in range(self.draw(st.integers(0, max_transactions - len(self.txs)))):
            self.random_step()


@st.composite
def ledgers(draw: Draw, max_transactions: int = 40) -> list[Tx]:
    """A random valid ledger of at most `max_transactions` transactions (at least 2)."""
    builder = _Builder(draw)
    builder.random_ledger(max(2, max_transactions))
    return builder.txs


# --------------------------------------------------------------------------- invalid


class _Bad:
    """Builders of one invalid transaction each, on top of a valid ledger.

    Each may first record valid transactions that set the scene (an entity, a unit held
    in full ownership...), then returns a transaction that breaks exactly its rule: every
    other rule holds, and its date is the latest date so far (which no rule forbids)
    unless the rule is about dates.
    """

    def __init__(self, builder: _Builder) -> None:
        self.b = builder

    # scene setting -----------------------------------------------------------

    @property
    def now(self) -> str:
        return iso(self.b.clock)

    def active(self, count: int) -> list[str]:
        while len(self.b.world.active()) < count:
            free = [e for e in ENTITY_POOL if e not in self.b.world.reg_date]
            self.b.register_entity(free[0])
        return self.b.world.active()

    def holder(self, count: int = 1, exclude: str | None = None) -> tuple[str, list[str]]:
        """An active entity holding at least `count` units in full ownership."""
        holders = {
            e: u
            for e, u in self.b.world.full_units().items()
            if e not in self.b.world.absorbed_by and e != exclude and len(u) >= count
        }
        if not holders:
            entity = [e for e in self.active(2) if e != exclude][0]
            self.b.register_units(entity=entity, count=count)
            return entity, self.b.world.full_units()[entity]
        entity = self.b.draw(st.sampled_from(sorted(holders)))
        return entity, holders[entity]

    def other(self, entity: str) -> str:
        return self.b.draw(st.sampled_from([e for e in self.active(2) if e != entity]))

    def reversal_exists(self) -> str:
        reversals = [tx for tx in self.b.txs if tx["type"] == "reversal"]
        if not reversals:
            return self.b.reversal()["id"]
        return str(self.b.draw(st.sampled_from(reversals))["id"])

    def new_units(self, prefix: str, entity: str, date: str | None = None, **extra: Any) -> Tx:
        date = date or self.now
        tx: Tx = {
            "id": self.b.new_id(prefix),
            "type": "register_units",
            "date": date,
            "entity": entity,
            "units": self.b.units_for(day(date), 1),
        }
        tx.update(extra)
        return tx

    def sale(self, seller: str, units: list[str], **buyer: Any) -> Tx:
        return {
            "id": self.b.new_id("SALE"),
            "type": "sale",
            "date": self.now,
            "entity": seller,
            "units": units,
            "buyer": {"category": "individual", **buyer},
            "price_eur": "150000.00",
        }

    def bot(self, end: Callable[[dt.date], dt.date] = add_30_years, **changes: Any) -> Tx:
        """A valid onerous transfer dated now, once the scene is set; `end(date)` gives
        its usufruct_end."""
        transferor, units = self.holder()
        bare_owner = self.other(transferor)
        tx: Tx = {
            "id": self.b.new_id("BOT"),
            "type": "bare_ownership_transfer",
            "date": self.now,
            "entity": transferor,
            "bare_owner": bare_owner,
            "units": units[:1],
            "usufruct_end": iso(end(self.b.clock)),
            "consideration": "onerous",
            "price_eur": "90000.00",
        }
        tx.update(changes)
        return tx

    def divestment(self, business: str, **changes: Any) -> Tx:
        tx: Tx = {
            "id": self.b.new_id("DIV"),
            "type": "divestment",
            "date": self.now,
            "entity": self.b.world.owner[business],
            "business": business,
            "buyer": "Repreneur Z",
            "price_eur": "1000000.00",
            "employees_transferred": self.b.world.headcount[business],
            "no_redundancy": True,
        }
        tx.update(changes)
        return tx

    def held_business(self) -> str:
        held = self.b.held_businesses()
        if not held:
            return str(self.b.register_business(self.active(1)[0])["business"])
        return str(self.b.draw(st.sampled_from(held)))

    # rules -------------------------------------------------------------------

    def unit_not_full_owner(self) -> Tx:
        w = self.b.world
        choices = []
        dismembered = [u for u in w.dismembered() if w.holding[u][1] not in w.absorbed_by]
        if dismembered:
            unit = self.b.draw(st.sampled_from(dismembered))
            choices.append((w.holding[unit][self.b.draw(st.sampled_from((1, 2)))], unit))
        left = sorted(u for u, h in w.holding.items() if h == ("left",))
        if left:
            choices.append((self.active(1)[0], self.b.draw(st.sampled_from(left))))
        if not choices or self.b.draw(st.booleans()):
            owner, units = self.holder()
            choices.append((self.other(owner), units[0]))
        seller, unit = self.b.draw(st.sampled_from(choices))
        return self.sale(seller, [unit])

    def sitting_tenant_single_unit(self) -> Tx:
        seller, units = self.holder(2)
        return self.sale(seller, units[:2], category="sitting_tenant")

    def tenant_family_single_unit(self) -> Tx:
        seller, units = self.holder(2)
        return self.sale(seller, units[:2], category="tenant_family")

    def net_proceeds_above_price(self) -> Tx:
        seller, units = self.holder()
        tx = self.sale(seller, units[:1], category="individual")
        tx["net_proceeds_eur"] = self.b.draw(st.sampled_from(("150000.01", "999999.99")))
        return tx

    def siret_format(self) -> Tx:
        bad = self.b.draw(st.sampled_from(("1234567890123", "123456789012345", "1234567890123a")))
        return self.new_units(
            "ACQ", self.active(1)[0], type="acquisition", mode="existing", price_eur="1.00",
            seller="Vendeur", seller_siret=bad,
        )  # fmt: skip

    def seller_siret_without_seller(self) -> Tx:
        return self.new_units(
            "ACQ", self.active(1)[0], type="acquisition", mode="existing", price_eur="1.00",
            seller_siret="41234567800012",
        )  # fmt: skip

    def unknown_entity(self) -> Tx:
        if self.b.draw(st.booleans()):
            return self.new_units("REG", UNKNOWN_ENTITY)
        seller, units = self.holder()
        return self.sale(seller, units[:1], category="social_landlord", entity=UNKNOWN_ENTITY)

    def entity_registered_later(self) -> Tx:
        before = self.now
        free = [e for e in ENTITY_POOL if e not in self.b.world.reg_date]
        entity = free[0] if free else "LATE-1"
        self.b.register_entity(entity, date=self.b.clock + dt.timedelta(days=30))
        return self.new_units("REG", entity, date=before)

    def entity_inactive(self) -> Tx:
        if not self.b.world.absorbed_by:
            self.active(2)
            self.b.merger()
        entity = self.b.draw(st.sampled_from(sorted(self.b.world.absorbed_by)))
        return self.new_units("REG", entity)

    def date_goes_back(self) -> Tx:
        entity = self.active(1)[0]
        registered = self.b.register_units(
            entity=entity, count=1, date=self.b.clock + dt.timedelta(days=30)
        )
        tx = self.sale(entity, [registered["units"][0]["unit_id"]])
        tx["date"] = iso(day(registered["date"]) - dt.timedelta(days=1))
        return tx

    def usufruct_too_long(self) -> Tx:
        return self.bot(lambda d: add_30_years(d, leap="lenient") + dt.timedelta(days=1))

    def usufruct_end_not_after_date(self) -> Tx:
        back = self.b.draw(st.integers(0, 400))
        return self.bot(lambda d: d - dt.timedelta(days=back))

    def bare_owner_is_transferor(self) -> Tx:
        tx = self.bot()
        tx["bare_owner"] = tx["entity"]
        return tx

    def gratuitous_with_price(self) -> Tx:
        return self.bot(consideration="gratuitous", price_eur="1500.00")

    def onerous_without_price(self) -> Tx:
        tx = self.bot()
        if self.b.draw(st.booleans()):
            del tx["price_eur"]
        else:
            tx["price_eur"] = "0.00"
        return tx

    def unit_not_dismembered(self) -> Tx:
        _, units = self.holder()
        return {
            "id": self.b.new_id("EXT"),
            "type": "usufruct_extinguished",
            "date": self.now,
            "units": units[:1],
        }

    def merger_into_absorbed(self) -> Tx:
        into, other = self.active(2)[:2]
        absorbed = self.b.draw(st.sampled_from(([into], [into, other], [other, into])))
        return {
            "id": self.b.new_id("MRG"),
            "type": "merger",
            "date": self.now,
            "absorbed": absorbed,
            "into": into,
        }

    def business_already_divested(self) -> Tx:
        w = self.b.world
        done = sorted(b for b in w.divested if w.owner[b] not in w.absorbed_by)
        if not done:
            business = self.held_business()
            self.b.divestment(business)
        else:
            business = self.b.draw(st.sampled_from(done))
        return self.divestment(business, employees_transferred=0)

    def employees_exceed_headcount(self) -> Tx:
        business = self.held_business()
        extra = self.b.draw(st.integers(1, 10))
        return self.divestment(
            business, employees_transferred=self.b.world.headcount[business] + extra
        )

    def business_not_held_by_seller(self) -> Tx:
        business = self.held_business()
        return self.divestment(business, entity=self.other(self.b.world.owner[business]))

    def unknown_business(self) -> Tx:
        entity = self.active(1)[0]
        return {
            "id": self.b.new_id("DIV"),
            "type": "divestment",
            "date": self.now,
            "entity": entity,
            "business": "BIZ-NOPE",
            "buyer": "Z",
            "price_eur": "1.00",
            "employees_transferred": 0,
            "no_redundancy": False,
        }

    def reversal_tx(self, target: str, reason: str = "Correction") -> Tx:
        return {
            "id": self.b.new_id("REV"),
            "type": "reversal",
            "date": self.now,
            "reverses": target,
            "reason": reason,
        }

    def reversal_unknown_tx(self) -> Tx:
        return self.reversal_tx("NO-SUCH-TX")

    def reversal_of_reversal(self) -> Tx:
        return self.reversal_tx(self.reversal_exists())

    def reversal_already_reversed(self) -> Tx:
        reversal = self.reversal_exists()
        return self.reversal_tx(next(t["reverses"] for t in self.b.txs if t["id"] == reversal))

    def reversal_blocked(self) -> Tx:
        entity = self.active(1)[0]
        registered = self.b.register_units(entity=entity, count=self.b.draw(st.integers(1, 3)))
        unit = self.b.draw(st.sampled_from([u["unit_id"] for u in registered["units"]]))
        self.b.sale(entity, [unit], how="lot")
        return self.reversal_tx(registered["id"])

    def reversal_entity_absorbed(self) -> Tx:
        seller, units = self.holder()
        sold = self.b.sale(seller, units[:1], how="lot")
        self.b.merger([seller])
        return self.reversal_tx(sold["id"])

    def duplicate_unit_id(self) -> Tx:
        unit = self.b.draw(st.sampled_from(sorted(self.b.world.holding) or self.holder()[1]))
        tx = self.new_units("REG", self.active(1)[0])
        tx["units"][0]["unit_id"] = unit
        tx["units"][0].pop("rpls_id", None)
        return tx

    def duplicate_rpls_id(self) -> Tx:
        if not self.b.world.rpls:
            self.b.register_units(entity=self.active(1)[0], count=1, rpls="RPLS-SCENE-1")
        rpls = self.b.draw(st.sampled_from(sorted(self.b.world.rpls.values())))
        tx = self.new_units("ACQ", self.active(1)[0])
        tx["units"][0]["rpls_id"] = rpls
        return tx

    def duplicate_transaction_id(self) -> Tx:
        tx = self.new_units("REG", self.active(1)[0])
        tx["id"] = self.b.draw(st.sampled_from([t["id"] for t in self.b.txs]))
        return tx

    def duplicate_in_list(self) -> Tx:
        seller, units = self.holder()
        return self.sale(seller, [units[0], units[0]])

    def buyer_is_seller(self) -> Tx:
        seller, units = self.holder()
        return self.sale(seller, units[:1], category="social_landlord", entity=seller)

    def unknown_unit(self) -> Tx:
        return self.sale(self.active(1)[0], ["U-NOPE"])

    def duplicate_entity(self) -> Tx:
        entity = self.b.draw(st.sampled_from(sorted(self.b.world.reg_date)))
        return {
            "id": self.b.new_id("ENT"),
            "type": "register_entity",
            "date": self.now,
            "entity": entity,
            "name": "Doublon",
            "kind": "hlm",
        }

    def unknown_field(self) -> Tx:
        tx = self.new_units("REG", self.active(1)[0])
        key = self.b.draw(st.sampled_from(("colour", "price", "Entity", "unit")))
        tx[key] = "x"
        return tx

    def money_format(self) -> Tx:
        price = self.b.draw(st.sampled_from((1000.5, 1000, "12.345", "1,000.00", "abc", "")))
        return self.new_units(
            "ACQ", self.active(1)[0], type="acquisition", mode="vefa", price_eur=price
        )

    def price_negative(self) -> Tx:
        return self.new_units(
            "ACQ", self.active(1)[0], type="acquisition", mode="existing", price_eur="-1.00"
        )

    def id_format(self) -> Tx:
        bad = self.b.draw(st.sampled_from(("-lead", "has space", "é-1", "x" * 81, "", "a#b")))
        return self.new_units("REG", self.active(1)[0], id=bad)

    def year_built_range(self) -> Tx:
        tx = self.new_units("REG", self.active(1)[0])
        tx["units"][0]["year_built"] = self.b.draw(st.sampled_from((self.b.clock.year + 6, 1799)))
        return tx

    # kinds and the group perimeter ---------------------------------------------

    def outsider(self, exclude: str | None = None) -> str:
        """An active entity outside the group (registered as a pension fund if none)."""
        found = [e for e in self.b.world.outsiders() if e != exclude]
        if found:
            return str(self.b.draw(st.sampled_from(found)))
        free = [e for e in ENTITY_POOL if e not in self.b.world.reg_date]
        entity = free[0] if free else f"OUT-{self.b.serial}"
        self.b.register_entity(entity, kind="pension_fund", membership=False)
        return entity

    def members(self, count: int) -> list[str]:
        """At least `count` active members of the group (registering HLM bodies)."""
        while len(self.b.world.active_members()) < count:
            free = [e for e in ENTITY_POOL if e not in self.b.world.reg_date]
            entity = free[0] if free else f"MEMBER-{self.b.serial}"
            self.b.register_entity(entity, kind="hlm", membership=False)
        return self.b.world.active_members()

    def merger_family(self) -> Tx:
        w = self.b.world
        pairs = [
            (a, i) for a in w.active() for i in w.active() if family(w.kind[a]) != family(w.kind[i])
        ]
        if not pairs:
            into = self.active(1)[0]
            other = "pension_fund" if family(w.kind[into]) != "pension_fund" else "hlm"
            free = [e for e in ENTITY_POOL if e not in w.reg_date]
            self.b.register_entity(free[0] if free else f"FAM-{self.b.serial}", kind=other)
            pairs = [
                (a, i)
                for a in w.active()
                for i in w.active()
                if family(w.kind[a]) != family(w.kind[i])
            ]
        absorbed, into = self.b.draw(st.sampled_from(pairs))
        return {
            "id": self.b.new_id("MRG"),
            "type": "merger",
            "date": self.now,
            "absorbed": [absorbed],
            "into": into,
        }

    def buyer_kind(self) -> Tx:
        seller, units = self.holder()
        category = self.b.draw(st.sampled_from(("tenant", "caretaker", "individual")))
        return self.sale(seller, units[:1], category=category, entity=self.other(seller))

    def already_member(self) -> Tx:
        entity = self.b.draw(st.sampled_from(self.members(1)))
        return {
            "id": self.b.new_id("ENTRY"),
            "type": "group_entry",
            "date": self.now,
            "entity": entity,
        }

    def not_member(self) -> Tx:
        entity = self.outsider()
        parent = None
        if self.b.draw(st.booleans()):  # the scene first: a member registered may move now
            parent = self.b.draw(st.sampled_from(self.members(1)))
        tx: Tx = {
            "id": self.b.new_id("EXIT"),
            "type": "group_exit",
            "date": self.now,
            "entity": entity,
        }
        if parent is not None:
            tx.update(type="share_transfer", parent=parent)
        return tx

    def parent_not_member(self) -> Tx:
        entity = self.outsider()
        parent = self.outsider(exclude=entity)
        return {
            "id": self.b.new_id("ENTRY"),
            "type": "group_entry",
            "date": self.now,
            "entity": entity,
            "parent": parent,
        }

    def parent_is_entity(self) -> Tx:
        entity = self.outsider()
        return {
            "id": self.b.new_id("ENTRY"),
            "type": "group_entry",
            "date": self.now,
            "entity": entity,
            "parent": entity,
        }

    def same_parent(self) -> Tx:
        w = self.b.world
        held = [e for e in w.active_members() if w.members[e] in w.active_members()]
        if not held:
            self.members(2)
            self.b.share_transfer(*self.b.draw(st.sampled_from(self.b.share_transfers())))
            held = [e for e in w.active_members() if w.members[e] in w.active_members()]
        entity = self.b.draw(st.sampled_from(held))
        return {
            "id": self.b.new_id("SHARES"),
            "type": "share_transfer",
            "date": self.now,
            "entity": entity,
            "parent": w.members[entity],
        }

    def parent_outside_group(self) -> Tx:
        return {
            "id": self.b.new_id("ENT"),
            "type": "register_entity",
            "date": self.now,
            "entity": "NEW-OUTSIDE",
            "name": "Entité hors groupe",
            "kind": "external",
            "group": False,
            "parent": self.b.draw(st.sampled_from(self.members(1))),
        }

    def empty_reason(self) -> Tx:
        return self.reversal_tx(
            self.b.txs[-1]["id"], reason=self.b.draw(st.sampled_from(("", "   ")))
        )

    # zoning vintages -------------------------------------------------------------

    def vintage_in_force(self) -> Tx:
        """The vintage in force now (recording one dated now when none is)."""
        found = self.b.world.vintage_on(self.b.clock)
        return found if found is not None else self.b.zoning_vintage(date=self.b.clock)

    def zoned_units(self, entity: str, date: str | None = None) -> Tx:
        """A valid unit line of one unit dated `date` (now), sometimes an acquisition."""
        if self.b.draw(st.booleans()):
            return self.new_units("REG", entity, date)
        return self.new_units(
            "ACQ", entity, date, type="acquisition", mode="vefa", price_eur="1.00"
        )

    def zone_mismatch(self) -> Tx:
        entity = self.active(1)[0]
        vintage = self.vintage_in_force()
        tx = self.zoned_units(entity)
        unit = tx["units"][0]
        right = class_in(vintage, unit["commune"])
        unit["zone"] = self.b.draw(st.sampled_from([z for z in ZONES if z != right]))
        return tx

    def commune_not_in_zoning(self) -> Tx:
        entity = self.active(1)[0]
        vintage = self.vintage_in_force()
        tx = self.zoned_units(entity)
        unit = tx["units"][0]
        unlisted = [c for c in COMMUNES if class_in(vintage, c) is None]
        unit["commune"] = self.b.draw(st.sampled_from([*unlisted, UNZONED_COMMUNE]))
        if self.b.draw(st.booleans()):
            unit["zone"] = self.b.draw(st.sampled_from(ZONES))
        else:
            unit.pop("zone", None)
        return tx

    def zone_required(self) -> Tx:
        """A unit without zone on a date before every vintage in force: an entity's
        earliest date when one is early enough, else after reversing every vintage."""
        entity = self.active(1)[0]
        date = self.now
        w = self.b.world
        if w.vintages:
            earliest = min(day(v["date"]) for v in w.vintages.values())
            floors = {e: self.b.floor([e]) for e in w.active()}
            early = sorted(e for e, d in floors.items() if d < earliest)
            if early:
                entity = self.b.draw(st.sampled_from(early))
                date = iso(floors[entity])
            else:
                for target in sorted(w.vintages):
                    self.b.reversal(target)
                date = self.now
        tx = self.zoned_units(entity, date)
        tx["units"][0].pop("zone", None)
        return tx

    def free_vintage_date(self) -> dt.date:
        """A date no vintage in force has (so only the rule at hand can be broken)."""
        return self.b.vintage_date()

    def zoning_date_taken(self) -> Tx:
        vintage = self.vintage_in_force()
        return self.b.vintage_tx(day(vintage["date"]))  # another file (never one in force)

    def zoning_file_recorded(self) -> Tx:
        vintage = self.vintage_in_force()
        tx = self.b.vintage_tx(self.free_vintage_date())
        tx["sha256"] = vintage["sha256"]
        return tx

    def sha256_format(self) -> Tx:
        tx = self.b.vintage_tx(self.free_vintage_date())
        bad = (tx["sha256"][:63], tx["sha256"] + "0", "F" * 64, "z" * 64, "", 12345, None)
        tx["sha256"] = self.b.draw(st.sampled_from(bad))
        return tx

    def empty_zones(self) -> Tx:
        tx = self.b.vintage_tx(self.free_vintage_date())
        tx["zones"] = {}
        return tx

    def field_type(self) -> Tx:
        """A vintage whose `zones` is not an object, or whose `source` is not a text."""
        tx = self.b.vintage_tx(self.free_vintage_date())
        key = self.b.draw(st.sampled_from(("zones", "source", "file")))
        bad = (["75056"], "75056:A", None, 3) if key == "zones" else (3, "", "  ", ["x"])
        tx[key] = self.b.draw(st.sampled_from(bad))
        return tx

    def commune_format(self) -> Tx:
        tx = self.b.vintage_tx(self.free_vintage_date())
        bad = self.b.draw(st.sampled_from(("7505", "750560", "2C001", "ABCDE", "")))
        tx["zones"][bad] = "A"
        return tx

    def value_list(self) -> Tx:
        tx = self.b.vintage_tx(self.free_vintage_date())
        commune = self.b.draw(st.sampled_from(sorted(tx["zones"])))
        tx["zones"][commune] = self.b.draw(st.sampled_from(("D", "a", "ABIS", "B 1", "")))
        return tx

    def missing_field(self) -> Tx:
        tx = self.b.vintage_tx(self.free_vintage_date())
        del tx[self.b.draw(st.sampled_from(("source", "sha256", "zones")))]
        return tx


BAD_RULES: tuple[str, ...] = tuple(
    name
    for name in vars(_Bad)
    if not name.startswith("_")
    and name
    not in {
        "now",
        "active",
        "holder",
        "other",
        "reversal_exists",
        "new_units",
        "sale",
        "bot",
        "divestment",
        "held_business",
        "reversal_tx",
        "outsider",
        "members",
        "vintage_in_force",
        "zoned_units",
        "free_vintage_date",
    }
)


@st.composite
def ledger_and_bad_tx(
    draw: Draw, rules: tuple[str, ...] = BAD_RULES, max_transactions: int = 25
) -> tuple[list[Tx], Tx, str]:
    """(valid ledger, one extra transaction breaking exactly `rule`, rule).

    `rule` is a code of `tests/reference_model.violations`; `BAD_RULES` lists them all.
    """
    rule = draw(st.sampled_from(rules))
    builder = _Builder(draw)
    builder.random_ledger(max_transactions)
    bad = getattr(_Bad(builder), rule)()
    return builder.txs, bad, rule
