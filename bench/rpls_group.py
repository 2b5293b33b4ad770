"""A group's RPLS files, made up but shaped like real ones, for the import at scale.

    python -m bench.rpls_group --units 1000000 --out DIR [--seed 7] [--single]

Writes into DIR one `register_entity` file (`entities.jsonl`) and one RPLS-shaped CSV per
entity (`<ENTITY>.csv`, docs/rpls.md "Import"), the units shared among the entities by
weight (`--single`: all of them in the first entity's file); and `manifest.json`
(entity, file, lines, units). Communes and their zones come
from the zoning file shipped with the ledger (ledger/reference/zonage-abc-2024-07.csv),
weighted towards the tense zones where the group's stock is. Every line is valid; a few
lines per thousand are exits of the previous year (skipped by the import), and the
pension fund's bare owners hold Foncière Logement's usufruct lines (right 4).
"""

from __future__ import annotations

import argparse
import csv
import json
import random
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ZONING = ROOT / "ledger" / "reference" / "zonage-abc-2024-07.csv"
AS_OF = "2020-01-01"

HEADER = [
    "rpls_id", "si_id", "right", "commune", "postal_code", "street_name", "construction_type",
    "rooms", "surface_m2", "year_built", "first_let_year", "entry_year", "entry_mode",
    "previous_owner", "previous_owner_siret", "financing", "financing_label", "apl_agreement",
    "exit_reason", "occupancy", "cus_segment", "zone", "segment", "bare_owner", "usufruct_end",
    "rent_eur", "dpe_energy",
]  # fmt: skip


@dataclass(frozen=True)
class Filer:
    entity: str
    name: str
    kind: str
    region: str
    weight: float
    usufruct: bool = False  # its units are held in usufruct, bare owner AGIRC-ARRCO


FILERS = [
    Filer("ESH-IDF", "ESH Île-de-France", "hlm", "11", 0.30),
    Filer("ESH-ARA", "ESH Auvergne-Rhône-Alpes", "hlm", "84", 0.18),
    Filer("ESH-PACA", "ESH Provence-Alpes-Côte d'Azur", "hlm", "93", 0.14),
    Filer("ESH-HDF", "ESH Hauts-de-France", "hlm", "32", 0.12),
    Filer("ESH-OCC", "ESH Occitanie", "hlm", "76", 0.10),
    Filer("LLI-IDF", "LLI Île-de-France", "lli", "11", 0.08),
    Filer("AFL", "Foncière Logement", "fonciere", "11", 0.08, usufruct=True),
]
BARE_OWNER = ("AGIRC-ARRCO", "AGIRC-ARRCO", "pension_fund")
FINANCING = [("11", 0.15), ("12", 0.20), ("13", 0.30), ("14", 0.12), ("16", 0.08), ("51", 0.15)]
ZONE_WEIGHT = {"Abis": 6.0, "A": 5.0, "B1": 3.0, "B2": 1.0, "C": 0.3}
STREETS = ["de la République", "Jean Jaurès", "Victor Hugo", "des Lilas", "du Moulin"]


def communes_by_region(rng: random.Random) -> dict[str, list[tuple[str, str]]]:
    """(commune, zone) of each region, each commune repeated by its zone's weight."""
    out: dict[str, list[tuple[str, str]]] = {}
    with ZONING.open(encoding="utf-8-sig", newline="") as f:
        rows = csv.reader(f, delimiter=";")
        next(rows)
        for code, region, _dep, _name, zone, *_ in rows:
            zone = "Abis" if zone.replace(" ", "").lower() == "abis" else zone
            if zone in ZONE_WEIGHT and rng.random() < ZONE_WEIGHT[zone] / 6.0:
                out.setdefault(region, []).append((code, zone))
    return out


def entities_file(path: Path) -> None:
    lines = [
        {"id": "ENT-AL-GROUPE", "type": "register_entity", "date": "2017-01-01",
         "entity": "AL-GROUPE", "name": "Action Logement Groupe", "kind": "group"},
        {"id": f"ENT-{BARE_OWNER[0]}", "type": "register_entity", "date": "2017-01-01",
         "entity": BARE_OWNER[0], "name": BARE_OWNER[1], "kind": BARE_OWNER[2]},
    ]  # fmt: skip
    for f in FILERS:
        lines.append(
            {"id": f"ENT-{f.entity}", "type": "register_entity", "date": "2017-01-01",
             "entity": f.entity, "name": f.name, "kind": f.kind, "region": f.region}
        )  # fmt: skip
    path.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), "utf-8")


def rpls_file(path: Path, filer: Filer, units: int, first: int, rng: random.Random,
              communes: list[tuple[str, str]]) -> int:  # fmt: skip
    """Write `units` registered lines (and a few exits); returns the number of lines."""
    codes, weights = zip(*FINANCING, strict=True)
    lines = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        w = csv.writer(out, delimiter=";", lineterminator="\r\n")
        w.writerow(HEADER)
        n = 0
        while n < units:
            commune, zone = rng.choice(communes)
            built = rng.randint(1950, 2019)
            financing = rng.choices(codes, weights)[0]
            exit_line = rng.random() < 0.004
            serial = first + lines
            usufruct = filer.usufruct and not exit_line
            entry = max(built, rng.randint(1960, 2019))
            mode = rng.choice("1234")
            bought_last_year = mode in "23" and entry == 2019
            w.writerow([
                f"R{serial:09d}" if rng.random() < 0.9 else "",
                f"{filer.entity}-{serial:07d}",
                "4" if usufruct else "1",
                commune,
                "",
                f"{rng.randint(1, 120)} rue {rng.choice(STREETS)}",
                rng.choice("CCCCI"),
                rng.randint(1, 6),
                f"{rng.uniform(18, 120):.2f}",
                built,
                max(built, rng.randint(1960, 2019)) if rng.random() < 0.8 else "",
                entry,
                mode,
                "SCI Les Tilleuls" if bought_last_year else "",
                "44306184100047" if bought_last_year and rng.random() < 0.5 else "",
                financing,
                "Prêt spécial CFF" if financing == "99" else "",
                rng.choice("12"),
                rng.choice("123") if exit_line else "9",
                "9" if exit_line else rng.choice("1112"),
                f"S{rng.randint(1, 4)}",
                zone,
                "",
                BARE_OWNER[0] if usufruct else "",
                f"{rng.randint(2031, 2046)}-12-31" if usufruct else "",
                f"{rng.uniform(250, 900):.2f}",
                rng.choice("ABCDEFG"),
            ])  # fmt: skip
            lines += 1
            if not exit_line:
                n += 1
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--single", action="store_true", help="every unit in one file (the first filer's)"
    )
    args = parser.parse_args(argv)
    filers = FILERS[:1] if args.single else FILERS
    rng = random.Random(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    entities_file(args.out / "entities.jsonl")
    regions = communes_by_region(rng)
    manifest = []
    first = assigned = 0
    total_weight = sum(f.weight for f in filers)
    for i, filer in enumerate(filers):
        share = (
            args.units - assigned
            if i == len(filers) - 1
            else round(args.units * filer.weight / total_weight)
        )
        path = args.out / f"{filer.entity}.csv"
        lines = rpls_file(path, filer, share, first, rng, regions[filer.region])
        manifest.append({"entity": filer.entity, "file": path.name, "lines": lines, "units": share})
        first += lines
        assigned += share
    (args.out / "manifest.json").write_text(json.dumps({"as_of": AS_OF, "files": manifest}))
    print(json.dumps(manifest))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
