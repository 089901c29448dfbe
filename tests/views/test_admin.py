"""The admin shows everything read-only: writes go through services, which
leave an audit event, and the admin would skip them."""

import pytest
from django.contrib.auth.hashers import get_hasher
from django.contrib.auth.models import Group, Permission, User

from tabulation.models import AuditEvent
from tabulation.services.audit import audit_append
from tabulation.services.roles import (
    ROLE_ADMINISTRATOR,
    ROLE_CLERK,
    ROLE_COMMISSION_MEMBER,
    ensure_roles,
)
from tests.factories import (
    CandidateFactory,
    ElectoralListFactory,
    MunicipalityFactory,
    UserFactory,
)
from tests.second_factor import verified_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    verified_login(client, UserFactory(is_staff=True, is_superuser=True))
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
    # Nothing added; the refusal itself is in the trail.
    assert list(AuditEvent.objects.order_by("sequence").values_list("action", flat=True)) == [
        "record.submit",
        "record.submit",
        "auth.refused",
    ]


# --- Users and groups: who may grant what, and the audit of every change --------
# (rule 13: every change of a user, role or permission is an audit event)


def _administrator(**fields):
    """A member of the administrator role: staff, not a superuser."""
    ensure_roles()
    user = UserFactory(is_staff=True, **fields)
    user.groups.add(Group.objects.get(name=ROLE_ADMINISTRATOR))
    return user


def _user_form(user, **changes):
    """What the admin's change form posts for `user`, with `changes` applied."""
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_active": "on",
        "date_joined_0": "2023-12-17",
        "date_joined_1": "07:00:00",
        "initial-date_joined_0": "2023-12-17",
        "initial-date_joined_1": "07:00:00",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def _change(client, user, **changes):
    return client.post(f"/en/admin/auth/user/{user.pk}/change/", _user_form(user, **changes))


def _events(action):
    return list(AuditEvent.objects.filter(action=action).order_by("sequence"))


def test_an_administrator_cannot_make_itself_superuser(client):
    administrator = _administrator()
    verified_login(client, administrator)

    _change(client, administrator, is_staff="on", is_superuser="on")

    administrator.refresh_from_db()
    assert administrator.is_superuser is False
    assert list(administrator.groups.values_list("name", flat=True)) == [ROLE_ADMINISTRATOR]


def test_an_administrator_cannot_grant_privileges_to_another_user_even_by_a_forged_post(client):
    clerk = UserFactory(username="clerk-zemun-9")
    verified_login(client, _administrator())
    administrator_group = Group.objects.get(name=ROLE_ADMINISTRATOR)
    permission = Permission.objects.get(codename="change_user")

    page = client.get(f"/en/admin/auth/user/{clerk.pk}/change/").content.decode()
    response = _change(
        client,
        clerk,
        first_name="Milan",
        is_staff="on",
        is_superuser="on",
        groups=[administrator_group.pk],
        user_permissions=[permission.pk],
    )

    assert response.status_code == 302
    clerk.refresh_from_db()
    assert clerk.first_name == "Milan"  # the rest of the form is saved
    assert (clerk.is_staff, clerk.is_superuser) == (False, False)
    assert not clerk.groups.exists()
    assert not clerk.user_permissions.exists()
    for field in ("is_staff", "is_superuser", "groups", "user_permissions"):
        assert f'name="{field}"' not in page


def test_an_administrator_cannot_change_a_superuser_s_account_or_password(client):
    superuser = UserFactory(username="root", is_staff=True, is_superuser=True)
    verified_login(client, _administrator())

    changed = _change(client, superuser, username="taken-over")
    password = client.post(
        f"/en/admin/auth/user/{superuser.pk}/password/",
        {"password1": "x-Tak30ver-x", "password2": "x-Tak30ver-x", "usable_password": "true"},
    )

    assert changed.status_code == 403
    assert password.status_code == 403
    superuser.refresh_from_db()
    assert superuser.username == "root"
    assert superuser.password == "!unusable"


def test_an_administrator_cannot_set_a_commission_member_s_password(client):
    member = UserFactory(username="member1", is_staff=True)
    clerk = UserFactory(username="clerk-zemun-2")
    verified_login(client, _administrator())
    new_password = {
        "password1": "x-Tak30ver-x",
        "password2": "x-Tak30ver-x",
        "usable_password": "true",
    }

    refused = client.post(f"/en/admin/auth/user/{member.pk}/password/", new_password)
    allowed = client.post(f"/en/admin/auth/user/{clerk.pk}/password/", new_password)

    assert (refused.status_code, allowed.status_code) == (403, 302)
    member.refresh_from_db()
    assert member.password == "!unusable"


