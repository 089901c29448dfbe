"""Logging in: five wrong passwords lock the account at that address for
fifteen minutes (django-axes), and every login, failure and lockout is in
the audit trail."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tabulation.models import AuditEvent
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "Izbori-2023-lozinka"
LOGIN_URL = "/en/accounts/login/"
ADDRESS = "203.0.113.7"


@pytest.fixture
def clerk():
    return _user("clerk-zemun-1")


def _user(username):
    user = UserFactory(username=username)
    user.set_password(PASSWORD)
    user.save()
    return user


def log_in(client: Client, username: str, password: str, address: str = ADDRESS, **headers):
    return client.post(
        LOGIN_URL, {"username": username, "password": password}, REMOTE_ADDR=address, **headers
    )


def logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_a_wrong_password_shows_the_form_again(client, clerk):
    response = log_in(client, clerk.username, "wrong")

    assert response.status_code == 200
    assert not logged_in(client)


def test_five_wrong_passwords_then_the_right_one_is_refused(client, clerk):
    statuses = [log_in(client, clerk.username, f"wrong-{n}").status_code for n in range(5)]
    response = log_in(client, clerk.username, PASSWORD)

    assert statuses == [200, 200, 200, 200, 429]
    assert response.status_code == 429
    assert not logged_in(client)
    html = response.content.decode()
    assert "Too many failed logins" in html
    assert "15 minutes" in html
    assert 'name="password"' not in html


def test_four_wrong_passwords_do_not_lock_and_a_success_clears_them(client, clerk):
    for n in range(4):
        log_in(client, clerk.username, f"wrong-{n}")

    assert log_in(client, clerk.username, PASSWORD).status_code == 302
    client.logout()
    assert log_in(client, clerk.username, "wrong-again").status_code == 200


def test_a_locked_account_does_not_lock_another_account_at_the_same_address(client, clerk):
    member = _user("member1")
    for n in range(5):
        log_in(client, clerk.username, f"wrong-{n}")

    response = log_in(Client(), member.username, PASSWORD)

    assert response.status_code == 302


def test_the_lock_is_of_the_account_at_that_address(clerk):
    for n in range(5):
        log_in(Client(), clerk.username, f"wrong-{n}", address=ADDRESS)

    assert log_in(Client(), clerk.username, PASSWORD, address="198.51.100.20").status_code == 302


def test_a_forged_x_forwarded_for_does_not_escape_the_lock(client, clerk):
    for n in range(5):
        log_in(client, clerk.username, f"wrong-{n}", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")

    response = log_in(client, clerk.username, PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.99")

    assert response.status_code == 429


def test_the_lock_ends_after_fifteen_minutes(client, clerk):
    from axes.models import AccessAttempt

    for n in range(5):
        log_in(client, clerk.username, f"wrong-{n}")
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))

    assert log_in(client, clerk.username, PASSWORD).status_code == 302


def test_the_admin_login_is_locked_too(client, clerk):
    for n in range(5):
        client.post(
            "/en/admin/login/",
            {"username": clerk.username, "password": f"wrong-{n}"},
            REMOTE_ADDR=ADDRESS,
        )

    response = client.post(
        "/en/admin/login/", {"username": clerk.username, "password": PASSWORD}, REMOTE_ADDR=ADDRESS
    )

    assert response.status_code == 429


def test_logins_failures_and_the_lockout_are_in_the_audit_trail(client, clerk):
    member = _user("member1")
    log_in(client, member.username, PASSWORD, address="198.51.100.4")
    for n in range(5):
        log_in(Client(), clerk.username, f"wrong-{n}")
    log_in(Client(), clerk.username, PASSWORD)  # refused: locked

    [login] = AuditEvent.objects.filter(action="auth.login")
    failures = list(AuditEvent.objects.filter(action="auth.login_failed"))
    [lockout] = AuditEvent.objects.filter(action="auth.lockout")
    assert login.actor == member
    assert (login.object_type, login.object_id) == ("auth.user", str(member.pk))
    assert login.client_address == "198.51.100.4"
    assert len(failures) == 6
    assert {event.after["username"] for event in failures} == {clerk.username}
    assert {event.client_address for event in failures} == {ADDRESS}
    assert all(event.actor is None for event in failures)
    assert lockout.after == {"username": clerk.username, "failures": 5, "minutes": 15}
    assert lockout.client_address == ADDRESS
    trail = str([event.after for event in AuditEvent.objects.all()])
    assert "wrong-" not in trail and PASSWORD not in trail
