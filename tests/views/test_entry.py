import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase

from tabulation.models import (
    AcceptedRecord,
    RecordEntry,
    StationRound,
)
from tabulation.selectors.stations import round_version
from tests.views.entry_setup import entry_setup, form_data, stored_counts, submit

pytestmark = pytest.mark.django_db


def station_url(setup, station=None) -> str:
    station = station or setup.station
    return reverse("entry:station", kwargs={"slug": setup.election.slug, "code": station.code})


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_clerk_sees_their_stations_with_each_ones_state() -> None:
    setup = entry_setup()
    submit(setup, setup.clerk1)

    page = logged_in(setup.clerk2).get(
        reverse("entry:stations", kwargs={"slug": setup.election.slug})
    )

    assert page.status_code == 200
    text = page.content.decode()
    assert setup.station.code in text
    assert 'data-state="waiting_for_second_entry"' in text
    assert setup.outsider_station.code not in text


def test_the_entry_home_sends_a_clerk_with_one_election_to_its_stations() -> None:
    setup = entry_setup()

    page = logged_in(setup.clerk1).get(reverse("entry:home"))

    assert page.status_code == 302
    assert page["Location"].endswith(f"/entry/{setup.election.slug}/")


def test_the_form_shows_every_field_and_every_list_in_ballot_order() -> None:
    setup = entry_setup()

    page = logged_in(setup.clerk1).get(station_url(setup))

    text = page.content.decode()
    positions = [text.index(f'name="votes[{number}]"') for number in (1, 2, 3)]
    assert positions == sorted(positions)
    for name in ("registered", "ballots_received", "ballots_unused", "turned_out",
                 "ballots_in_box", "ballots_invalid", "ballots_valid", "control_sheet_ok",
                 "board_signatures", "idempotency_key", "round_version"):  # fmt: skip
        assert f'name="{name}"' in text
    assert "1. Lista 1" in text


def test_two_clerks_enter_the_same_record_and_it_is_accepted() -> None:
    setup = entry_setup()
    for clerk in (setup.clerk1, setup.clerk2):
        client = logged_in(clerk)
        version = round_version(StationRound.objects.get(pk=setup.round.pk))
        response = client.post(station_url(setup), form_data(round_version=version))
        assert response.status_code == 302

    setup.round.refresh_from_db()
    assert setup.round.status == StationRound.Status.ACCEPTED
    assert AcceptedRecord.objects.filter(round=setup.round).count() == 1


def test_the_second_entry_is_blind() -> None:
    setup = entry_setup()
    submit(setup, setup.clerk1, ballots_received=1234)

    page = logged_in(setup.clerk2).get(station_url(setup))

    assert "1234" not in page.content.decode()


def test_input_errors_are_shown_field_by_field_with_their_code() -> None:
    setup = entry_setup()
    before = stored_counts()

    page = logged_in(setup.clerk1).post(
        station_url(setup),
        form_data(round_version=round_version(setup.round), ballots_invalid="dvanaest"),
    )

    assert page.status_code == 422
    assert "E1" in page.context["form"].errors["ballots_invalid"][0]
    assert stored_counts() == before


def test_law_findings_are_shown_in_plain_words_with_their_code() -> None:
    setup = entry_setup()
    client = logged_in(setup.clerk1)
    client.post(
        station_url(setup), form_data(round_version=round_version(setup.round), turned_out="590")
    )

    page = client.get(station_url(setup))

    text = page.content.decode()
    assert "R1" in text
    assert (
        "Broj glasačkih listića u glasačkoj kutiji (600) veći je od broja birača "
        "koji su izašli na izbore (590)."
    ) in text


def test_a_double_click_stores_one_entry() -> None:
    setup = entry_setup()
    client = logged_in(setup.clerk1)
    data = form_data(round_version=round_version(setup.round))

    first = client.post(station_url(setup), data)
    second = client.post(station_url(setup), data)

    assert (first.status_code, second.status_code) == (302, 302)
    assert RecordEntry.objects.count() == 1


def test_a_stale_form_gets_a_conflict_message_and_nothing_is_stored() -> None:
    setup = entry_setup()
    stale = round_version(setup.round)
    submit(setup, setup.clerk2)
    before = stored_counts()

    page = logged_in(setup.clerk1).post(station_url(setup), form_data(round_version=stale))

    assert page.status_code == 409
    assert "Neko drugi je u međuvremenu izmenio podatke" in page.content.decode()
    assert stored_counts() == before