def test_nobody_changes_their_own_groups_or_permissions_not_even_a_superuser(client):
    ensure_roles()
    superuser = UserFactory(is_staff=True, is_superuser=True)
    verified_login(client, superuser)
    group = Group.objects.get(name=ROLE_COMMISSION_MEMBER)

    _change(client, superuser, is_staff="on", is_superuser="on", groups=[group.pk])

    superuser.refresh_from_db()
    assert not superuser.groups.exists()


def test_a_superuser_grants_a_role_and_the_trail_records_before_and_after(client):
    ensure_roles()
    superuser = UserFactory(is_staff=True, is_superuser=True)
    member = UserFactory(username="member7")
    member.set_password("a-password-hash-never-in-the-trail")
    member.save()
    verified_login(client, superuser)
    group = Group.objects.get(name=ROLE_COMMISSION_MEMBER)

    response = _change(client, member, is_staff="on", groups=[group.pk])

    assert response.status_code == 302
    member.refresh_from_db()
    assert member.is_staff is True
    assert list(member.groups.values_list("name", flat=True)) == [ROLE_COMMISSION_MEMBER]
    [event] = _events("user.change")
    assert event.actor == superuser
    assert (event.object_type, event.object_id) == ("auth.user", str(member.pk))
    assert event.before == {"is_staff": False, "groups": []}
    assert event.after == {"is_staff": True, "groups": [ROLE_COMMISSION_MEMBER]}
    assert event.client_address == "127.0.0.1"
    assert "password" not in str(event.before) + str(event.after)


def test_adding_a_deleting_and_setting_a_password_through_the_admin_are_audited(client):
    superuser = UserFactory(is_staff=True, is_superuser=True)
    verified_login(client, superuser)

    added = client.post(
        "/en/admin/auth/user/add/",
        {
            "username": "clerk-vracar-3",
            "usable_password": "true",
            "password1": "Vr4car-izbori-2023",
            "password2": "Vr4car-izbori-2023",
        },
    )
    user = User.objects.get(username="clerk-vracar-3")
    password = client.post(
        f"/en/admin/auth/user/{user.pk}/password/",
        {
            "password1": "Nova-lozinka-2023",
            "password2": "Nova-lozinka-2023",
            "usable_password": "true",
        },
    )
    deleted = client.post(f"/en/admin/auth/user/{user.pk}/delete/", {"post": "yes"})

    assert (added.status_code, password.status_code, deleted.status_code) == (302, 302, 302)
    assert not User.objects.filter(username="clerk-vracar-3").exists()
    [add] = _events("user.add")
    [password_change] = _events("user.password_change")
    [delete] = _events("user.delete")
    assert add.before is None
    assert add.after["username"] == "clerk-vracar-3"
    assert add.after["is_superuser"] is False
    assert password_change.after == {"usable_password": True}
    assert delete.before["username"] == "clerk-vracar-3"
    assert delete.after is None
    trail = " ".join(
        str(event.after) + str(event.before) for event in (add, password_change, delete)
    )
    assert f"{get_hasher().algorithm}$" not in trail
    assert "Nova-lozinka" not in trail and "Vr4car" not in trail


def test_only_a_superuser_changes_a_group_s_permissions_and_each_change_is_audited(client):
    ensure_roles()
    group = Group.objects.get(name=ROLE_CLERK)
    before = sorted(group.permissions.values_list("pk", flat=True))
    decide = Permission.objects.get(codename="decide")
    administrator = _administrator()
    administrator.user_permissions.add(Permission.objects.get(codename="change_group"))
    verified_login(client, administrator)

    refused = client.post(
        f"/en/admin/auth/group/{group.pk}/change/",
        {"name": ROLE_CLERK, "permissions": [*before, decide.pk]},
    )
    assert refused.status_code == 302  # the name may change, the permissions may not
    assert sorted(group.permissions.values_list("pk", flat=True)) == before
    assert all("permissions" not in (event.after or {}) for event in _events("group.change"))

    verified_login(client, UserFactory(is_staff=True, is_superuser=True))
    client.post(
        f"/en/admin/auth/group/{group.pk}/change/",
        {"name": ROLE_CLERK, "permissions": [*before, decide.pk]},
    )

    assert decide in group.permissions.all()
    event = _events("group.change")[-1]
    assert event.before == {
        "permissions": sorted(
            f"{p.content_type.app_label}.{p.codename}"
            for p in Permission.objects.filter(pk__in=before)
        )
    }
    assert "tabulation.decide" in event.after["permissions"]


def test_an_administrator_cannot_delete_a_superuser_from_the_list(client):
    superuser = UserFactory(username="root", is_staff=True, is_superuser=True)
    administrator = _administrator()
    administrator.user_permissions.add(Permission.objects.get(codename="delete_user"))
    verified_login(client, administrator)

    response = client.post(
        "/en/admin/auth/user/",
        {"action": "delete_selected", "_selected_action": [superuser.pk], "post": "yes"},
    )

    assert response.status_code == 403
    assert User.objects.filter(username="root").exists()
    assert _events("user.delete") == []
