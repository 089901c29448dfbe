"""Certification from the dashboard: what blocks it, two members, and the
lock that follows (the entry form and the entry API answer 409)."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django.utils import translation
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tabulation.models import AuditEvent, Election, RecordEntry, ResultSnapshot
from tabulation.services.tabulation import election_tabulate
from tests.annulment_setup import counted_election
from tests.factories import UserFactory
from tests.second_factor import verified_login
from tests.views.entry_setup import form_data

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def in_english():  # type: ignore[no-untyped-def]
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def short_objection_window(settings):  # type: ignore[no-untyped-def]
    """The demo's short window (0 minutes): the test need not wait 72 hours."""
    settings.OBJECTION_WINDOW_MINUTES = 0


def logged_in(user) -> Client:  # type: ignore[no-untyped-def]
    return verified_login(Client(), user)


def test_the_dashboard_lists_what_blocks_certification_with_links() -> None:
    made = counted_election()
    made.round1.station.rounds.update(status="held")
    page = logged_in(made.setup.member).get(
        reverse("commission:dashboard", kwargs={"slug": made.slug})
    )
    blockers = {item["code"]: item for item in page.context["blockers"]}
    assert set(blockers) == {"no_result", "not_counted"}
    assert blockers["not_counted"]["items"] == (made.code,)
    html = page.content.decode()
    assert reverse("commission:station", kwargs={"slug": made.slug, "code": made.code}) in html
    assert "Propose to certify" not in html


def test_two_members_certify_from_the_dashboard_and_entry_is_then_refused(
    django_capture_on_commit_callbacks, tmp_path, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.PUBLISH_DIR = tmp_path / "published"
    made = counted_election()
    election_tabulate(election_id=made.setup.election.pk)
    member2 = UserFactory(username="member-two")
    member2.groups.add(Group.objects.get(name="commission member"))
    first, second = logged_in(made.setup.member), logged_in(member2)
    dashboard = reverse("commission:dashboard", kwargs={"slug": made.slug})
    certify = reverse("commission:certify", kwargs={"slug": made.slug})

    assert first.get(dashboard).context["blockers"] == []
    assert first.post(certify, {"action": "propose"}).status_code == 302
    own = first.get(dashboard)
    assert own.context["proposal"] is not None and not own.context["may_confirm"]
    proposal = second.get(dashboard).context["proposal"]
    assert second.get(dashboard).context["may_confirm"]

    # The proposer cannot confirm, even by posting the form by hand.
    first.post(certify, {"action": "confirm", "proposal": proposal.pk})
    assert not ResultSnapshot.objects.filter(kind="official").exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = second.post(certify, {"action": "confirm", "proposal": proposal.pk})
    assert response.status_code == 302
    assert Election.objects.get(pk=made.setup.election.pk).status == "certified"
    assert "The results are certified." in second.get(dashboard).content.decode()
    assert AuditEvent.objects.filter(action="results.certify").count() == 1

    # The clerks' form and the entry API are refused with a clear message.
    url = reverse("entry:station", kwargs={"slug": made.slug, "code": made.code})
    before = RecordEntry.objects.count()
    page = logged_in(made.setup.clerk1).post(url, form_data(idempotency_key=uuid.uuid4().hex))
    assert page.status_code == 409
    assert "certified" in page.content.decode()
    api = APIClient()
    token, _ = Token.objects.get_or_create(user=made.setup.clerk1)
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    full = api.post(
        f"/api/v1/elections/{made.slug}/stations/{made.code}/entries/",
        {
            "registered": 1000,
            "ballots_received": 1010,
            "ballots_unused": 410,
            "turned_out": 601,
            "ballots_in_box": 600,
            "ballots_invalid": 12,
            "ballots_valid": 588,
            "control_sheet_ok": True,
            "board_signatures": 5,
            "votes": [
                {"ballot_number": 1, "votes": 300},
                {"ballot_number": 2, "votes": 200},
                {"ballot_number": 3, "votes": 88},
            ],
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex,
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert full.status_code == 409
    assert full.json()["errors"][0]["code"] == "closed"
    assert "certified" in str(full.json())
    assert RecordEntry.objects.count() == before


def test_a_clerk_cannot_certify() -> None:
    made = counted_election()
    response = logged_in(made.setup.clerk1).post(
        reverse("commission:certify", kwargs={"slug": made.slug}), {"action": "propose"}
    )
    assert response.status_code == 403
