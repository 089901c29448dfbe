"""The admin shows everything read-only: writes go through services, which
leave an audit event, and the admin would skip them."""

import pytest

from tabulation.models import AuditEvent
from tabulation.services.audit import audit_append
from tests.factories import (
    CandidateFactory,
    ElectoralListFactory,
    MunicipalityFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_an_election_shows_its_municipalities_without_an_input(admin_client):
    municipality = MunicipalityFactory(name="Voždovac", registered=163343)

    html = admin_client.get(
        f"/en/admin/tabulation/election/{municipality.election.pk}/change/"
    ).content.decode()

    assert "Voždovac" in html
    assert "163343" in html or "163,343" in html
    assert 'name="municipalities-0-registered"' not in html


def test_a_list_shows_its_candidates_read_only(admin_client):
    candidate = CandidateFactory(electoral_list=ElectoralListFactory(), name="Mila Popović")

    response = admin_client.get(
        f"/en/admin/tabulation/electorallist/{candidate.electoral_list.pk}/change/"
    )

    assert response.status_code == 200
    assert "Mila Popović" in response.content.decode()
    assert 'name="candidates-0-name"' not in response.content.decode()


def test_the_audit_trail_is_searchable_by_station_and_cannot_be_added_to(admin_client):
    audit_append(actor=None, action="record.submit", station_code="zemun-017")
    audit_append(actor=None, action="record.submit", station_code="vracar-002")

    found = admin_client.get("/en/admin/tabulation/auditevent/", {"q": "zemun-017"})
    add = admin_client.get("/en/admin/tabulation/auditevent/add/")

    assert found.status_code == 200
    assert "zemun-017" in found.content.decode()
    assert "vracar-002" not in found.content.decode()
    assert add.status_code == 403
    assert AuditEvent.objects.count() == 2
