"""The commission's pages: the dashboard and its queues, the station page and
its decisions, objections and the drawing of lots, and who may open them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from tabulation.models import (
    AcceptedRecord,
    AuditEvent,
    Decision,
    Finding,
    Objection,
    StationRound,
)
from tabulation.selectors.stations import round_version
from tabulation.services.tabulation import election_tabulate
from tests.second_factor import verified_login
from tests.views.entry_setup import entry_setup, form_data, submit

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def in_english():  # type: ignore[no-untyped-def]
    """The pages under /en/: the assertions read the English words."""
    with translation.override("en"):
        yield


def logged_in(user) -> Client:  # type: ignore[no-untyped-def]
    return verified_login(Client(), user)


def dashboard_url(setup) -> str:  # type: ignore[no-untyped-def]
    return reverse("commission:dashboard", kwargs={"slug": setup.election.slug})


def station_url(setup) -> str:  # type: ignore[no-untyped-def]
    return reverse(
        "commission:station", kwargs={"slug": setup.election.slug, "code": setup.station.code}
    )


def rows() -> tuple[int, int, int, int]:
    return (
        Decision.objects.count(),
        # The refusal itself is audited (auth.refused); nothing else may be.
        AuditEvent.objects.exclude(action="auth.refused").count(),
        AcceptedRecord.objects.count(),
        StationRound.objects.count(),
    )


# --- Who may open the commission's pages -------------------------------------------


def test_a_clerk_gets_403_on_every_commission_page_and_decides_nothing() -> None:
    setup = entry_setup()
    submit(setup, setup.clerk1, turned_out=590)
    submit(setup, setup.clerk2, turned_out=590)
    client = logged_in(setup.clerk1)
    slug = setup.election.slug
    for url in (
        reverse("commission:home"),
        dashboard_url(setup),
        station_url(setup),
        reverse("commission:objections", kwargs={"slug": slug}),
        reverse("commission:decisions", kwargs={"slug": slug}),
        reverse("commission:lots", kwargs={"slug": slug}),
    ):
        assert client.get(url).status_code == 403, url
    before = rows()
    response = client.post(
        station_url(setup),
        {"action": "annul", "ground": "R1", "voting_date": "2099-01-01", "reason": "x"},
    )
    assert response.status_code == 403
    assert rows() == before


def test_an_anonymous_reader_is_sent_to_log_in() -> None:
    setup = entry_setup()
    response = Client().get(dashboard_url(setup))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_a_member_finds_the_dashboard_from_the_home_page_and_from_entry() -> None:
    setup = entry_setup()
    client = logged_in(setup.member)

    home = client.get(reverse("home")).content.decode()
    assert reverse("commission:home") in home
    # One election: the commission's home goes straight to its dashboard.
    assert client.get(reverse("commission:home"))["Location"] == dashboard_url(setup)
    # /entry/<election>/ answers a member without stations with a way on, not a 404.
    page = client.get(reverse("entry:stations", kwargs={"slug": setup.election.slug}))
    assert page.status_code == 200
    assert reverse("commission:home") in page.content.decode()


# --- The dashboard ---------------------------------------------------------------------


def test_the_dashboard_shows_progress_and_each_queue_with_its_station() -> None:
    setup = entry_setup()
    # The station is held by R1; the other station has entries that differ.
    submit(setup, setup.clerk1, turned_out=590)
    submit(setup, setup.clerk2, turned_out=590)
    election_tabulate(election_id=setup.election.pk)
    client = logged_in(setup.member)

    response = client.get(dashboard_url(setup))

    assert response.status_code == 200
    dashboard = response.context["dashboard"]
    assert [item.station_code for item in dashboard.queues["held"]] == [setup.station.code]
    assert dashboard.queues["held"][0].codes == ("R1",)
    assert dashboard.totals.counts["held"] == 1
    assert dashboard.totals.counts["awaiting"] == 1  # the outsider station
    assert dashboard.remaining == 3  # two stations not counted, one held in its queue
    html = response.content.decode()
    assert station_url(setup) in html
    assert "Held stations (open R, U or S)" in html


def test_the_dashboard_version_changes_with_every_write_and_answers_304_when_not() -> None:
    setup = entry_setup()
    client = logged_in(setup.member)
    url = reverse("commission:version", kwargs={"slug": setup.election.slug})

    first = client.get(url)
    assert first.status_code == 200
    assert client.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    submit(setup, setup.clerk1)
    second = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert second.status_code == 200
    assert second.json()["version"] != first.json()["version"]
    live = client.get(reverse("commission:live", kwargs={"slug": setup.election.slug}))
    assert live.status_code == 200
    assert 'id="commission-queues"' in live.content.decode()


# --- The station page and its decisions ----------------------------------------------------


def test_the_station_page_shows_both_entries_and_keeps_the_one_chosen() -> None:
    setup = entry_setup()
    submit(setup, setup.clerk1)
    submit(setup, setup.clerk2, votes={1: 301, 2: 200, 3: 87})
    client = logged_in(setup.member)

    page = client.get(station_url(setup))
    assert page.status_code == 200
    differing = [row["label"] for row in page.context["compare_rows"] if row["differ"]]
    assert differing == ["1. Lista 1", "3. Lista 3"]
    # The control sheet reads as words, never "True True".
    sheet = next(row for row in page.context["compare_rows"] if "ontrol" in row["label"])
    assert sheet["values"] == ["yes", "yes"]
    assert page.context["detail"].actions.reconcile


def test_reconcile_from_the_station_page() -> None:
    setup = entry_setup()
    submit(setup, setup.clerk1)
    submit(setup, setup.clerk2, votes={1: 301, 2: 200, 3: 87})
    setup.round.refresh_from_db()

    response = logged_in(setup.member).post(
        station_url(setup),
        {
            "action": "reconcile",
            "choice": "keep_2",
            "reason": "As on paper.",
            "round_version": round_version(setup.round),
        },
    )

    assert response.status_code == 302
    assert AcceptedRecord.objects.get().source == "reconciliation"
    assert Decision.objects.get().kind == "reconcile"


def test_annul_from_the_station_page_opens_round_two() -> None:
    setup = entry_setup()
    submit(setup, setup.clerk1, turned_out=590)
    submit(setup, setup.clerk2, turned_out=590)
    setup.round.refresh_from_db()
    client = logged_in(setup.member)
    page = client.get(station_url(setup))
    assert page.context["detail"].actions.grounds == ("R1", "R4", "U1")
    voting_date = timezone.localdate() + timedelta(days=5)

    response = client.post(
        station_url(setup),
        {
            "action": "annul",
            "ground": "R1",
            "voting_date": voting_date.isoformat(),
            "reason": "Art. 116.",
            "round_version": round_version(setup.round),
        },
    )

    assert response.status_code == 302
    assert StationRound.objects.get(station=setup.station, number=2).voting_date == voting_date
    page = client.get(station_url(setup)).content.decode()
    assert "Round 2" in page and "Round 1" in page


@pytest.mark.parametrize(
    ("data", "status"),
    [
        ({"ground": "R1", "voting_date": "", "reason": "x"}, 422),
        ({"ground": "R1", "voting_date": "not a date", "reason": "x"}, 422),
        ({"ground": "R9", "voting_date": "2099-01-01", "reason": "x"}, 422),
        ({"ground": "R1", "voting_date": "2099-01-01", "reason": ""}, 422),
        ({"ground": "R1", "voting_date": "2099-01-01", "reason": "too late a date"}, 409),
    ],
)
def test_bad_input_on_the_annul_form_stores_nothing(data: dict[str, str], status: int) -> None:
    setup = entry_setup()
    submit(setup, setup.clerk1, turned_out=590)
    submit(setup, setup.clerk2, turned_out=590)
    before = rows()

    response = logged_in(setup.member).post(station_url(setup), {"action": "annul", **data})

    assert response.status_code == status
    assert rows() == before
    assert response.context["refusal"]


def test_correct_from_the_station_page_with_a_missing_reason_stores_nothing() -> None:
    setup = entry_setup()
    submit(setup, setup.clerk1, votes={1: 301, 2: 200, 3: 88})
    submit(setup, setup.clerk2, votes={1: 301, 2: 200, 3: 88})
    before = rows()
    client = logged_in(setup.member)

    response = client.post(station_url(setup), {**form_data(), "action": "correct", "reason": ""})
    assert response.status_code == 422
    assert rows() == before

    response = client.post(
        station_url(setup), {**form_data(), "action": "correct", "reason": "Recounted."}
    )
    assert response.status_code == 302
    setup.round.refresh_from_db()
    assert setup.round.status == StationRound.Status.ACCEPTED


def test_acknowledge_a_warning_from_the_station_page() -> None:
    setup = entry_setup()
    votes = {1: 300, 2: 200, 3: 80}
    submit(setup, setup.clerk1, votes=votes, ballots_invalid=20, ballots_valid=580)
    submit(setup, setup.clerk2, votes=votes, ballots_invalid=20, ballots_valid=580)
    w2 = Finding.objects.get(code="W2")
    client = logged_in(setup.member)

    empty = client.post(station_url(setup), {"action": "acknowledge", "finding": w2.pk})
    assert empty.status_code == 422
    response = client.post(
        station_url(setup),
        {"action": "acknowledge", "finding": w2.pk, "reason": "Explained by the board."},
    )

    assert response.status_code == 302
    w2.refresh_from_db()
    assert w2.status == "dismissed"


def test_an_unknown_action_is_refused() -> None:
    setup = entry_setup()
    response = logged_in(setup.member).post(station_url(setup), {"action": "delete"})
    assert response.status_code == 400


def test_a_clerk_whose_entry_leaves_the_station_held_is_not_told_accepted() -> None:
    setup = entry_setup()
    submit(setup, setup.clerk1, turned_out=590)
    client = logged_in(setup.clerk2)
    url = reverse("entry:station", kwargs={"slug": setup.election.slug, "code": setup.station.code})

    setup.round.refresh_from_db()
    response = client.post(
        url, form_data(turned_out="590", round_version=round_version(setup.round)), follow=True
    )

    text = response.content.decode()
    assert "held for the commission" in text
    assert "record accepted" not in text


# --- Objections and lots ------------------------------------------------------------------


def test_an_objection_is_registered_and_decided_through_the_pages() -> None:
    setup = entry_setup()
    submit(setup, setup.clerk1)
    submit(setup, setup.clerk2)
    election_tabulate(election_id=setup.election.pk)
    client = logged_in(setup.member)
    url = reverse("commission:objections", kwargs={"slug": setup.election.slug})

    bad = client.post(url, {"filed_at": "", "filed_by": "", "subject": "station", "grounds": ""})
    assert bad.status_code == 422
    unknown = client.post(
        url,
        {
            "filed_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "filed_by": "Lista 2",
            "subject": "station",
            "station": "no-such-station",
            "grounds": "Irregular.",
        },
    )
    assert unknown.status_code == 422
    assert Objection.objects.count() == 0

    response = client.post(
        url,
        {
            "filed_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "filed_by": "Lista 2",
            "subject": "station",
            "station": setup.station.code,
            "grounds": "Irregular.",
        },
    )
    assert response.status_code == 302
    objection = Objection.objects.get()
    dashboard = client.get(dashboard_url(setup)).context["dashboard"]
    assert [item.object_id for item in dashboard.queues["objections"]] == [objection.pk]
    assert dashboard.queues["objections"][0].hours_left in (71, 72)

    decided = client.post(
        reverse(
            "commission:objection_decide",
            kwargs={"slug": setup.election.slug, "pk": objection.pk},
        ),
        {"outcome": "rejected", "reason": "Nothing irregular was found."},
    )
    assert decided.status_code == 302
    objection.refresh_from_db()
    assert objection.status == "rejected"


def test_the_lots_page_says_when_no_drawing_is_needed() -> None:
    setup = entry_setup()
    page = logged_in(setup.member).get(
        reverse("commission:lots", kwargs={"slug": setup.election.slug})
    )
    assert page.status_code == 200
    assert "needs no drawing of lots" in page.content.decode()


def test_findings_of_entries_still_being_typed_are_not_in_the_held_queue() -> None:
    setup = entry_setup()
    submit(setup, setup.clerk1, votes={1: 301, 2: 200, 3: 88})  # S1, one entry only
    submit(setup, setup.clerk2)  # differs: W6

    dashboard = logged_in(setup.member).get(dashboard_url(setup)).context["dashboard"]

    assert dashboard.queues["held"] == []
    assert [item.station_code for item in dashboard.queues["entries_differ"]] == [
        setup.station.code
    ]


def test_a_drawing_of_lots_nobody_needs_is_refused_on_its_page_and_stores_nothing() -> None:
    setup = entry_setup()
    before = rows()
    response = logged_in(setup.member).post(
        reverse("commission:lots", kwargs={"slug": setup.election.slug}),
        {"order": "2, 3", "reason": "Drawn."},
    )
    assert response.status_code == 409
    assert "needs no drawing of lots" in response.context["refusal"]
    assert rows() == before
