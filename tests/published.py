"""The published snapshots that the tests of the public pages and the read API read.

The application's own: ``novi_grad()`` builds a small election with the
factories (3 municipalities, 6 stations, 4 lists, one of them a national
minority list), clerks enter the stations' records through record entry
(``services/records.py``), the commission annuls a round through its
service, and ``tabulate_and_publish`` runs tabulation
(``services/tabulation.py``) and publishing (``services/publishing.py``) as a
run of the task does. A change in tabulation or publishing that breaks a
page or an answer of the API fails a test.

Snapshot 1 (``published``): four stations counted, one awaiting its record,
one held (its record has more ballots in the box than voters who turned out:
R1). Snapshot 2 (``publish_version_2``): the fifth station counted, the held
one's round annulled on R1 with a repeat vote ordered. Snapshot 3
(``publish_version_3``): the repeat vote counted, every station counted.

Certification (``certify``): two members certify the latest result through
the certification service, which stores and publishes the official snapshot;
``reopen_and_correct`` reopens it by a decision and corrects a record, so a
provisional snapshot follows, which ``certify`` can certify again.

``small_election(version)`` below builds a document by hand: only the public
read benchmark (tests/benchmarks/bench_public.py) uses it, where only its size
matters. ``publish`` writes a document to the read side as publishing does;
the tests use it only for a document published before a key existed.
"""

import json
import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.test import TestCase

from tabulation import models
from tabulation.domain.exact import fraction_to_string, share_percent
from tabulation.domain.seats import ElectoralList, allocate_seats
from tabulation.selectors.published import published_memo_clear, published_stations_list
from tabulation.services import tabulation as tabulation_service
from tabulation.services.certification import (
    certification_confirm,
    certification_propose,
    certification_reopen,
)
from tabulation.services.decisions import record_correct, station_annul
from tabulation.services.publishing import snapshot_publish
from tabulation.services.records import record_submit
from tabulation.services.roles import clerk_assign, ensure_roles
from tests.factories import (
    CandidateFactory,
    ElectionFactory,
    ElectoralListFactory,
    MunicipalityFactory,
    PollingStationFactory,
    StationRoundFactory,
    UserFactory,
)

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


# --- The application's own snapshots ----------------------------------------------

# The head of each list by name; the rest are "Kandidat <position>, lista <n>".
NAMED = {
    (1, 1): "Ana Đorđević",
    (1, 2): "Ljubomir Njegovan",
    (2, 1): "Džejla Šćekić",
    (3, 1): "Žarko Čolić",
    (4, 1): "Ivan Petrov",
}
# List 3's third candidate withdrew: its seats go to positions 1, 2, 4, 5, ...
WITHDRAWN = {(3, 3)}
CANDIDATES_PER_LIST = 16
# The two members who certify: the first proposes, the second confirms.
CERTIFIERS = ["Milica Petrović", "Đorđe Ljubičić"]
HELD = "cukarica-002"  # its record: more ballots in the box than voters who turned out
AWAITING = "zvezdara-002"  # counted only in snapshot 2
ANNULMENT_REASON = "Ballots in the box exceed voters who turned out (Art. 116)."


@dataclass
class NoviGrad:
    election: models.Election
    stations: dict[str, models.PollingStation]
    clerks: dict[str, Any]  # by municipality code
    member: Any
    snapshots: list[tuple[dict[str, Any], list[dict[str, Any]]]] = field(default_factory=list)


def candidate_name(ballot_number: int, position: int) -> str:
    return NAMED.get((ballot_number, position), f"Kandidat {position}, lista {ballot_number}")


def novi_grad() -> NoviGrad:
    """The small election in the database, every station awaiting its record.
    Single entry, so one clerk's entry is the accepted record."""
    ensure_roles()
    election = ElectionFactory(
        slug=SLUG,
        name="Skupština Novog Grada",
        date=date(2024, 6, 2),
        seats=SEATS,
        threshold_percent=Decimal("3.00"),
        minority_bonus_percent=Decimal("35.00"),
        entry_mode=models.Election.EntryMode.SINGLE,
        status=models.Election.Status.COUNTING,
    )
    for item in LISTS:
        electoral_list = ElectoralListFactory(
            election=election, ballot_carrier="Nosilac liste", **item
        )
        number = item["ballot_number"]
        for position in range(1, CANDIDATES_PER_LIST + 1):
            CandidateFactory(
                electoral_list=electoral_list,
                position=position,
                name=candidate_name(number, position),
                withdrawn=(number, position) in WITHDRAWN,
            )
    member = UserFactory(username="member-novi-grad", is_staff=True)
    member.groups.add(Group.objects.get(name="commission member"))
    made = NoviGrad(election=election, stations={}, clerks={}, member=member)
    for municipality_fields in MUNICIPALITIES:
        own = [row for row in STATIONS if row[1] == municipality_fields["code"]]
        municipality = MunicipalityFactory(
            election=election, registered=sum(row[4] for row in own), **municipality_fields
        )
        clerk = UserFactory(username=f"clerk-{municipality.code}")
        clerk_assign(actor=None, user=clerk, election=election, municipality=municipality)
        made.clerks[municipality.code] = clerk
        for code, _municipality, number, name, registered, _votes, _invalid in own:
            station = PollingStationFactory(
                municipality=municipality,
                election=election,
                code=code,
                number=number,
                name=name,
                address=f"Ulica {number}",
                registered=registered,
            )
            StationRoundFactory(station=station, number=1)
            made.stations[code] = station
    return made


