import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.db import IntegrityError, transaction

from tabulation.domain.roles import ALL_ROLES
from tabulation.models import ClerkAssignment
from tabulation.selectors.roles import clerk_may_enter, stations_for_clerk
from tabulation.services.roles import clerk_assign, ensure_roles
from tests.factories import MunicipalityFactory, PollingStationFactory, UserFactory

pytestmark = pytest.mark.django_db


def codenames(group_name: str) -> set[str]:
    return set(Group.objects.get(name=group_name).permissions.values_list("codename", flat=True))


def test_migrations_create_the_four_roles_with_their_permissions() -> None:
    assert set(Group.objects.values_list("name", flat=True)) >= set(ALL_ROLES)
    assert "enter_record" in codenames("clerk")
    assert "decide" not in codenames("clerk")
    assert {"decide", "certify"} <= codenames("commission member")
    assert "enter_record" not in codenames("commission member")
    assert {"import_election", "add_user", "view_auditevent"} <= codenames("administrator")
    # An observer submits its copies and views no model's rows.
    assert codenames("observer") == {"submit_copy"}


def test_ensure_roles_is_idempotent() -> None:
    ensure_roles()
    ensure_roles()

    assert Group.objects.filter(name__in=ALL_ROLES).count() == 4
    assert Permission.objects.filter(codename="enter_record").count() == 1


def clerk_in_group(username: str):
    user = UserFactory(username=username)
    user.groups.add(Group.objects.get(name="clerk"))
    return user


def test_a_clerk_assigned_to_a_station_may_enter_only_that_station() -> None:
    station = PollingStationFactory()
    neighbour = PollingStationFactory(municipality=station.municipality)
    clerk = clerk_in_group("clerk-a")

    clerk_assign(actor=None, user=clerk, election=station.election, station=station)

    assert clerk_may_enter(clerk, station)
    assert not clerk_may_enter(clerk, neighbour)
    assert list(stations_for_clerk(clerk, station.election)) == [station]


def test_a_clerk_assigned_to_a_municipality_may_enter_all_its_stations() -> None:
    municipality = MunicipalityFactory()
    first = PollingStationFactory(municipality=municipality, number=1)
    second = PollingStationFactory(municipality=municipality, number=2)
    elsewhere = PollingStationFactory(municipality__election=municipality.election)
    clerk = clerk_in_group("clerk-b")

    clerk_assign(actor=None, user=clerk, election=municipality.election, municipality=municipality)

    assert clerk_may_enter(clerk, first)
    assert clerk_may_enter(clerk, second)
    assert not clerk_may_enter(clerk, elsewhere)
    assert list(stations_for_clerk(clerk, municipality.election)) == [first, second]


def test_clerk_assign_puts_the_user_in_the_clerk_group() -> None:
    station = PollingStationFactory()
    user = UserFactory(username="new-clerk")

    clerk_assign(actor=None, user=user, election=station.election, station=station)

    assert user.groups.filter(name="clerk").exists()
    assert clerk_may_enter(user, station)


def test_an_assignment_without_the_clerk_permission_is_not_enough() -> None:
    station = PollingStationFactory()
    user = UserFactory(username="not-a-clerk")
    ClerkAssignment.objects.create(election=station.election, user=user, station=station)

    assert not clerk_may_enter(user, station)
    assert list(stations_for_clerk(user, station.election)) == []


def test_an_inactive_clerk_may_enter_nothing() -> None:
    station = PollingStationFactory()
    clerk = clerk_in_group("clerk-c")
    clerk_assign(actor=None, user=clerk, election=station.election, station=station)
    clerk.is_active = False
    clerk.save()

    assert not clerk_may_enter(clerk, station)


def test_clerk_assign_refuses_both_or_neither_target() -> None:
    station = PollingStationFactory()
    user = UserFactory()

    with pytest.raises(ValueError, match="exactly one"):
        clerk_assign(actor=None, user=user, election=station.election)
    with pytest.raises(ValueError, match="exactly one"):
        clerk_assign(
            actor=None,
            user=user,
            election=station.election,
            station=station,
            municipality=station.municipality,
        )


def test_the_database_refuses_an_assignment_to_both_or_neither() -> None:
    station = PollingStationFactory()
    user = UserFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        ClerkAssignment.objects.create(
            election=station.election,
            user=user,
            station=station,
            municipality=station.municipality,
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        ClerkAssignment.objects.create(election=station.election, user=user)


@pytest.mark.django_db(transaction=True)
def test_a_flushed_database_has_its_roles_again() -> None:
    """A flush (manage.py flush, or a transactional test emptying the test
    database after it) leaves the roles as migrations made them."""
    call_command("flush", interactive=False, verbosity=0)

    assert set(Group.objects.values_list("name", flat=True)) >= set(ALL_ROLES)
    assert "enter_record" in codenames("clerk")
    assert codenames("observer") == {"submit_copy"}
