"""A realistic published snapshot for the tests of the public pages and the read API.

``small_election(version)`` builds the document of docs/results-format.md and
its station rows for a small election (3 municipalities, 6 stations, 4 lists,
one of them a national minority list), with seats from the real domain
allocation. ``publish(document, stations)`` writes them to the read side
exactly as publishing does: the cache keys and the files in PUBLISH_DIR.

Version 1: four stations counted, one awaiting its record, one held.
Version 2: five counted, the held station annulled with a repeat vote ordered.
"""

import json
import os
import shutil
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache

from tabulation.domain.exact import fraction_to_string, share_percent
from tabulation.domain.seats import ElectoralList, allocate_seats
from tabulation.selectors.published import published_memo_clear

SLUG = "novi-grad-2024"
SEATS = 25

LISTS: list[dict[str, Any]] = [
    {"ballot_number": 1, "name": "Srbija ne sme da stane", "minority": False, "colour": "#1f4e9a"},
    {"ballot_number": 2, "name": "Kreni-Promeni", "minority": False, "colour": "#2e8b57"},
    {"ballot_number": 3, "name": "Biramo Beograd", "minority": False, "colour": "#c8102e"},
    {"ballot_number": 4, "name": "Ruska stranka", "minority": True, "colour": "#7a4fa0"},
]
MUNICIPALITIES: list[dict[str, Any]] = [
    {"code": "vozdovac", "name": "Voždovac"},
    {"code": "cukarica", "name": "Čukarica"},
    {"code": "zvezdara", "name": "Zvezdara"},
]
# code, municipality, number, name, registered, votes by ballot number, invalid
STATIONS = [
    ("vozdovac-001", "vozdovac", 1, "OŠ „Vuk Karadžić“", 1200, (390, 160, 110, 18), 14),
    ("vozdovac-002", "vozdovac", 2, "Dom kulture Šumice", 900, (260, 170, 95, 15), 11),
    ("cukarica-001", "cukarica", 1, "OŠ „Žarko Zrenjanin“", 1500, (520, 230, 140, 25), 19),
    ("cukarica-002", "cukarica", 2, "Mesna zajednica Banovo brdo", 1100, (300, 250, 160, 8), 9),
    ("zvezdara-001", "zvezdara", 1, "OŠ „Đura Jakšić“", 1300, (410, 300, 120, 28), 16),
    ("zvezdara-002", "zvezdara", 2, "Gimnazija Zvezdara", 1000, (330, 150, 170, 25), 12),
]
RECORD_FIELDS = [
    "registered",
    "ballots_received",
    "ballots_unused",
    "turned_out",
    "ballots_in_box",
    "ballots_invalid",
    "ballots_valid",
    "control_sheet_ok",
    "board_signatures",
]


def _status(code: str, version: int) -> str:
    if code == "zvezdara-002":
        return "counted" if version >= 2 else "awaiting"
    if code == "cukarica-002":
        return "held" if version == 1 else "annulled"
    return "counted"


def station_rows(version: int, extra_votes: int = 0) -> list[dict[str, Any]]:
    """The station rows of ``version``; ``extra_votes`` are added to list 2 at
    the first station (to publish a changed snapshot in a test)."""
    rows = []
    for code, municipality, number, name, registered, votes, invalid in STATIONS:
        status = _status(code, version)
        row: dict[str, Any] = {
            "code": code,
            "municipality": municipality,
            "number": number,
            "name": name,
            "address": f"Ulica {number}",
            "status": status,
            "round": 2 if status == "annulled" else 1,
            "votes": {},
            "findings": [],
            "decisions": [],
        }
        row.update(dict.fromkeys(RECORD_FIELDS))
        if status == "counted":
            by_list = list(votes)
            if code == "vozdovac-001":
                by_list[1] += extra_votes
            valid = sum(by_list)
            in_box = valid + invalid
            row.update(
                registered=registered,
                ballots_received=registered,
                ballots_unused=registered - in_box,
                turned_out=in_box + 2,
                ballots_in_box=in_box,
                ballots_invalid=invalid,
                ballots_valid=valid,
                control_sheet_ok=True,
                board_signatures=5,
                votes={str(index + 1): count for index, count in enumerate(by_list)},
            )
        if code == "vozdovac-002":
            row["findings"] = [
                {
                    "code": "C2",
                    "status": "resolved",
                    "message": "Voters who turned out missing, the rest consistent",
                    "params": {},
                }
            ]
            row["decisions"] = [
                {
                    "kind": "correct",
                    "reason": "Turned out taken from the excerpt of the register.",
                    "decided_at": "2024-06-02T22:10:00+02:00",
                }
            ]
        if code == "cukarica-002":
            row["findings"] = [
                {
                    "code": "R1",
                    "status": "open" if version == 1 else "resolved",
                    "message": "More ballots in the box than voters who turned out",
                    "params": {},
                }
            ]
            if status == "annulled":
                row["decisions"] = [
                    {
                        "kind": "annul_and_order_repeat",
                        "reason": "Ballots in the box exceed voters who turned out (Art. 116).",
                        "decided_at": "2024-06-03T10:00:00+02:00",
                    }
                ]
        rows.append(row)
    return rows


