"""The RPLS extract (répertoire des logements locatifs des bailleurs sociaux, CCH art.
R411-3): one row per unit an entity holds in full ownership or usufruct on 1 January of
year N-1 or of year N, in the shape of the arrêté du 5 janvier 2010 (docs/rpls.md).

A unit's row comes from the entity's own holding periods of that unit (`hl_periods`),
the unit as recorded (`hl_units`) and the journal entries that opened or closed those
periods (`hl_transactions`), all known at ONE pinned position. A usufruct's term is an
exit for the usufructuary and an entry for the bare owner, as an extinction
(docs/decisions/0008): its usufruct period ends with no `closed_by`, and the bare
owner's full ownership starts after the day of the transaction that set the term
(`_opened_at_term`). The entity's units are
read in pages sorted by `si_id` (code points on both databases), so a national extract
streams and never loads the ledger.

Must not: replay events, load aggregates, or read the clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import orjson

from ledger.domain.values import AcquisitionMode, BuyerCategory, split_cents
from ledger.storage.bootstrap import stored_version
from ledger.storage.database import Connection
from projections.reports import periods
from projections.reports import rpls_codes as codes
from projections.reports.money import money

PAGE = 1000
_STOCK = "('full_ownership', 'usufruct')"
_STOCK_RIGHTS = ("full_ownership", "usufruct")
#: The schema version that added the units' shares to `hl_movements`.
SHARES_SCHEMA = 6


#: What the extract reads of the unit as recorded (`hl_units`).
#: The extract's columns, in the order of docs/rpls.md.
COLUMNS = codes.COLUMNS
_UNIT_COLUMNS: tuple[str, ...] = ("unit_id", "rpls_id", "commune", "rooms", "surface_m2")
_UNIT_COLUMNS += ("year_built", "financing", "zone", "segment", "rpls", "entered_by")


@dataclass(frozen=True, slots=True)
class Period:
    """One of the entity's holding periods of a unit (full ownership or usufruct)."""

    held_as: str
    from_date: str
    to_date: str | None
    opened_by: str
    closed_by: str | None
    usufruct_end: str | None

    def held_on(self, day: str) -> bool:
        return self.from_date <= day and (self.to_date is None or self.to_date > day)

    @property
    def ended_at_term(self) -> bool:
        """A usufruct that its term ended (no transaction closed it)."""
        return self.to_date is not None and self.closed_by is None


@dataclass(frozen=True, slots=True)
class Txn:
    """A journal entry as the extract needs it (content only for sales and acquisitions)."""

    position: int
    type: str
    date: str
    content: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class Entry:
    """Fields 28-31 and 54: how the entity last gained the right it holds."""

    year: int | None = None
    mode: str | None = None
    previous_owner: str | None = None
    previous_owner_siret: str | None = None
    cus_segment: str | None = None


@dataclass(frozen=True, slots=True)
class ExitFields:
    """Fields 37, 58, 60 and 61: why the unit left the entity's stock, and for a sale, the
    sale type and the unit's shares of the price and of the net proceeds."""

    reason: codes.Exit
    sale_type: str | None = None
    price: Decimal | None = None
    net_proceeds: Decimal | None = None


#: A unit's shares of a sale's price and net proceeds (None: not recorded).
Shares = tuple[Decimal, Decimal | None]


@dataclass(frozen=True, slots=True)
class RplsValues:
    """The values of the RPLS register recorded with a unit (the `rpls` object of its
    `register_units`, ledger/booking/unitextras.py), and the transaction that recorded
    them (`entered_by`): only a right that comes from it has its entry values."""

    construction_type: str | None
    first_let_year: int | None
    financing_code: str | None
    financing_label: str | None
    apl_agreement: bool | None
    entry: Entry
    entered_by: str


