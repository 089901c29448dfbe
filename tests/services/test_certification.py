"""Official results: two-member certification, the lock after it, and a
reopening that makes a new official version (RULES.md section 5)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import Group

from tabulation.models import (
    AuditEvent,
    Certification,
    Election,
    Finding,
    Objection,
    ResultSnapshot,
    StationRound,
)
from tabulation.services.certification import (
    CertificationRefused,
    certification_confirm,
    certification_propose,
    certification_reopen,
    member_name,
)
from tabulation.services.decisions import (
    DecisionRefused,
    finding_acknowledge,
    objection_register,
    record_correct,
)
from tabulation.services.records import NotPermitted, RoundClosed, record_submit
from tabulation.services.tabulation import election_tabulate
from tests.annulment_setup import Annulment, counted_election
from tests.factories import UserFactory, record_values
from tests.factories_records import recount
from tests.published import publish_dir_fixture  # noqa: F401 (a fixture)
from tests.views.entry_setup import VOTES, submit

pytestmark = pytest.mark.django_db


def second_member(made: Annulment):  # type: ignore[no-untyped-def]
    member = UserFactory(
        username=f"member2-{made.slug}", first_name="Milica", last_name="Jovanović"
    )
    member.groups.add(Group.objects.get(name="commission member"))
    return member


def ready(made: Annulment) -> tuple[ResultSnapshot, object]:
    """Counted, tabulated, and 73 hours later: the objection window closed."""
    snapshot = election_tabulate(election_id=made.setup.election.pk)
    assert snapshot is not None
    return snapshot, snapshot.created_at + timedelta(hours=73)


def certified(made: Annulment):  # type: ignore[no-untyped-def]
    snapshot, later = ready(made)
    proposal = certification_propose(
        actor=made.setup.member, election=made.setup.election, now=later
    )
    official = certification_confirm(actor=second_member(made), certification=proposal, now=later)
    return snapshot, official, later


# --- Refusals: each blocking reason ---------------------------------------------------


def codes(error: pytest.ExceptionInfo[CertificationRefused]) -> str:
    return str(error.value.params["reasons"])


def test_certification_is_refused_before_any_result() -> None:
    made = counted_election()
    with pytest.raises(CertificationRefused) as refused:
        certification_propose(actor=made.setup.member, election=made.setup.election)
    assert codes(refused) == "no_result"


def test_certification_is_refused_inside_the_objection_window() -> None:
    made = counted_election()
    snapshot, _later = ready(made)
    with pytest.raises(CertificationRefused) as refused:
        certification_propose(
            actor=made.setup.member,
            election=made.setup.election,
            now=snapshot.created_at + timedelta(hours=71),
        )
    assert codes(refused) == "objection_window"


def test_certification_is_refused_while_a_station_is_not_counted_or_held() -> None:
    made = counted_election()
    StationRound.objects.filter(pk=made.round1.pk).update(status=StationRound.Status.HELD)
    Finding.objects.create(round=made.round1, code="R1", category="R")
    _snapshot, later = ready(made)
    with pytest.raises(CertificationRefused) as refused:
        certification_propose(actor=made.setup.member, election=made.setup.election, now=later)
    assert codes(refused) == "not_counted; held"


def test_certification_is_refused_while_a_warning_or_an_objection_is_open() -> None:
    made = counted_election()
    Finding.objects.create(round=made.round1, code="W2", category="W")
    snapshot, later = ready(made)
    objection_register(
        actor=made.setup.member,
        election=made.setup.election,
        filed_at=snapshot.created_at + timedelta(hours=1),
        filed_by="An observer",
        subject=Objection.Subject.RESULT,
        grounds="Irregular.",
        now=snapshot.created_at + timedelta(hours=1),
    )
    with pytest.raises(CertificationRefused) as refused:
        certification_propose(actor=made.setup.member, election=made.setup.election, now=later)
    assert codes(refused) == "warnings; objections_open"


def test_certification_is_refused_while_the_result_lags_behind_the_records() -> None:
    made = counted_election()
    _snapshot, later = ready(made)
    # A warning acknowledged after the snapshot changes the inputs.
    w2 = Finding.objects.create(round=made.round1, code="W2", category="W")
    finding_acknowledge(actor=made.setup.member, finding=w2, reason="Explained.")
    with pytest.raises(CertificationRefused) as refused:
        certification_propose(actor=made.setup.member, election=made.setup.election, now=later)
    assert codes(refused) == "result_behind"


def test_a_clerk_may_not_propose() -> None:
    made = counted_election()
    _snapshot, later = ready(made)
    with pytest.raises(NotPermitted):
        certification_propose(actor=made.setup.clerk1, election=made.setup.election, now=later)


# --- Two different members ---------------------------------------------------------------


def test_two_members_certify_and_the_official_snapshot_is_the_proposed_figures(
    publish_dir: Path, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    made = counted_election()
    snapshot, later = ready(made)
    proposal = certification_propose(
        actor=made.setup.member, election=made.setup.election, now=later
    )
    with django_capture_on_commit_callbacks(execute=True):
        official = certification_confirm(
            actor=second_member(made), certification=proposal, now=later
        )

    election = Election.objects.get(pk=made.setup.election.pk)
    assert election.status == Election.Status.CERTIFIED
    assert (official.kind, official.version) == ("official", snapshot.version + 1)
    document = official.payload
    assert document["status"] == "official"
    assert document["certified_by"] == [member_name(made.setup.member), "Milica Jovanović"]
    assert document["certification"]["certifies_version"] == snapshot.version
    assert document["certification"]["official_version"] == 1
    for key in ("lists", "voted", "valid", "invalid", "turned_out", "municipalities"):
        assert document[key] == snapshot.payload[key], key
    # The figures equal an independent recount of the counted rounds.
    expected = recount(election)
    assert {str(item["ballot_number"]): item["votes"] for item in document["lists"]} == {
        str(number): votes
        for number, votes in expected["lists"].items()  # type: ignore[union-attr]
    }
    assert document["voted"] == expected["totals"]["voted"]  # type: ignore[index]
    event = AuditEvent.objects.get(action="results.certify")
    assert document["audit_head"] == event.hash
    assert document["audit_count"] == event.sequence
    proposal.refresh_from_db()
    assert (proposal.status, proposal.official) == ("confirmed", official)
    published = (publish_dir / made.slug / "results.json").read_text()
    assert '"status":"official"' in published.replace(" ", "")


def test_the_member_who_proposed_may_not_confirm() -> None:
    made = counted_election()
    _snapshot, later = ready(made)
    proposal = certification_propose(
        actor=made.setup.member, election=made.setup.election, now=later
    )
    with pytest.raises(CertificationRefused, match="second member"):
        certification_confirm(actor=made.setup.member, certification=proposal, now=later)
    assert not ResultSnapshot.objects.filter(kind="official").exists()


def test_a_proposal_is_confirmed_once() -> None:
    made = counted_election()
    _snapshot, later = ready(made)
    proposal = certification_propose(
        actor=made.setup.member, election=made.setup.election, now=later
    )
    other = second_member(made)
    certification_confirm(actor=other, certification=proposal, now=later)
    with pytest.raises(CertificationRefused, match="no longer open"):
        certification_confirm(actor=other, certification=proposal, now=later)
    assert ResultSnapshot.objects.filter(kind="official").count() == 1


def test_a_proposal_made_stale_by_a_later_change_cannot_be_confirmed() -> None:
    made = counted_election()
    _snapshot, later = ready(made)
    proposal = certification_propose(
        actor=made.setup.member, election=made.setup.election, now=later
    )
    other = second_member(made)
    record_correct(
        actor=other,
        round=made.round1,
        values=record_values(control_sheet_ok="yes"),
        votes=list({1: 299, 2: 201, 3: 88}.items()),
        reason="Recounted after an objection by phone.",
    )
    with pytest.raises(CertificationRefused, match="changed after this proposal"):
        certification_confirm(actor=other, certification=proposal, now=later)
    assert Election.objects.get(pk=made.setup.election.pk).status != "certified"


def test_a_newer_proposal_withdraws_the_open_one() -> None:
    made = counted_election()
    _snapshot, later = ready(made)
    first = certification_propose(actor=made.setup.member, election=made.setup.election, now=later)
    other = second_member(made)
    second = certification_propose(actor=other, election=made.setup.election, now=later)
    first.refresh_from_db()
    assert (first.status, second.status) == ("withdrawn", "proposed")
    with pytest.raises(CertificationRefused, match="no longer open"):
        certification_confirm(actor=other, certification=first, now=later)


# --- Locked after certification ------------------------------------------------------------


def test_after_certification_entries_decisions_and_tabulation_stop() -> None:
    made = counted_election()
    _snapshot, official, _later = certified(made)

    with pytest.raises(RoundClosed, match="certified"):
        record_submit(
            actor=made.setup.clerk1,
            station=made.setup.station,
            values=record_values(),
            votes=list(VOTES.items()),
            idempotency_key=uuid.uuid4().hex,
        )
    with pytest.raises(DecisionRefused, match="certified"):
        record_correct(
            actor=made.setup.member,
            round=made.round1,
            values=record_values(control_sheet_ok="yes"),
            votes=list(VOTES.items()),
            reason="Too late.",
        )
    assert election_tabulate(election_id=made.setup.election.pk) is None
    assert ResultSnapshot.objects.order_by("-version").first() == official


def test_a_reopened_and_recertified_result_keeps_version_one_published_unchanged(
    publish_dir: Path, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    made = counted_election()
    snapshot, later = ready(made)
    other = second_member(made)
    proposal = certification_propose(
        actor=made.setup.member, election=made.setup.election, now=later
    )
    with django_capture_on_commit_callbacks(execute=True):
        first = certification_confirm(actor=other, certification=proposal, now=later)
    folder = publish_dir / made.slug / "snapshots" / str(first.version)
    before = {path.name: path.read_bytes() for path in folder.iterdir()}
    assert "results.json" in before

    decision = certification_reopen(
        actor=made.setup.member,
        election=made.setup.election,
        reason="The administrative court annulled the vote at one station.",
    )
    assert decision.kind == "reopen"
    assert Election.objects.get(pk=made.setup.election.pk).status == "counting"
    with pytest.raises(CertificationRefused, match="not certified"):
        certification_reopen(actor=made.setup.member, election=made.setup.election, reason="x")
    # A change after reopening, tabulated, then certified again.
    record_correct(
        actor=other,
        round=made.round1,
        values=record_values(control_sheet_ok="yes"),
        votes=list({1: 299, 2: 201, 3: 88}.items()),
        reason="As the court ruled.",
    )
    again = election_tabulate(election_id=made.setup.election.pk)
    assert again is not None and again.kind == "provisional"
    later = later + timedelta(days=1)
    proposal = certification_propose(actor=other, election=made.setup.election, now=later)
    with django_capture_on_commit_callbacks(execute=True):
        second = certification_confirm(actor=made.setup.member, certification=proposal, now=later)

    assert second.payload["certification"]["official_version"] == 2
    assert second.version == again.version + 1
    after = {path.name: path.read_bytes() for path in folder.iterdir()}
    assert after == before
    assert Certification.objects.filter(status="confirmed").count() == 2
    assert snapshot.version < first.version < again.version < second.version


def test_the_proceedings_are_frozen_into_the_official_document() -> None:
    made = counted_election()
    w2 = Finding.objects.create(round=made.round1, code="W2", category="W")
    finding_acknowledge(actor=made.setup.member, finding=w2, reason="Explained by the board.")
    _snapshot, official, _later = certified(made)

    decisions = official.payload["proceedings"]["decisions"]
    assert [(item["kind"], item["station"], item["reason"]) for item in decisions] == [
        ("dismiss_warning", made.code, "Explained by the board.")
    ]
    assert official.payload["proceedings"]["objections"] == []


def test_submit_helper_is_refused_too() -> None:
    made = counted_election()
    certified(made)
    with pytest.raises(RoundClosed):
        submit(made.setup, made.setup.clerk2)


def test_an_official_snapshot_whose_publishing_failed_is_published_by_the_sweep(
    publish_dir: Path, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    from unittest import mock

    from tabulation.services.tabulation import tabulation_run, tabulation_sweep

    made = counted_election()
    _snapshot, later = ready(made)
    proposal = certification_propose(
        actor=made.setup.member, election=made.setup.election, now=later
    )
    with (
        mock.patch(
            "tabulation.services.publishing.snapshot_publish", side_effect=OSError("disk full")
        ),
        django_capture_on_commit_callbacks(execute=True),
    ):
        official = certification_confirm(
            actor=second_member(made), certification=proposal, now=later
        )
    results = publish_dir / made.slug / "results.json"
    assert '"official"' not in (results.read_text() if results.exists() else "")

    assert tabulation_sweep() == [made.setup.election.pk]
    tabulation_run(election_id=made.setup.election.pk)

    assert f'"version":{official.version}' in results.read_text().replace(" ", "")
    assert tabulation_sweep() == []
