"""Generate the demo election's import files from the published figures.

    python -m tabulation.demo.generate [--out DIR]

Reads `belgrade-2023/figures/` (a copy of the figures published by the City
Electoral Commission: lists and municipalities) and writes the import CSV set
(docs/import-format.md) plus `results.csv`, each station's true record: what
`manage.py simulate_night` has the clerks type (and the commission restore
where the night's problems change it). Deterministic: the same seed gives the same bytes, so the
output is committed and reviewed like code. Plain Python, no Django.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

SEED = 20231217
DEMO_DIR = Path(__file__).resolve().parent / "belgrade-2023"
FIGURES_DIR = DEMO_DIR / "figures"

STATIONS_TOTAL = 1180
CANDIDATES_PER_LIST = 110
BOARD_MEMBERS = 5

ELECTION = {
    "slug": "belgrade-2023",
    "name": "Izbori za odbornike Skupštine grada Beograda 2023",
    "date": "2023-12-17",
    "seats": "110",
    "threshold_percent": "3.00",
    "minority_bonus_percent": "35.00",
    "entry_mode": "double",
    # None: the demo plays the night now, and a deadline in 2023 would flag
    # every station still awaiting as "record not received" (U2) at once.
    "entry_deadline": "",
}

# One colour per list, by ballot number; the lists likely to win seats get
# colours far apart, so the hemicycle reads at a glance.
LIST_COLOURS = (
    "#1f4e9c",
    "#d62728",
    "#2ca02c",
    "#8c564b",
    "#ff7f0e",
    "#b8860b",
    "#17becf",
    "#556b2f",
    "#0b3d91",
    "#9467bd",
    "#1e90ff",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
)

# Lists whose share is published per municipality (municipalities.csv
# columns); the rest share `others_percent` by their citywide_percent.
PUBLISHED_PER_MUNICIPALITY = (1, 3, 5, 13, 2)

LATIN_ASCII = str.maketrans(
    {"č": "c", "ć": "c", "đ": "dj", "š": "s", "ž": "z", "Č": "c", "Ć": "c", "Đ": "dj"}
    | {"Š": "s", "Ž": "z"}
)

SCHOOL_NAMES = (
    "Vuk Karadžić",
    "Desanka Maksimović",
    "Branko Radičević",
    "Svetozar Marković",
    "Petar Petrović Njegoš",
    "Jovan Jovanović Zmaj",
    "Đura Jakšić",
    "Nikola Tesla",
    "Mihajlo Pupin",
    "Laza Kostić",
    "Ivo Andrić",
    "Milan Rakić",
    "Stevan Sremac",
    "Branislav Nušić",
    "Dositej Obradović",
    "Sveti Sava",
    "Kralj Petar Prvi",
    "Vojvoda Mišić",
    "Isidora Sekulić",
    "Milutin Milanković",
    "Ruđer Bošković",
    "Josif Pančić",
    "Jovan Cvijić",
    "Stefan Nemanja",
    "Filip Višnjić",
    "Aleksa Šantić",
    "Drinka Pavlović",
    "Vladislav Ribnikar",
    "Milena Pavlović Barili",
    "Skadarlija",
)
VENUES = (
    "Mesna zajednica „{place}“",
    "Dom kulture „{place}“",
    "Predškolska ustanova „{place}“",
    "Sportski centar „{place}“",
    "Dom zdravlja „{place}“",
    "Gimnazija „{place}“",
    "Srednja tehnička škola „{place}“",
    "Dom omladine „{place}“",
)
PLACES = (
    "Banjica",
    "Medaković",
    "Kumodraž",
    "Braće Jerković",
    "Dušanovac",
    "Lion",
    "Mirijevo",
    "Konjarnik",
    "Cvetkova pijaca",
    "Bele vode",
    "Kanarevo brdo",
    "Stari grad",
    "Dorćol",
    "Senjak",
    "Dedinje",
    "Blok 45",
    "Bežanijska kosa",
    "Ledine",
    "Karaburma",
    "Višnjica",
    "Krnjača",
    "Borča",
    "Resnik",
    "Miljakovac",
    "Sunčani breg",
    "Banovo brdo",
    "Žarkovo",
    "Sremčica",
    "Umka",
    "Vinča",
    "Leštane",
    "Ripanj",
    "Ralja",
    "Rušanj",
    "Jakovo",
    "Bečmen",
    "Centar",
    "Zeleni venac",
    "Neimar",
    "Kalenić",
)
STREETS = (
    "Bulevar kralja Aleksandra",
    "Kneza Miloša",
    "Cara Dušana",
    "Njegoševa",
    "Vojvode Stepe",
    "Kralja Milana",
    "Ustanička",
    "Jurija Gagarina",
    "Omladinskih brigada",
    "Partizanske avijacije",
    "Požeška",
    "Šumadijska",
    "Mileve Marić",
    "Zmaja od Noćaja",
    "Kneginje Zorke",
    "Takovska",
    "Ruzveltova",
    "Vojislava Ilića",
    "Bulevar oslobođenja",
    "Cvijićeva",
    "Gospodara Vučića",
    "Despota Stefana",
    "Svetog Save",
    "Karađorđeva",
    "Nemanjina",
    "Hajduk Veljkova",
    "Branka Radičevića",
    "Vuka Karadžića",
    "Majke Jevrosime",
    "Trg oslobođenja",
)
MALE_NAMES = (
    "Aleksandar",
    "Nikola",
    "Marko",
    "Stefan",
    "Miloš",
    "Dragan",
    "Zoran",
    "Milan",
    "Nenad",
    "Vladimir",
    "Dejan",
    "Goran",
    "Ivan",
    "Jovan",
    "Luka",
    "Petar",
    "Slobodan",
    "Bojan",
    "Đorđe",
    "Vuk",
    "Uroš",
    "Dušan",
    "Branko",
    "Predrag",
)
FEMALE_NAMES = (
    "Jelena",
    "Milica",
    "Ana",
    "Marija",
    "Ivana",
    "Jovana",
    "Dragana",
    "Snežana",
    "Vesna",
    "Tamara",
    "Katarina",
    "Teodora",
    "Sanja",
    "Nataša",
    "Biljana",
    "Gordana",
    "Mirjana",
    "Tijana",
    "Kristina",
    "Danijela",
    "Nevena",
    "Sofija",
    "Ljiljana",
    "Zorica",
)
SURNAMES = (
    "Jovanović",
    "Petrović",
    "Nikolić",
    "Marković",
    "Đorđević",
    "Stojanović",
    "Ilić",
    "Stanković",
    "Pavlović",
    "Milošević",
    "Popović",
    "Todorović",
    "Savić",
    "Kostić",
    "Lazić",
    "Mitrović",
    "Živković",
    "Ristić",
    "Obradović",
    "Vasić",
    "Radovanović",
    "Đukić",
    "Kovačević",
    "Simić",
    "Tomić",
    "Stevanović",
    "Milenković",
    "Marić",
    "Jeremić",
    "Vuković",
    "Božić",
    "Lukić",
    "Cvetković",
    "Mladenović",
    "Perić",
    "Gajić",
    "Radosavljević",
    "Antić",
    "Zdravković",
    "Filipović",
)


@dataclass(frozen=True)
class ListFigures:
    ballot_number: int
    name: str
    ballot_carrier: str
    minority: bool
    citywide_percent: Decimal


@dataclass(frozen=True)
class MunicipalityFigures:
    code: str
    name: str
    registered: int
    turnout_percent: Decimal
    # ballot number -> percent of valid votes
    shares: dict[int, Decimal]


@dataclass(frozen=True)
class Station:
    code: str
    municipality: MunicipalityFigures
    number: int
    name: str
    address: str
    registered: int


def municipality_code(name: str) -> str:
    return name.translate(LATIN_ASCII).lower().replace(" ", "-")


def read_figures(
    figures_dir: Path,
) -> tuple[list[ListFigures], list[MunicipalityFigures]]:
    with (figures_dir / "lists.csv").open(encoding="utf-8", newline="") as file:
        lists = [
            ListFigures(
                ballot_number=int(row["ballot_number"]),
                name=row["name"],
                ballot_carrier=row["ballot_carrier"],
                minority=row["minority"] == "yes",
                citywide_percent=Decimal(row["citywide_percent"]),
            )
            for row in csv.DictReader(file)
        ]
    others = [lst for lst in lists if lst.ballot_number not in PUBLISHED_PER_MUNICIPALITY]
    others_total = sum(lst.citywide_percent for lst in others)
    with (figures_dir / "municipalities.csv").open(encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file))
    # The municipalities' `others_percent` average about 10 %, while the other
    # lists' citywide figures add up to 8.19 %: scale "others" so that the
    # city-wide demo result comes out near the published one (list 4 stays
    # under the threshold, as it did).
    voters = [Decimal(row["registered"]) * Decimal(row["turnout_percent"]) for row in rows]
    others_average = sum(
        (Decimal(row["others_percent"]) * weight for row, weight in zip(rows, voters, strict=True)),
        Decimal(0),
    ) / sum(voters, Decimal(0))
    others_scale = others_total / others_average
    municipalities = []
    for row in rows:
        shares = {
            number: Decimal(row[f"list_{number}_percent"]) for number in PUBLISHED_PER_MUNICIPALITY
        }
        # "others" is split among the remaining lists by their citywide share.
        for lst in others:
            shares[lst.ballot_number] = (
                Decimal(row["others_percent"]) * others_scale * lst.citywide_percent / others_total
            )
        municipalities.append(
            MunicipalityFigures(
                code=municipality_code(row["municipality"]),
                name=row["municipality"],
                registered=int(row["registered"]),
                turnout_percent=Decimal(row["turnout_percent"]),
                shares=shares,
            )
        )
    return lists, municipalities


def apportion(total: int, weights: Sequence[float], minimum: int = 0) -> list[int]:
    """Split `total` into whole parts in proportion to `weights` (largest
    remainder; ties go to the earlier index), each part at least `minimum`."""
    if not weights:
        return []
    rest = total - minimum * len(weights)
    if rest < 0:
        raise ValueError("total too small for the minimum")
    weight_sum = sum(weights)
    exact = [rest * weight / weight_sum for weight in weights]
    parts = [math.floor(value) for value in exact]
    short = rest - sum(parts)
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(exact[i] - parts[i]), i))
    for index in by_remainder[:short]:
        parts[index] += 1
    return [part + minimum for part in parts]


def person_name(rng: random.Random, female: bool) -> str:
    first = rng.choice(FEMALE_NAMES if female else MALE_NAMES)
    return f"{first} {rng.choice(SURNAMES)}"


def make_stations(rng: random.Random, municipalities: list[MunicipalityFigures]) -> list[Station]:
    counts = apportion(
        STATIONS_TOTAL, [m.registered for m in municipalities], minimum=1
    )  # roughly in proportion to registered voters, at least one each
    stations = []
    for municipality, count in zip(municipalities, counts, strict=True):
        weights = [rng.uniform(0.55, 1.45) for _ in range(count)]
        registered = apportion(municipality.registered, weights)
        for number, station_registered in enumerate(registered, start=1):
            if rng.random() < 0.45:
                name = f"OŠ „{rng.choice(SCHOOL_NAMES)}“"
            else:
                name = rng.choice(VENUES).format(place=rng.choice(PLACES))
            address = f"{rng.choice(STREETS)} {rng.randint(1, 180)}, {municipality.name}"
            stations.append(
                Station(
                    code=f"{municipality.code}-{number:03d}",
                    municipality=municipality,
                    number=number,
                    name=name,
                    address=address,
                    registered=station_registered,
                )
            )
    return stations


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def station_result(
    rng: random.Random,
    station: Station,
    lists: list[ListFigures],
    turnout_percent: float,
    leanings: Sequence[float],
) -> dict[str, object]:
    """A consistent record at ``turnout_percent`` with the municipality's
    shares times ``leanings`` (one factor a list): the paper as the board
    should have written it."""
    municipality = station.municipality
    ballots_in_box = round(station.registered * turnout_percent / 100)
    turned_out = min(ballots_in_box + rng.choice((0, 0, 0, 1, 1, 2)), station.registered)
    ballots_received = math.ceil(station.registered / 10) * 10 + rng.choice((0, 10, 20))
    ballots_invalid = round(ballots_in_box * rng.uniform(0.015, 0.025))
    ballots_valid = ballots_in_box - ballots_invalid
    weights = [
        float(municipality.shares[lst.ballot_number]) * leaning
        for lst, leaning in zip(lists, leanings, strict=True)
    ]
    votes = apportion(ballots_valid, weights)
    return {
        "station": station.code,
        "registered": station.registered,
        "ballots_received": ballots_received,
        "ballots_unused": ballots_received - ballots_in_box,
        "turned_out": turned_out,
        "ballots_in_box": ballots_in_box,
        "ballots_invalid": ballots_invalid,
        "ballots_valid": ballots_valid,
        "control_sheet_ok": "yes",
        "board_signatures": BOARD_MEMBERS,
        **{f"list_{lst.ballot_number}": count for lst, count in zip(lists, votes, strict=True)},
        "demo_note": "",
    }


def _centred(values: list[float], weights: list[float], centre: float) -> list[float]:
    """``values`` shifted so that their weighted mean is ``centre``."""
    mean = sum(v * w for v, w in zip(values, weights, strict=True)) / sum(weights)
    return [value + centre - mean for value in values]


def municipality_results(
    rng: random.Random, stations: list[Station], lists: list[ListFigures]
) -> list[dict[str, object]]:
    """Each station around its municipality: turnout with σ 5 points, each
    list's share perturbed by ~12 %; both centred on the municipality, so
    that the demo's municipality table comes out close to the published one
    however few its stations."""
    results: list[dict[str, object]] = []
    for _code, grouped in itertools.groupby(stations, key=lambda item: item.municipality.code):
        group = list(grouped)
        municipality = group[0].municipality
        registered = [float(station.registered) for station in group]
        published = float(municipality.turnout_percent)
        turnouts = _centred([rng.gauss(published, 5.0) for _ in group], registered, published)
        voters = [r * t for r, t in zip(registered, turnouts, strict=True)]
        columns = [
            _centred([max(rng.gauss(1.0, 0.12), 0.05) for _ in group], voters, 1.0) for _ in lists
        ]
        for index, station in enumerate(group):
            turnout = min(max(turnouts[index], 25.0), 90.0)
            leanings = [max(column[index], 0.05) for column in columns]
            results.append(station_result(rng, station, lists, turnout, leanings))
    return results


# A real night has a station or two whose turnout stands out; the commission
# looks at it (W1) and lets it stand. Above 95 % it is flagged whatever the
# municipality's spread (RULES.md section 2).
OUTLIER_TURNOUT_PERCENT = 97.0


def add_turnout_outlier(
    rng: random.Random,
    results: list[dict[str, object]],
    stations: list[Station],
    lists: list[ListFigures],
) -> None:
    """One station's true figures with a turnout above 95 % (W1)."""
    index = rng.randrange(len(results))
    outlier = station_result(
        rng, stations[index], lists, OUTLIER_TURNOUT_PERCENT, [1.0] * len(lists)
    )
    outlier["demo_note"] = "W1: turnout above 95 % (true figures; the commission acknowledges)"
    results[index] = outlier