def rpls_values(unit: dict[str, Any]) -> RplsValues | None:
    """The unit's recorded RPLS values (`hl_units.rpls`, compact JSON), None without."""
    if not unit.get("rpls"):
        return None
    v: dict[str, Any] = orjson.loads(unit["rpls"])
    return RplsValues(
        construction_type=v.get("construction_type"),
        first_let_year=v.get("first_let_year"),
        financing_code=v.get("financing_code"),
        financing_label=v.get("financing_label"),
        apl_agreement=v.get("apl_agreement"),
        entry=Entry(
            v.get("entry_year"),
            v.get("entry_mode"),
            v.get("previous_owner"),
            v.get("previous_owner_siret"),
            v.get("cus_segment"),
        ),
        entered_by=unit["entered_by"],
    )


def entity_known(conn: Connection, entity: str, position: int) -> bool:
    """Whether the entity was registered at `position` (absorbed or not)."""
    k_sql, k_params = periods.known("e", position)
    return bool(
        conn.scalar(
            f"SELECT COUNT(*) FROM hl_entities e WHERE e.entity = ? AND {k_sql}",
            [entity, *k_params],
        )
    )


class Extract:
    """The rows of one entity's extract for year N at one journal position."""

    def __init__(self, conn: Connection, entity: str, year: int, position: int) -> None:
        self.conn, self.entity, self.year, self.position = conn, entity, year, position
        self.d1, self.d2 = f"{year - 1:04d}-01-01", f"{year:04d}-01-01"
        self._txns: dict[str, Txn] = {}
        self._names: dict[str, str] = {}
        #: (unit key, sale id) -> the unit's shares recorded on the seller's movement.
        self._shares: dict[tuple[str, str], Shares] = {}
        #: sale id -> {unit id: shares}, split from the journal (a sale of version 1).
        self._splits: dict[str, dict[str, Shares]] = {}
        #: Whether `hl_movements` has the shares' columns: not in a ledger still at an
        #: older schema read by a role that may not upgrade it (an auditor), which holds
        #: no sale of version 2 either (only a version that writes schema 6 records one).
        self._shares_stored = (stored_version(conn) or 0) >= SHARES_SCHEMA

    def during(self, day: str) -> bool:
        """Dated during N-1: after D1, on or before D2."""
        return self.d1 < day <= self.d2

    def rows(self) -> Iterator[codes.RplsRow]:
        keys = self._candidates()
        for start in range(0, len(keys), PAGE):
            page = keys[start : start + PAGE]
            units = self._units(page)
            held = self._periods(page)
            usufructs = [k for k in page if any(p.held_as == "usufruct" for p in held.get(k, []))]
            bare = self._bare_owners(usufructs)
            self._load_txns(
                {t for ps in held.values() for p in ps for t in (p.opened_by, p.closed_by) if t}
            )
            self._load_shares(held)
            for key in page:
                row = self._row(key, units[key], held.get(key, []), bare.get(key, []))
                if row is not None:
                    yield row

    # --- reads -----------------------------------------------------------------------

    def _candidates(self) -> list[str]:
        """Keys of the units the entity held (full ownership or usufruct) at some time from
        D1 to D2, sorted by unit id in code-point order."""
        k_sql, k_params = periods.known("p", self.position)
        u_sql, u_params = periods.known("u", self.position)
        c = ' COLLATE "C"' if self.conn.is_pg else ""
        rows = self.conn.query(
            "SELECT u.unit_key FROM hl_units u WHERE "
            f"{u_sql} AND u.unit_key IN (SELECT p.unit_key FROM hl_periods p "
            f"WHERE p.holder = ? AND p.held_as IN {_STOCK} AND {k_sql} "
            "AND p.from_date <= ? AND (p.to_date IS NULL OR p.to_date > ?)) "
            f"ORDER BY u.unit_id{c}",
            [*u_params, self.entity, *k_params, self.d2, self.d1],
        )
        return [r[0] for r in rows]

    def _units(self, keys: list[str]) -> dict[str, dict[str, Any]]:
        u_sql, u_params = periods.known("u", self.position)
        rows = self.conn.query(
            f"SELECT u.unit_key, {', '.join(f'u.{c}' for c in _UNIT_COLUMNS)} FROM hl_units u "
            f"WHERE {u_sql} AND u.unit_key IN {self.conn.in_list(keys)}",
            [*u_params, *keys],
        )
        return {r[0]: dict(zip(_UNIT_COLUMNS, r[1:], strict=True)) for r in rows}

    def _periods(self, keys: list[str]) -> dict[str, list[Period]]:
        """Every stock period of the entity on these units (earlier ones too: the entry).
        Read by unit only, and sorted out here: a condition on the holder or the dates lets
        the planners of both databases walk the holder's or the dates' index, which at a
        million units of one holder is a million rows a page, where the unit's index reads
        a few."""
        k_sql, k_params = periods.known("p", self.position)
        rows = self.conn.query(
            "SELECT p.unit_key, p.holder, p.held_as, p.from_date, p.to_date, p.opened_by, "
            f"p.closed_by, p.usufruct_end FROM hl_periods p WHERE {k_sql} "
            f"AND p.unit_key IN {self.conn.in_list(keys)}",
            [*k_params, *keys],
        )
        result: dict[str, list[Period]] = {}
        for key, holder, held_as, from_date, *values in rows:
            if holder == self.entity and held_as in _STOCK_RIGHTS and from_date <= self.d2:
                result.setdefault(key, []).append(Period(held_as, from_date, *values))
        return result

    def _bare_owners(self, keys: list[str]) -> dict[str, list[tuple[str, str, str | None]]]:
        """(bare owner, from, to) of the bare-ownership periods of these units."""
        if not keys:
            return {}
        k_sql, k_params = periods.known("b", self.position)
        rows = self.conn.query(
            "SELECT b.unit_key, b.holder, b.from_date, b.to_date FROM hl_periods b "
            f"WHERE b.held_as = 'bare_ownership' AND {k_sql} "
            f"AND b.unit_key IN {self.conn.in_list(keys)}",
            [*k_params, *keys],
        )
        result: dict[str, list[tuple[str, str, str | None]]] = {}
        for key, holder, start, end in rows:
            result.setdefault(key, []).append((holder, start, end))
        return result

    def _load_txns(self, ids: set[str]) -> None:
        missing = sorted(ids - self._txns.keys())
        for start in range(0, len(missing), 500):
            chunk = missing[start : start + 500]
            rows = self.conn.query(
                "SELECT t.id, t.position, t.type, t.date, CASE WHEN t.type IN "
                "('sale', 'acquisition') THEN t.content END FROM hl_transactions t "
                f"WHERE t.id IN {self.conn.in_list(chunk)}",
                chunk,
            )
            for tid, pos, kind, day, content in rows:
                self._txns[tid] = Txn(
                    int(pos), kind, day, orjson.loads(content) if content else None
                )

    def _load_shares(self, held: dict[str, list[Period]]) -> None:
        """The shares recorded on the entity's `sold` / `transferred` movements (schema 6,
        `Unit.Sold` version 2) of the sales that ended its periods of units it no longer
        holds on D2."""
        self._shares.clear()
        if not self._shares_stored:
            return
        gone = [k for k, ps in held.items() if not any(p.held_on(self.d2) for p in ps)]
        sales = sorted(
            {
                p.closed_by
                for k in gone
                for p in held[k]
                if p.closed_by and self._txns[p.closed_by].type == "sale"
            }
        )
        if not sales:
            return
        rows = self.conn.query(
            "SELECT m.unit_key, m.txn, m.price_eur, m.net_proceeds_eur FROM hl_movements m "
            f"WHERE m.txn IN {self.conn.in_list(sales)} AND m.entity = ? "
            f"AND m.unit_key IN {self.conn.in_list(gone)} AND m.price_eur IS NOT NULL",
            [*sales, self.entity, *gone],
        )
        for key, txn, price, net in rows:
            self._shares[(key, txn)] = (Decimal(price), None if net is None else Decimal(net))

    def _split(self, txn: str, content: dict[str, Any]) -> dict[str, Shares]:
        """Each unit's shares of a sale recorded before `Unit.Sold` kept them (version 1):
        the lot's amounts split by the same rule as the booking's (`split_cents`)."""
        if txn not in self._splits:
            units: list[str] = content["units"]
            prices = split_cents(Decimal(content["price_eur"]), len(units))
            net = content.get("net_proceeds_eur")
            nets = split_cents(Decimal(net), len(units)) if net is not None else None
            self._splits[txn] = {
                unit: (prices[i], None if nets is None else nets[i]) for i, unit in enumerate(units)
            }
        return self._splits[txn]

    def _name(self, entity: str) -> str:
        if entity not in self._names:
            k_sql, k_params = periods.known("e", self.position)
            self._names[entity] = self.conn.scalar(
                f"SELECT e.name FROM hl_entities e WHERE e.entity = ? AND {k_sql}",
                [entity, *k_params],
            )
        return self._names[entity]

    def _opened_at_term(self, p: Period) -> bool:
        """The bare owner's full ownership that a usufruct's term opened: the only period
        a reversal opens, and the only one that starts after its opening transaction's
        day (projections/fold/units.py; `projections.register.OPENED_AT_TERM`)."""
        txn = self._txns[p.opened_by]
        return p.held_as == "full_ownership" and (txn.type == "reversal" or txn.date < p.from_date)

    def _former_usufructuary(self, key: str, term: str) -> str:
        """Who held the unit's usufruct that ended at term, the day before `term`."""
        k_sql, k_params = periods.known("p", self.position)
        holder = self.conn.scalar(
            "SELECT MIN(p.holder) FROM hl_periods p WHERE p.unit_key = ? "
            "AND p.held_as = 'usufruct' AND p.to_date = ? AND p.closed_by IS NULL "
            f"AND {k_sql}",
            [key, term, *k_params],
        )
        if holder is None:
            raise periods.InconsistentStatement(f"no usufruct of unit {key} ended on {term}")
        return str(holder)

    def _former_holder(self, key: str, txn: str, rights: str) -> str:
        """Who held the unit's stock right closed by `txn`, other than the entity."""
        k_sql, k_params = periods.known("p", self.position)
        holder = self.conn.scalar(
            "SELECT MIN(p.holder) FROM hl_periods p WHERE p.unit_key = ? AND p.closed_by = ? "
            f"AND p.held_as IN {rights} AND p.holder <> ? AND {k_sql}",
            [key, txn, self.entity, *k_params],
        )
        if holder is None:
            raise periods.InconsistentStatement(f"{txn}: no former holder of unit {key}")
        return str(holder)

    # --- one row ---------------------------------------------------------------------

    def _row(
        self,
        key: str,
        unit: dict[str, Any],
        held: list[Period],
        bare: list[tuple[str, str, str | None]],
    ) -> codes.RplsRow | None:
        on_d2 = [p for p in held if p.held_on(self.d2)]
        if not on_d2 and not any(p.held_on(self.d1) for p in held):
            return None  # entered and left within N-1
        last = on_d2[0] if on_d2 else max(held, key=self._closing_order)
        values = rpls_values(unit)
        gone = (
            ExitFields(codes.Exit.STILL_HELD) if on_d2 else self._exit(key, unit["unit_id"], last)
        )
        exit_reason = gone.reason
        entry = self._entry(key, self._chain_start(last, held), values)
        dismembered = last.held_as == "usufruct"
        return codes.RplsRow(
            rpls_id=unit["rpls_id"],
            si_id=unit["unit_id"],
            right=codes.RIGHTS[last.held_as],
            commune=unit["commune"],
            construction_type=values.construction_type if values else None,
            rooms=unit["rooms"],
            surface_m2=unit["surface_m2"],
            year_built=unit["year_built"],
            first_let_year=values.first_let_year if values else None,
            entry_year=entry.year,
            entry_mode=entry.mode,
            previous_owner=entry.previous_owner,
            previous_owner_siret=entry.previous_owner_siret,
            financing=(values.financing_code if values and values.financing_code else None)
            or codes.financing_code(unit["financing"]),
            financing_label=values.financing_label if values else None,
            apl_agreement=_agreement(values.apl_agreement if values else None),
            exit_reason=exit_reason.value,
            occupancy=None if exit_reason == codes.Exit.STILL_HELD else codes.LEFT_OCCUPANCY,
            cus_segment=entry.cus_segment,
            sale_type=gone.sale_type,
            sale_price_eur=None if gone.price is None else money(gone.price),
            net_proceeds_eur=None if gone.net_proceeds is None else money(gone.net_proceeds),
            transfer_n1=self._transfer(held).value,
            zone=unit["zone"],
            segment=unit["segment"],
            bare_owner=self._bare_owner(bare, on_d2 != [], last) if dismembered else None,
            usufruct_end=last.usufruct_end if dismembered else None,
        )

    def _closing_order(self, p: Period) -> tuple[str, str, int]:
        closed = self._txns[p.closed_by].position if p.closed_by else 0
        return (p.to_date or "9999-12-31", p.from_date, closed)

    def _chain_start(self, last: Period, held: list[Period]) -> Period:
        """The period in which the entity gained the right: walk back through periods that
        the same transaction closed and reopened on the same day (a bare-ownership
        transfer keeping the usufruct, a usufruct consolidated by a merger)."""
        current = last
        while not self._opened_at_term(current):
            before = [
                p
                for p in held
                if p.closed_by == current.opened_by and p.to_date == current.from_date
            ]
            if not before:
                return current
            current = before[0]
        return current

    def _exit(self, key: str, unit_id: str, last: Period) -> ExitFields:
        """Field 37 (and 58, 60, 61 for a sale) from the transaction that closed `last`. A
        sale's shares are those its movement recorded, or for a sale recorded before they
        were (NULL), the journal's lot amounts split the same way: the same answer."""
        if last.ended_at_term:  # the usufruct's term: as an extinction
            return ExitFields(codes.Exit.OTHER_REASON)
        closed_by = last.closed_by or ""
        txn = self._txns[closed_by]
        if txn.type == "sale" and txn.content is not None:
            category = BuyerCategory(txn.content["buyer"]["category"])
            shares = self._shares.get((key, closed_by))
            if shares is None:
                shares = self._split(closed_by, txn.content)[unit_id]
            price, net = shares
            return ExitFields(codes.SALE_EXIT[category], codes.SALE_TYPE[category], price, net)
        if txn.type in ("merger", "usufruct_extinguished"):
            return ExitFields(codes.Exit.OTHER_REASON)
        raise periods.InconsistentStatement(
            f"{last.closed_by}: a {txn.type} cannot end {self.entity}'s right on {unit_id}"
        )

    def _entry(self, key: str, first: Period, values: RplsValues | None) -> Entry:
        """Fields 28-31 and 54 from the transaction that opened `first` (or from the
        usufruct's term that did: as an extinction, in the year after the term)."""
        if self._opened_at_term(first):
            previous = None
            if self.during(first.from_date):
                previous = self._name(self._former_usufructuary(key, first.from_date))
            return Entry(int(first.from_date[:4]), codes.MOVED_IN, previous)
        txn = self._txns[first.opened_by]
        year = int(txn.date[:4])
        if txn.type == "register_units":
            if values is None or values.entered_by != first.opened_by:
                return Entry()
            entry = values.entry
            if entry.mode not in codes.BOUGHT or entry.year != self.year - 1:
                return Entry(entry.year, entry.mode, cus_segment=entry.cus_segment)
            return entry
        siret = None
        if txn.type == "acquisition" and txn.content is not None:
            mode = codes.ACQUISITION_ENTRY[AcquisitionMode(txn.content["mode"])]
            previous, siret = txn.content.get("seller"), txn.content.get("seller_siret")
        elif txn.type == "sale" and txn.content is not None:
            mode, previous = codes.MOVED_IN, None
            if self.during(txn.date):
                previous = self._name(txn.content["entity"])
        elif txn.type in ("merger", "usufruct_extinguished"):
            mode, previous = codes.MOVED_IN, None
            if self.during(txn.date):
                rights = _STOCK if txn.type == "merger" else "('usufruct')"
                previous = self._name(self._former_holder(key, first.opened_by, rights))
        else:
            raise periods.InconsistentStatement(
                f"{first.opened_by}: a {txn.type} cannot give {self.entity} a right on {key}"
            )
        if mode not in codes.BOUGHT or not self.during(txn.date):
            previous = None
        return Entry(year, mode, previous, siret if previous is not None else None)

    def _transfer(self, held: list[Period]) -> codes.Transfer:
        """`transfer_n1`: the latest change of the entity's right during N-1, by date then
        journal order (a `register_units` is not a transfer)."""
        opened: dict[str, list[str]] = {}
        closed: dict[str, list[str]] = {}
        changes: list[tuple[str, int, codes.Transfer]] = []
        for p in held:
            position = self._txns[p.opened_by].position
            if self._opened_at_term(p):  # the term made it full owner: as an extinction
                if self.during(p.from_date):
                    changes.append((p.from_date, position, codes.Transfer.GAINED))
            elif self.during(p.from_date):
                opened.setdefault(p.opened_by, []).append(p.held_as)
            if p.ended_at_term and p.to_date is not None and self.during(p.to_date):
                changes.append((p.to_date, position, codes.Transfer.LOST))
            elif p.to_date is not None and p.closed_by is not None and self.during(p.to_date):
                closed.setdefault(p.closed_by, []).append(p.held_as)
        for tid in opened.keys() | closed.keys():
            txn = self._txns[tid]
            if txn.type == "usufruct_extension":  # the same right, a later term
                continue
            if tid in opened and tid in closed:
                kind = (
                    codes.Transfer.BARE_OWNERSHIP_TRANSFERRED
                    if opened[tid] == ["usufruct"]
                    else codes.Transfer.USUFRUCT_CONSOLIDATED
                )
            elif tid in opened:
                if txn.type == "register_units":
                    continue
                kind = codes.Transfer.GAINED
            else:
                kind = codes.Transfer.LOST
            changes.append((txn.date, txn.position, kind))
        return max(changes)[2] if changes else codes.Transfer.NONE

    def _bare_owner(
        self, bare: list[tuple[str, str, str | None]], on_d2: bool, last: Period
    ) -> str | None:
        """The bare owner on D2, or just before the usufruct ended."""
        if on_d2:
            day = self.d2
            found = [b for b in bare if b[1] <= day and (b[2] is None or b[2] > day)]
        else:
            day = last.to_date or self.d2
            found = [b for b in bare if b[1] <= day and (b[2] is None or b[2] >= day)]
        return max(found, key=lambda b: b[1])[0] if found else None


def _agreement(value: bool | None) -> str | None:
    return None if value is None else ("1" if value else "2")


def header(entity: str, year: int, position: int) -> dict[str, Any]:
    return {"entity": entity, "year": year, "position": position}


def rows(conn: Connection, entity: str, year: int, position: int) -> Iterator[dict[str, Any]]:
    """The extract's rows as the JSON answer writes them, sorted by `si_id`."""
    for row in Extract(conn, entity, year, position).rows():
        yield row.as_dict()