def small_election(
    version: int = 1, *, status: str = "provisional", extra_votes: int = 0
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The document and station rows of snapshot ``version`` of the small election."""
    rows = station_rows(version, extra_votes)
    counted = [row for row in rows if row["status"] == "counted"]
    municipalities = []
    for municipality in MUNICIPALITIES:
        own = [row for row in rows if row["municipality"] == municipality["code"]]
        done = [row for row in own if row["status"] == "counted"]
        register = {code: reg for code, _m, _n, _name, reg, _v, _i in STATIONS}
        votes = {
            str(item["ballot_number"]): sum(
                row["votes"][str(item["ballot_number"])] for row in done
            )
            for item in LISTS
        }
        ranked = sorted(votes.items(), key=lambda pair: -pair[1])
        registered_counted = sum(row["registered"] for row in done)
        turned_out = sum(row["turned_out"] for row in done)
        municipalities.append(
            {
                **municipality,
                "stations": {"counted": len(done), "total": len(own)},
                "registered": sum(register[row["code"]] for row in own),
                "registered_counted": registered_counted,
                "turned_out": turned_out,
                "voted": sum(row["ballots_in_box"] for row in done),
                "invalid": sum(row["ballots_invalid"] for row in done),
                "valid": sum(row["ballots_valid"] for row in done),
                "turnout_percent": str(share_percent(turned_out, registered_counted)),
                "votes": votes,
                "leader": {
                    "ballot_number": int(ranked[0][0]),
                    "lead_votes": ranked[0][1] - ranked[1][1],
                },
            }
        )
    voted = sum(row["ballots_in_box"] for row in counted)
    totals = {
        item["ballot_number"]: sum(row["votes"][str(item["ballot_number"])] for row in counted)
        for item in LISTS
    }
    allocation = allocate_seats(
        seats=SEATS,
        lists=[
            ElectoralList(list_id=str(number), votes=votes, minority=LISTS[number - 1]["minority"])
            for number, votes in totals.items()
        ],
        voted=voted,
        threshold_percent=3,
        minority_bonus_percent=35,
    )
    results = {result.list_id: result for result in allocation.lists}
    registered_counted = sum(row["registered"] for row in counted)
    turned_out = sum(row["turned_out"] for row in counted)
    document = {
        "format": 1,
        "election": {
            "slug": SLUG,
            "name": "Skupština Novog Grada",
            "date": "2024-06-02",
            "seats": SEATS,
            "threshold_percent": "3",
            "minority_bonus_percent": "35",
        },
        "status": status,
        "version": version,
        "published_at": f"2024-06-02T{19 + version:02d}:04:05.123456+00:00",
        "inputs_hash": f"{version * 1000 + extra_votes:064x}",
        "audit_head": f"{version + 1000:064x}",
        "audit_count": 100 + version,
        "stations": {
            "counted": len(counted),
            "total": len(rows),
            "held": sum(row["status"] == "held" for row in rows),
            "annulled": sum(row["status"] == "annulled" for row in rows),
            "awaiting": sum(row["status"] == "awaiting" for row in rows),
        },
        "registered": {
            "counted": registered_counted,
            "total": sum(station[4] for station in STATIONS),
        },
        "turned_out": turned_out,
        "voted": voted,
        "invalid": sum(row["ballots_invalid"] for row in counted),
        "valid": sum(row["ballots_valid"] for row in counted),
        "turnout_percent": str(share_percent(turned_out, registered_counted)),
        "threshold_votes": fraction_to_string(allocation.threshold_votes),
        "threshold_votes_min": allocation.minimum_votes,
        "settled": status == "official",
        "lots_required": [],
        "lists": [
            {
                **item,
                "ballot_carrier": "Nosilac liste",
                "votes": totals[item["ballot_number"]],
                "percent": str(share_percent(totals[item["ballot_number"]], voted)),
                "seats": results[str(item["ballot_number"])].seats,
                "passed_threshold": results[str(item["ballot_number"])].passed_threshold,
                "takes_part": results[str(item["ballot_number"])].participation.takes_part,
                "reason": str(results[str(item["ballot_number"])].participation),
                "bonus_applied": results[str(item["ballot_number"])].bonus_applied,
                "settled": status == "official" or item["ballot_number"] != 3,
                "mandates": [],
            }
            for item in LISTS
        ],
        "seat_explanation": {
            "last_seat": None,
            "first_missed": None,
            "margin": fraction_to_string(allocation.margin or Fraction(0)),
        },
        "municipalities": municipalities,
        "pending_repeat_votes": (
            [{"station": "cukarica-002", "round": 2, "ordered_at": "2024-06-03T10:00:00+02:00"}]
            if version >= 2
            else []
        ),
    }
    return document, rows


def _write(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    os.replace(temporary, path)


def publish(
    document: dict[str, Any], stations: list[dict[str, Any]], *, cache_too: bool = True
) -> None:
    """Write a snapshot to the read side, as publishing does (docs/results-format.md)."""
    slug = document["election"]["slug"]
    version = document["version"]
    folder = Path(settings.PUBLISH_DIR) / slug
    _write(folder / "snapshots" / str(version) / "results.json", document)
    _write(folder / "snapshots" / str(version) / "stations.json", stations)
    _write(folder / "results.json", document)
    _write(folder / "stations.json", stations)
    elections_path = Path(settings.PUBLISH_DIR) / "elections.json"
    elections = json.loads(elections_path.read_text()) if elections_path.exists() else []
    entry = {key: document["election"][key] for key in ("slug", "name", "date", "seats")} | {
        "status": document["status"]
    }
    elections = [item for item in elections if item["slug"] != slug] + [entry]
    _write(elections_path, elections)
    published_memo_clear()  # this process reads the new snapshot at once
    if cache_too:
        versions = [
            item for item in cache.get(f"results:{slug}:versions", []) if item["version"] != version
        ]
        versions.append({key: document[key] for key in ("version", "status", "published_at")})
        cache.set_many(
            {
                f"results:{slug}:v{version}": document,
                f"results:{slug}:stations:v{version}": stations,
                f"results:{slug}:versions": sorted(versions, key=lambda item: item["version"]),
                f"results:{slug}:latest": document,
            },
            timeout=None,
        )


def unpublish_all() -> None:
    """Forget every published snapshot (the cache and PUBLISH_DIR)."""
    cache.clear()
    published_memo_clear()
    shutil.rmtree(settings.PUBLISH_DIR, ignore_errors=True)


@pytest.fixture(name="publish_dir")
def publish_dir_fixture(settings: Any, tmp_path: Path) -> Iterator[Path]:
    """An empty read side: a private PUBLISH_DIR and an empty cache."""
    settings.PUBLISH_DIR = tmp_path / "published"
    cache.clear()
    published_memo_clear()
    yield settings.PUBLISH_DIR
    cache.clear()
    published_memo_clear()


@pytest.fixture(name="published")
def published_fixture(publish_dir: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Snapshot 1 of the small election, published."""
    document, stations = small_election(1)
    publish(document, stations)
    return document, stations
