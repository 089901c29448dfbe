"""Observers through their pages and the API: a copy typed with its photo,
a CSV, one's own copies only; the commission's dashboard and the public
station page (tests/security_world.py)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.authtoken.models import Token

from tabulation.models import CopyFinding, ObserverCopy, RecordScan
from tabulation.services.observers import observer_accredit
from tests.factories import UserFactory, record_values
from tests.published import publish_dir_fixture  # noqa: F401 - fixture
from tests.scans import jpeg, pdf, scan_storage_fixture  # noqa: F401 - fixture
from tests.security_world import OUTSIDER_VOTES, TYPED_FIGURE, World, world_build
from tests.views.entry_setup import VOTES

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(publish_dir: Any, scan_storage: Any) -> World:
    return world_build(publish_dir)


def form(votes: dict[int, int] | None = None, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        name: "" if value is None else str(value) for name, value in record_values().items()
    }
    data["control_sheet_ok"] = "yes"
    for number, count in (votes or VOTES).items():
        data[f"votes[{number}]"] = str(count)
    data.update(overrides)
    return data


def copy_url(world: World, code: str | None = None) -> str:
    return f"/en/observe/{world.setup.election.slug}/{code or world.setup.station.code}/"


def test_an_observer_types_a_copy_with_its_photo(world: World) -> None:
    client = world.clients["observer"]
    data = form(photo=SimpleUploadedFile("IMG_1.jpg", jpeg(exif=True)))

    response = client.post(copy_url(world), data)

    assert response.status_code == 302
    copy = ObserverCopy.objects.filter(superseded_at__isnull=True).latest("pk")
    assert (copy.source, copy.ballots_valid, copy.scan.kind) == ("form", 588, "observer_copy")
    own = client.get(response["Location"]).content.decode()
    assert copy.round.station.code in own


def test_a_refused_photo_stores_no_copy(world: World) -> None:
    before = (ObserverCopy.objects.count(), RecordScan.objects.count())

    response = world.clients["observer"].post(
        copy_url(world), form(photo=SimpleUploadedFile("x.pdf", pdf(b"/JavaScript")))
    )

    assert response.status_code == 422
    assert "scripts, attachments or forms" in response.content.decode()
    assert (ObserverCopy.objects.count(), RecordScan.objects.count()) == before


def test_a_copy_with_input_errors_is_shown_field_by_field(world: World) -> None:
    response = world.clients["observer"].post(copy_url(world), form(ballots_invalid="x"))

    assert response.status_code == 422
    assert "E1" in response.content.decode()


def test_an_observer_sees_only_its_own_copies(world: World) -> None:
    other = UserFactory(username=f"observer-{world.setup.election.slug}-list")
    observer_accredit(
        actor=None,
        user=other,
        election=world.setup.election,
        electoral_list=world.setup.lists[1],
        reason="accredited",
    )
    client = Client()
    client.force_login(other)

    page = client.get(f"/en/observe/{world.setup.election.slug}/").content.decode()

    assert "You have submitted no copy yet." in page
    assert world.setup.station.code not in page
    api = client.get(f"/api/v1/elections/{world.setup.election.slug}/copies/")
    assert api.json() == []


def test_an_observer_never_sees_the_unaccepted_figures_of_its_station(world: World) -> None:
    page = world.clients["observer"].get(copy_url(world)).content.decode()

    assert not TYPED_FIGURE.search(page)


def test_a_parallel_tabulation_csv_is_stored(world: World) -> None:
    header = ["station", *record_values(), "list_1", "list_2", "list_3"]
    values = {**record_values(), "control_sheet_ok": "yes"}
    row = [world.setup.station.code, *(str(values[name]) for name in record_values())]
    text = ",".join(header) + "\n" + ",".join([*row, "300", "200", "88"]) + "\n"

    response = world.clients["observer"].post(
        f"/en/observe/{world.setup.election.slug}/upload/",
        {"file": SimpleUploadedFile("pvt.csv", text.encode())},
    )

    assert response.status_code == 302
    assert ObserverCopy.objects.filter(source="csv").count() == 1


def test_a_csv_with_a_bad_row_lists_it_and_stores_nothing(world: World) -> None:
    text = "station,registered\nno-such,1000\n"

    response = world.clients["observer"].post(
        f"/en/observe/{world.setup.election.slug}/upload/",
        {"file": SimpleUploadedFile("pvt.csv", text.encode())},
    )

    assert response.status_code == 422
    assert "No such station in this election." in response.content.decode()
    assert ObserverCopy.objects.filter(source="csv").count() == 0


def test_the_api_takes_a_copy_with_the_observers_token(world: World) -> None:
    token = Token.objects.create(user=world.users["observer"])
    body = {
        "station": world.setup.outsider_station.code,
        **record_values(),
        "votes": [{"ballot_number": n, "votes": v} for n, v in OUTSIDER_VOTES.items()],
    }

    response = Client().post(
        f"/api/v1/elections/{world.setup.election.slug}/copies/",
        body,
        content_type="application/json",
        headers={"Authorization": f"Token {token.key}"},
    )

    assert response.status_code == 201, response.content
    assert response.json()["source"] == "api"
    assert response.json()["votes"] == {"1": 100, "2": 50, "3": 20}
    assert "accepted" not in response.content.decode()


def test_a_clerks_token_may_not_submit_a_copy(world: World) -> None:
    token = Token.objects.create(user=world.users["clerk_a"])

    response = Client().post(
        f"/api/v1/elections/{world.setup.election.slug}/copies/",
        {"station": world.setup.station.code},
        content_type="application/json",
        headers={"Authorization": f"Token {token.key}"},
    )

    assert response.status_code == 403
    assert ObserverCopy.objects.filter(source="api").count() == 0


def test_the_dashboard_lists_each_difference_of_a_copy(world: World) -> None:
    # The world's observer copied station B with registered left blank (O1),
    # against a record with the register's figure.
    finding = CopyFinding.objects.get(field="registered")
    assert finding.code == "O1"

    page = (
        world.clients["member_2fa"]
        .get(f"/en/commission/{world.setup.election.slug}/")
        .content.decode()
    )

    assert 'id="copy-findings"' in page
    assert "<code>registered</code>" in page
    assert world.setup.outsider_station.code in page


def test_the_public_station_page_says_how_many_copies_agree(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    station = world.setup.outsider_station
    url = f"/en/results/{world.setup.election.slug}/stations/{station.code}/"
    reader = world.clients["anonymous"]
    assert "1 copy differs" in reader.get(url).content.decode()

    agreeing = UserFactory(username=f"observer-{world.setup.election.slug}-2")
    observer_accredit(
        actor=None,
        user=agreeing,
        election=world.setup.election,
        electoral_list=world.setup.lists[0],
        reason="accredited",
    )
    record = station.rounds.get().accepted_records.get()
    client = Client()
    client.force_login(agreeing)
    data = form(votes=OUTSIDER_VOTES)
    for name in record_values():
        value = getattr(record, name)
        data[name] = ("yes" if value else "no") if isinstance(value, bool) else str(value)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(copy_url(world, station.code), data).status_code == 302

    page = reader.get(url).content.decode()
    assert "1 independent copy of the record" in page
    assert "agrees with this record" in page
    assert "1 copy differs" in page