def record_of(
    code: str, *, turned_out_more: int | None = None, more_for_list_2: int = 0
) -> tuple[dict[str, Any], list[tuple[int, int]]]:
    """The record of a station (STATIONS) as its board writes it: ballots
    received as registered; ``turned_out_more`` voters turned out than put a
    ballot in the box: 2, but -5 at ``HELD`` (R1). ``more_for_list_2``: a
    recount's extra votes for list 2."""
    if turned_out_more is None:
        turned_out_more = -5 if code == HELD else 2
    row = next(row for row in STATIONS if row[0] == code)
    registered, votes, invalid = row[4], list(row[5]), row[6]
    votes[1] += more_for_list_2
    in_box = sum(votes) + invalid
    values = {
        "registered": registered,
        "ballots_received": registered,
        "ballots_unused": registered - in_box,
        "turned_out": in_box + turned_out_more,
        "ballots_in_box": in_box,
        "ballots_invalid": invalid,
        "ballots_valid": sum(votes),
        "control_sheet_ok": True,
        "board_signatures": 5,
    }
    return values, list(enumerate(votes, start=1))


def station_enter(made: NoviGrad, code: str, *, turned_out_more: int | None = None) -> None:
    """The station's clerk enters its record through record entry."""
    values, votes = record_of(code, turned_out_more=turned_out_more)
    station = made.stations[code]
    record_submit(
        actor=made.clerks[station.municipality.code],
        station=station,
        values=values,
        votes=votes,
        idempotency_key=uuid.uuid4().hex,
    )


def tabulate_and_publish(made: NoviGrad) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Tabulate and publish as a run of the tabulation task does; the
    published document and station rows."""
    outcome = tabulation_service.tabulation_compute(election_id=made.election.pk)
    assert outcome.snapshot is not None and outcome.stations is not None
    snapshot_publish(snapshot=outcome.snapshot, stations=outcome.stations)
    published_memo_clear()
    made.snapshots.append((outcome.snapshot.payload, outcome.stations))
    return made.snapshots[-1]


def publish_version_1(made: NoviGrad) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Every station entered but ``AWAITING``; ``HELD`` is held."""
    with mock.patch.object(tabulation_service, "tabulation_enqueue", return_value=True):
        for code in made.stations:
            if code != AWAITING:
                station_enter(made, code)
    return tabulate_and_publish(made)


def publish_version_2(made: NoviGrad) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """``AWAITING`` counted; the commission annuls ``HELD``'s round on R1 and
    orders the repeat vote a week from today."""
    today = date.today()
    with mock.patch.object(tabulation_service, "tabulation_enqueue", return_value=True):
        station_enter(made, AWAITING)
        station_annul(
            actor=made.member,
            station=made.stations[HELD],
            ground="R1",
            voting_date=today + timedelta(days=7),
            reason=ANNULMENT_REASON,
            today=today,
        )
    return tabulate_and_publish(made)


def publish_version_3(made: NoviGrad) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """``HELD``'s repeat vote counted: round 2's record adds up."""
    with mock.patch.object(tabulation_service, "tabulation_enqueue", return_value=True):
        station_enter(made, HELD, turned_out_more=0)
    return tabulate_and_publish(made)


def commission_member(username: str, full_name: str) -> Any:
    first_name, last_name = full_name.split(" ", 1)
    member = UserFactory(username=username, first_name=first_name, last_name=last_name)
    member.groups.add(Group.objects.get(name="commission member"))
    return member


def certify(
    made: NoviGrad, *, certifiers: list[str] | None = None
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Two members certify the latest result once the objection window has
    closed (73 hours after it), through the certification service, which
    stores and publishes the official snapshot."""
    names = certifiers or CERTIFIERS
    proposer, confirmer = (
        commission_member(f"certifier-{index}-{uuid.uuid4().hex[:6]}", name)
        for index, name in enumerate(names)
    )
    latest = made.election.snapshots.order_by("-version").first()
    assert latest is not None
    later = latest.created_at + timedelta(hours=73)
    proposal = certification_propose(actor=proposer, election=made.election, now=later)
    with TestCase.captureOnCommitCallbacks(execute=True):
        official = certification_confirm(actor=confirmer, certification=proposal, now=later)
    published_memo_clear()
    stations = published_stations_list(made.election.slug, official.version)
    assert stations is not None
    made.snapshots.append((official.payload, stations))
    return made.snapshots[-1]


RECOUNT_REASON = "The recount at the commission found 10 more votes for list 2."


def reopen_and_correct(made: NoviGrad) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A recorded decision reopens the certified results; the commission
    corrects vozdovac-001's record (10 more votes for list 2); tabulation
    publishes a provisional snapshot again."""
    certification_reopen(
        actor=made.member, election=made.election, reason="The court ordered a recount."
    )
    values, votes = record_of("vozdovac-001", more_for_list_2=10)
    with mock.patch.object(tabulation_service, "tabulation_enqueue", return_value=True):
        record_correct(
            actor=made.member,
            round=models.StationRound.objects.get(station=made.stations["vozdovac-001"]),
            values=values,
            votes=votes,
            reason=RECOUNT_REASON,
        )
    return tabulate_and_publish(made)


# --- A hand-built document (the public read benchmark's) ------------------------------


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


@pytest.fixture(name="novi_grad")
def novi_grad_fixture(db: None, publish_dir: Path) -> NoviGrad:
    """The small election in the database, nothing entered or published yet."""
    return novi_grad()


@pytest.fixture(name="published")
def published_fixture(novi_grad: NoviGrad) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Snapshot 1 of the small election, tabulated and published by the application."""
    return publish_version_1(novi_grad)
