"""A whole election night in one test, through the services people use:
entries, a reconciliation, a warning acknowledged, an annulment and its
repeat round, an objection decided, a drawing of lots, certification by two
members, and the mandates (RULES.md sections 2 to 5)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from django.contrib.auth.models import Group

from tabulation.models import Election, Finding, Objection, StationRound
from tabulation.services.certification import certification_confirm, certification_propose
from tabulation.services.decisions import (
    entries_reconcile,
    finding_acknowledge,
    lots_draw,
    objection_decide,
    objection_register,
    station_annul,
)
from tabulation.services.records import record_submit
from tabulation.services.roles import clerk_assign, ensure_roles
from tabulation.services.tabulation import election_tabulate
from tests.factories import UserFactory, record_values
from tests.factories_records import recount, small_election

pytestmark = pytest.mark.django_db

# Three seats; list 1 gets twice the votes of lists 2 and 3, which tie: the
# second seat goes to list 1 (more votes), the third to a drawing of lots.
EVEN = {1: 294, 2: 147, 3: 147}  # 588 valid, as record_values() has


def person(group: str, username: str):  # type: ignore[no-untyped-def]
    user = UserFactory(username=username)
    user.groups.add(Group.objects.get(name=group))
    return user


def test_a_whole_night_from_the_first_entry_to_the_mandates() -> None:
    ensure_roles()
    made = small_election(
        municipalities=1, stations_per_municipality=4, lists=3, seats=3, candidates_per_list=2
    )
    election = made.election
    a, b, c, d = made.stations
    clerk1, clerk2 = person("clerk", "night-clerk-1"), person("clerk", "night-clerk-2")
    for clerk in (clerk1, clerk2):
        clerk_assign(actor=None, user=clerk, election=election, municipality=made.municipalities[0])
    member1 = person("commission member", "night-member-1")
    member2 = person("commission member", "night-member-2")

    def enter(clerk, station, votes, **overrides):  # type: ignore[no-untyped-def]
        return record_submit(
            actor=clerk,
            station=station,
            values=record_values(**overrides),
            votes=list(votes.items()),
            idempotency_key=uuid.uuid4().hex,
        )

    def status(station) -> str:  # type: ignore[no-untyped-def]
        return StationRound.objects.exclude(status="annulled").get(station=station).status

    # Station A: two equal entries.
    enter(clerk1, a, EVEN)
    enter(clerk2, a, EVEN)
    assert status(a) == "accepted"
    # Station B: the entries differ; the commission keeps the first.
    first = enter(clerk1, b, EVEN)
    enter(clerk2, b, {1: 249, 2: 192, 3: 147})
    assert status(b) == "entries_differ"
    entries_reconcile(
        actor=member1, round=first.round, keep_entry=first.entry, reason="As on paper."
    )
    assert status(b) == "accepted"
    # Station C: more ballots in the box than voters (R1): annulled, repeated.
    enter(clerk1, c, EVEN, turned_out=590)
    enter(clerk2, c, EVEN, turned_out=590)
    assert status(c) == "held"
    today = date.today()
    station_annul(
        actor=member2,
        station=c,
        ground="R1",
        voting_date=today + timedelta(days=7),
        reason="Art. 116.",
        today=today,
    )
    enter(clerk1, c, EVEN)  # round 2, typed by both clerks again
    enter(clerk2, c, EVEN)
    assert status(c) == "accepted"
    assert StationRound.objects.get(station=c, number=1).status == "annulled"
    # Station D: 20 invalid of 600 (W2), acknowledged.
    d_votes = {1: 290, 2: 145, 3: 145}
    enter(clerk1, d, d_votes, ballots_invalid=20, ballots_valid=580)
    enter(clerk2, d, d_votes, ballots_invalid=20, ballots_valid=580)
    finding_acknowledge(
        actor=member1,
        finding=Finding.objects.get(round__station=d, code="W2", status="open"),
        reason="The board's notes explain them.",
    )

    # Four stations counted once each: round 1 of C is not among them.
    snapshot = election_tabulate(election_id=election.pk)
    assert snapshot is not None
    votes = {item["ballot_number"]: item["votes"] for item in snapshot.payload["lists"]}
    assert votes == {1: 294 * 3 + 290, 2: 147 * 3 + 145, 3: 147 * 3 + 145}
    assert snapshot.payload["lots_required"] == [2, 3]

    # An objection filed within 72 hours, decided.
    filed_at = snapshot.created_at + timedelta(hours=2)
    objection = objection_register(
        actor=member1,
        election=election,
        filed_at=filed_at,
        filed_by="List 3, by its representative",
        subject=Objection.Subject.STATION,
        station=a,
        grounds="The count at station A was hurried.",
        now=filed_at,
    )
    objection_decide(
        actor=member2, objection=objection, upheld=False, reason="The record is in order."
    )

    later = snapshot.created_at + timedelta(hours=73)
    # Tabulation found identical records (W5: the test stations share their
    # figures); the commission looks and acknowledges each.
    context = Finding.objects.filter(status="open", category__in=["C", "W"])
    assert set(context.values_list("code", flat=True)) == {"W5"}
    for finding in context:
        finding_acknowledge(actor=member2, finding=finding, reason="Checked against the paper.")
    lots_draw(actor=member1, election=election, lots_drawn=[3, 2], reason="Drawn in public.")
    latest = election_tabulate(election_id=election.pk)
    assert latest is not None and latest.payload["lots_required"] == []
    proposal = certification_propose(actor=member1, election=election, now=later)
    official = certification_confirm(actor=member2, certification=proposal, now=later)

    assert Election.objects.get(pk=election.pk).status == "certified"
    document = official.payload
    assert document["status"] == "official"
    assert document["certification"]["certifies_version"] == latest.version
    expected = recount(election)
    assert {item["ballot_number"]: item["votes"] for item in document["lists"]} == expected["lists"]
    assert document["voted"] == expected["totals"]["voted"]  # type: ignore[index]
    seats = {item["ballot_number"]: item["seats"] for item in document["lists"]}
    assert seats == {1: 2, 2: 0, 3: 1}  # list 3 drawn first
    mandates = {item["ballot_number"]: item["mandates"] for item in document["lists"]}
    for number, won in seats.items():
        # Mandates go to candidates in list order (rule 8).
        assert [m["position"] for m in mandates[number]] == list(range(1, won + 1))
    kinds = [item["kind"] for item in document["proceedings"]["decisions"]]
    assert kinds[:4] == [
        "reconcile",
        "annul_and_order_repeat",
        "dismiss_warning",
        "objection_decided",
    ]
    assert kinds[-1] == "drawing_of_lots"
    assert document["proceedings"]["objections"][0]["status"] == "rejected"