def generate(out_dir: Path = DEMO_DIR, figures_dir: Path = FIGURES_DIR, seed: int = SEED) -> None:
    rng = random.Random(seed)
    lists, municipalities = read_figures(figures_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    write_csv(out_dir / "election.csv", list(ELECTION), [list(ELECTION.values())])
    write_csv(
        out_dir / "municipalities.csv",
        ["code", "name", "registered"],
        [[m.code, m.name, m.registered] for m in municipalities],
    )
    stations = make_stations(rng, municipalities)
    write_csv(
        out_dir / "stations.csv",
        ["code", "municipality", "number", "name", "address", "registered"],
        [
            [s.code, s.municipality.code, s.number, s.name, s.address, s.registered]
            for s in stations
        ],
    )
    write_csv(
        out_dir / "lists.csv",
        ["ballot_number", "name", "ballot_carrier", "minority", "colour"],
        [
            [
                lst.ballot_number,
                lst.name,
                lst.ballot_carrier,
                "yes" if lst.minority else "no",
                LIST_COLOURS[lst.ballot_number - 1],
            ]
            for lst in lists
        ],
    )
    candidates = []
    for lst in lists:
        # The ballot carrier heads the list; then men and women alternate
        # (the law asks for at least 40 % of the less represented sex).
        first_female = rng.random() < 0.5
        for position in range(1, CANDIDATES_PER_LIST + 1):
            female = (position % 2 == 0) != first_female
            name = lst.ballot_carrier if position == 1 else person_name(rng, female)
            candidates.append([lst.ballot_number, position, name, "no"])
    write_csv(
        out_dir / "candidates.csv", ["ballot_number", "position", "name", "withdrawn"], candidates
    )
    accounts = []
    for municipality in municipalities:
        for index in (1, 2):
            accounts.append(
                [
                    f"clerk-{municipality.code}-{index}",
                    person_name(rng, rng.random() < 0.6),
                    "clerk",
                    "",
                    municipality.code,
                ]
            )
    accounts += [
        ["member1", person_name(rng, True), "commission member", "", ""],
        ["member2", person_name(rng, False), "commission member", "", ""],
        ["admin", person_name(rng, False), "administrator", "", ""],
    ]
    write_csv(
        out_dir / "clerks.csv",
        ["username", "full_name", "role", "station", "municipality"],
        accounts,
    )
    results = municipality_results(rng, stations, lists)
    add_turnout_outlier(rng, results, stations, lists)
    write_csv(out_dir / "results.csv", list(results[0]), [list(r.values()) for r in results])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEMO_DIR, help="where to write the CSV set")
    parser.add_argument("--seed", type=int, default=SEED)
    arguments = parser.parse_args()
    generate(arguments.out, seed=arguments.seed)


if __name__ == "__main__":
    main()
