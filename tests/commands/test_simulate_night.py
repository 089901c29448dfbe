"""`manage.py simulate_night`: a short night on a small election with a real
worker beside it, from the first entry to the official result; the same
seed gives the same night, and a night stopped halfway ends the same."""

from __future__ import annotations

import uuid
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError

from tabulation.demo.night import plan_for
from tabulation.demo.plan import PROBLEMS
from tabulation.models import (
    CopyComparison,
    CopyFinding,
    Decision,
    Election,
    Finding,
    ObserverCopy,
    RecordScan,
    ResultSnapshot,
    StationRound,
)
from tabulation.selectors.published import published_fingerprint_get
from tabulation.services.roles import clerk_assign, ensure_roles
from tests.factories import UserFactory
from tests.factories_records import SmallElection, recount, small_election
from tests.scans import scan_storage_fixture, stored_files  # noqa: F401 - fixture

SEED = "7"


def night_election(slug: str) -> SmallElection:
    """Two municipalities of eight stations, four lists, two clerks each,
    two members: the smallest night with every problem in it."""
    ensure_roles()
    import random

    made = small_election(
        slug=slug,
        municipalities=2,
        stations_per_municipality=8,
        lists=4,
        seats=10,
        candidates_per_list=10,
        rng=random.Random(5),
    )
    for index, municipality in enumerate(made.municipalities):
        for number in (1, 2):
            clerk = UserFactory(username=f"{slug}-clerk-{index}-{number}")
            clerk_assign(actor=None, user=clerk, election=made.election, municipality=municipality)
    for number in (1, 2):
        member = UserFactory(username=f"{slug}-member-{number}")
        member.groups.add(Group.objects.get(name="commission member"))
    return made


def simulate(slug: str, *arguments: str) -> str:
    out = StringIO()
    call_command("simulate_night", slug, "--speed", "0", "--seed", SEED, *arguments, stdout=out)
    return out.getvalue()


def official(made: SmallElection) -> ResultSnapshot:
    return ResultSnapshot.objects.get(election=made.election, kind="official")


def station_position(made: SmallElection) -> dict[str, int]:
    codes = sorted(station.code for station in made.stations)
    return {code: index for index, code in enumerate(codes)}


def decisions_by_position(made: SmallElection) -> list[tuple[int | None, str, str | None]]:
    """The decisions on stations, by the station's position (not its code,
    which names the election): warnings acknowledged are left out, since the
    worker may raise a W1 on a few stations counted early."""
    position = station_position(made)
    return sorted(
        (
            position.get(decision.station.code) if decision.station else None,
            decision.kind,
            decision.payload.get("ground"),
        )
        for decision in Decision.objects.filter(election=made.election)
        .exclude(kind="dismiss_warning")
        .select_related("station")
    )


def lists_of(snapshot: ResultSnapshot) -> dict[int, tuple[int, int]]:
    lists = snapshot.payload["lists"]
    return {item["ballot_number"]: (item["votes"], item["seats"]) for item in lists}


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_short_night_ends_in_an_official_result_equal_to_a_recount(
    celery_worker, scan_storage: Path
) -> None:
    made = night_election(f"night-{uuid.uuid4().hex[:8]}")

    output = simulate(made.election.slug, "--certify")

    election = Election.objects.get(pk=made.election.pk)
    assert election.status == "certified"
    # Every problem of the night appeared and a decision settled it.
    for code in (*PROBLEMS, "W6"):
        findings = Finding.objects.filter(round__station__election=election, code=code)
        assert findings.exists(), code
        assert not findings.filter(status="open").exists(), code
        assert not findings.filter(resolved_by__isnull=True).exists(), code
    kinds = set(Decision.objects.filter(election=election).values_list("kind", flat=True))
    assert {
        "reconcile",
        "correct",
        "dismiss_warning",
        "annul_and_order_repeat",
        "objection_decided",
    } <= kinds
    grounds = sorted(
        Decision.objects.filter(election=election, kind="annul_and_order_repeat").values_list(
            "payload__ground", flat=True
        )
    )
    assert grounds == ["R1", "R2", "R3", "U2"]
    # The four repeat votes were held and counted; every station counts once.
    repeats = StationRound.objects.filter(station__election=election, number=2)
    assert sorted(repeats.values_list("status", flat=True)) == ["accepted"] * 4
    document = official(made).payload
    expected = recount(election)
    assert document["stations"]["counted"] == 16 == expected["totals"]["counted"]
    assert document["voted"] == expected["totals"]["voted"]
    assert {item["ballot_number"]: item["votes"] for item in document["lists"]} == {
        number: expected["lists"].get(number, 0) for number in range(1, 5)
    }
    assert sum(item["seats"] for item in document["lists"]) == 10
    assert document["proceedings"]["objections"][0]["status"] == "rejected"
    # The audit chain verifies, with the official result's head in it.
    audit = StringIO()
    call_command("verify_audit", stdout=audit)
    assert audit.getvalue().startswith("Audit chain OK")
    # Progress as it went, and a summary.
    assert "annulled (R1)" in output
    assert "Official result, version" in output
    assert "repeat votes 4 (4 counted)" in output
    paper_trail_shows(made, scan_storage)