def test_a_clerk_withdraws_their_entry() -> None:
    setup = entry_setup()
    submit(setup, setup.clerk1)

    response = logged_in(setup.clerk1).post(
        reverse("entry:withdraw", kwargs={"slug": setup.election.slug, "code": setup.station.code})
    )

    assert response.status_code == 302
    assert RecordEntry.objects.get().superseded_at is not None


# --- The permission matrix -------------------------------------------------------


def test_anonymous_users_are_sent_to_log_in() -> None:
    setup = entry_setup()

    for url in (station_url(setup), reverse("entry:home")):
        response = Client().get(url)
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]
    response = Client().post(station_url(setup), form_data())
    assert response.status_code == 302
    assert RecordEntry.objects.count() == 0


def test_a_clerk_can_neither_read_nor_write_a_station_outside_their_assignment() -> None:
    setup = entry_setup()
    client = logged_in(setup.clerk1)
    url = station_url(setup, setup.outsider_station)

    assert client.get(url).status_code == 404
    assert client.post(url, form_data()).status_code == 404
    withdraw = reverse(
        "entry:withdraw",
        kwargs={"slug": setup.election.slug, "code": setup.outsider_station.code},
    )
    assert client.post(withdraw).status_code == 404
    assert RecordEntry.objects.count() == 0


def test_staff_without_an_assignment_cannot_enter_and_cannot_pose_as_a_clerk() -> None:
    setup = entry_setup()
    setup.member.is_superuser = True
    setup.member.save()
    client = logged_in(setup.member)

    assert client.get(station_url(setup)).status_code == 404
    # A form that names a clerk changes nothing: the actor is the request's user.
    response = client.post(station_url(setup), form_data(clerk=str(setup.clerk1.pk)))
    assert response.status_code == 404
    assert RecordEntry.objects.count() == 0


def test_the_old_reconciliation_address_leads_to_the_commission_station_page() -> None:
    setup = entry_setup()
    url = reverse(
        "entry:reconcile", kwargs={"slug": setup.election.slug, "code": setup.station.code}
    )

    response = logged_in(setup.member).get(url)
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "commission:station", kwargs={"slug": setup.election.slug, "code": setup.station.code}
    )


# --- Arbitrary input never breaks the form -------------------------------------

FIELD_NAMES = (
    "registered",
    "ballots_received",
    "ballots_unused",
    "turned_out",
    "ballots_in_box",
    "ballots_invalid",
    "ballots_valid",
    "control_sheet_ok",
    "board_signatures",
    "votes[1]",
    "votes[2]",
    "votes[3]",
    "votes[4]",
    "votes[x]",
    "round_version",
    "idempotency_key",
)
ODD_TEXT = st.one_of(
    st.integers(min_value=-(10**25), max_value=10**25).map(str),
    st.sampled_from(["", " ", "١٢٣", "12\x00", "Београд", "🗳️", "1e3", "0x1f", "+5", "1_000"]),
    st.text(max_size=12),
)


class FormFuzzTests(HypothesisTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.setup = entry_setup()

    @settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(overrides=st.dictionaries(st.sampled_from(FIELD_NAMES), ODD_TEXT, max_size=6),
           missing=st.sets(st.sampled_from(FIELD_NAMES), max_size=3))  # fmt: skip
    def test_arbitrary_values_never_fail_and_a_refusal_stores_nothing(
        self, overrides: dict[str, str], missing: set[str]
    ) -> None:
        client = Client()
        client.force_login(self.setup.clerk1)
        data = form_data(round_version=round_version(self.setup.round)) | overrides
        for name in missing:
            data.pop(name, None)
        before = stored_counts()

        response = client.post(station_url(self.setup), data)

        assert response.status_code in (302, 409, 422)
        if response.status_code != 302:
            assert stored_counts() == before
        else:
            # Stored: withdraw it, so the next example starts from an empty round.
            entry = RecordEntry.objects.get(superseded_at__isnull=True)
            assert entry.clerk == self.setup.clerk1
            client.post(
                reverse(
                    "entry:withdraw",
                    kwargs={"slug": self.setup.election.slug, "code": self.setup.station.code},
                )
            )
            self.setup.round.refresh_from_db()