def paper_trail_shows(made: SmallElection, scan_storage: Path) -> None:
    """Scans, observers' copies (one equal, some differing) and the stuffed
    station are there, through the services, and the stuffed station is in
    the published fingerprint's corner."""
    plan = plan_for(made.election, int(SEED))
    scanned = {code for code, station in plan.stations.items() if station.scan}
    scans = RecordScan.objects.filter(round__station__election=made.election, kind="record")
    assert scanned and {scan.round.station.code for scan in scans} == scanned
    assert all(scan.entry is not None and scan.uploaded_by == scan.entry.clerk for scan in scans)
    assert len(stored_files(scan_storage)) == len(scanned)
    planned = sum(len(station.copies) for station in plan.stations.values())
    copies = ObserverCopy.objects.filter(round__station__election=made.election)
    assert planned >= 3 and copies.count() == planned
    comparisons = CopyComparison.objects.filter(copy__in=copies)
    assert comparisons.count() == planned  # every copy compared with its accepted record
    assert comparisons.filter(differences=0).exists()
    differing = sum(
        1
        for station in plan.stations.values()
        for copy in station.copies
        if copy.paper != station.truth
    )
    assert comparisons.filter(differences__gt=0).count() == differing >= 2
    (stuffed,) = plan.stuffed_stations
    assert CopyFinding.objects.filter(
        comparison__copy__round__station__code=stuffed, code__in=("O1", "O2")
    ).exists()
    assert {"W1", "W3"} <= set(
        Finding.objects.filter(round__station__code=stuffed).values_list("code", flat=True)
    )
    fingerprint = published_fingerprint_get(made.election.slug, official(made).version)
    assert fingerprint is not None
    corner = [row["code"] for row in fingerprint["flagged"] if row["corner"]]
    assert corner == [stuffed]
    assert (
        fingerprint["election"]["counts"][19][18] + fingerprint["election"]["counts"][19][19] >= 1
    )


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_night_stopped_halfway_ends_as_the_same_seed_s_night_does(celery_worker) -> None:
    whole = night_election(f"whole-{uuid.uuid4().hex[:8]}")
    halves = night_election(f"halves-{uuid.uuid4().hex[:8]}")

    simulate(whole.election.slug, "--certify")
    stopped = simulate(halves.election.slug, "--stop-after", "25")
    assert "Stopped after 25 actions" in stopped
    assert Election.objects.get(pk=halves.election.pk).status == "counting"
    simulate(halves.election.slug, "--certify")

    assert lists_of(official(halves)) == lists_of(official(whole))
    assert decisions_by_position(halves) == decisions_by_position(whole)


@pytest.mark.django_db
def test_an_unknown_election_is_one_clear_line() -> None:
    with pytest.raises(CommandError, match=r'^No election "nowhere": import it first'):
        simulate("nowhere")


@pytest.mark.django_db
def test_a_certified_election_has_no_night_to_play() -> None:
    made = night_election("done")
    Election.objects.filter(pk=made.election.pk).update(status="certified")

    with pytest.raises(CommandError, match='"done" is already certified'):
        simulate("done")


@pytest.mark.django_db
def test_an_election_without_clerks_says_which_municipalities_lack_them() -> None:
    ensure_roles()
    made = small_election(slug="bare", municipalities=1, stations_per_municipality=12)

    with pytest.raises(CommandError, match="two clerks assigned to it; missing in: bare-m1"):
        simulate(made.election.slug)
