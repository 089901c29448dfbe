"""The second factor of members and administrators, and the idle time-out.

A member or administrator proves a TOTP code (or a recovery code, once)
before any staff page; a clerk is never asked. Each step is an audit event.
A session left idle for IDLE_TIMEOUT_MINUTES ends.
"""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token

from tabulation.middleware import LAST_SEEN
from tabulation.models import AuditEvent
from tests.second_factor import authenticator, current_code, next_code, verified_login
from tests.views.entry_setup import PASSWORD, EntrySetup, entry_setup

pytestmark = pytest.mark.django_db

SETUP = "/en/accounts/second-factor/setup/"
VERIFY = "/en/accounts/second-factor/"


@pytest.fixture
def setup() -> EntrySetup:
    return entry_setup(passwords=True)


def password_login(user: Any) -> Client:
    client = Client()
    response = client.post("/en/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def actions(user: Any) -> list[str]:
    return list(
        AuditEvent.objects.filter(object_id=str(user.pk), action__startswith="auth.")
        .order_by("sequence")
        .values_list("action", flat=True)
    )


def test_a_member_without_an_authenticator_is_sent_to_set_one_up_and_gets_recovery_codes(
    setup: EntrySetup,
) -> None:
    client = password_login(setup.member)
    dashboard = f"/en/commission/{setup.election.slug}/"

    first = client.get(dashboard)
    assert first.status_code == 302
    assert first["Location"].startswith(SETUP)
    html = client.get(first["Location"]).content.decode()
    assert 'src="data:image/svg+xml' in html
    key = re.search(r'<code class="otp-key">([A-Z2-7 ]+)</code>', html).group(1)
    device = TOTPDevice.objects.get(user=setup.member, confirmed=False)
    assert key.replace(" ", "") == __import__("base64").b32encode(device.bin_key).decode().rstrip(
        "="
    )

    wrong = client.post(SETUP, {"code": "000000" if current_code(device) != "000000" else "1"})
    assert wrong.status_code == 400
    assert "not right" in wrong.content.decode()
    assert client.get(dashboard).status_code == 302

    device.refresh_from_db()
    device.throttling_failure_count = 0  # the wrong code's wait, which is tested elsewhere
    device.throttling_failure_timestamp = None
    device.save()
    codes_page = client.post(SETUP, {"code": current_code(device), "next": dashboard})
    assert codes_page.status_code == 200
    codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", codes_page.content.decode())
    assert len(codes) == 10
    assert sorted(codes) == sorted(
        StaticToken.objects.filter(device__user=setup.member).values_list("token", flat=True)
    )
    assert f'href="{dashboard}"' in codes_page.content.decode()
    assert client.get(dashboard).status_code == 200
    assert actions(setup.member)[-1] == "auth.second_factor_enrolled"
    # Set up once: the set-up page cannot be used again to replace it.
    assert client.get(SETUP)["Location"].startswith(VERIFY)


def test_a_member_with_an_authenticator_proves_it_at_each_login(setup: EntrySetup) -> None:
    device = authenticator(setup.member)
    client = password_login(setup.member)
    dashboard = f"/en/commission/{setup.election.slug}/"

    redirected = client.get(dashboard)
    assert redirected["Location"] == f"{VERIFY}?next=%2Fen%2Fcommission%2F{setup.election.slug}%2F"
    assert client.post(VERIFY, {"code": "12 34 5", "next": dashboard}).status_code == 400
    response = client.post(VERIFY, {"code": current_code(device), "next": dashboard})
    assert response.status_code == 302
    assert response["Location"] == dashboard
    assert client.get(dashboard).status_code == 200
    assert actions(setup.member)[-2:] == [
        "auth.second_factor_failed",
        "auth.second_factor_verified",
    ]

    # Logging in again starts a new session: the factor is asked again.
    again = password_login(setup.member)
    assert again.get(dashboard).status_code == 302


def test_a_recovery_code_works_once(setup: EntrySetup) -> None:
    authenticator(setup.member)
    from tabulation.services.accounts import _recovery_codes_replace

    code = _recovery_codes_replace(setup.member)[0]
    first = password_login(setup.member)
    assert first.post(VERIFY, {"code": code.upper()}).status_code == 302
    second = password_login(setup.member)
    assert second.post(VERIFY, {"code": code}).status_code == 400
    assert StaticToken.objects.filter(device__user=setup.member).count() == 9


def test_the_next_page_after_the_factor_is_never_another_site(setup: EntrySetup) -> None:
    device = authenticator(setup.member)
    client = password_login(setup.member)

    response = client.post(VERIFY, {"code": current_code(device), "next": "https://evil.example/"})

    assert response["Location"] == "/en/commission/"


def test_the_admin_needs_the_second_factor_but_its_log_out_does_not(setup: EntrySetup) -> None:
    administrator = setup.member
    administrator.is_superuser = True
    administrator.save()
    authenticator(administrator)
    client = password_login(administrator)

    assert client.get("/en/admin/")["Location"].startswith(VERIFY)
    assert client.get("/en/admin/auth/user/")["Location"].startswith(VERIFY)
    assert client.post("/en/admin/logout/").status_code in (200, 302)
    assert "_auth_user_id" not in client.session


def test_a_clerk_is_never_asked_for_a_second_factor(setup: EntrySetup) -> None:
    client = password_login(setup.clerk1)

    assert client.get(f"/en/entry/{setup.election.slug}/").status_code == 200
    assert client.get(f"/en/commission/{setup.election.slug}/").status_code == 403
    assert client.get(VERIFY)["Location"] == "/en/commission/"


def test_a_session_idle_for_the_time_out_ends(setup: EntrySetup, settings: Any) -> None:
    settings.IDLE_TIMEOUT_MINUTES = 30
    client = password_login(setup.clerk1)
    stations = f"/en/entry/{setup.election.slug}/"
    assert client.get(stations).status_code == 200

    session = client.session
    session[LAST_SEEN] = int(time.time()) - 29 * 60
    session.save()
    assert client.get(stations).status_code == 200

    session = client.session
    session[LAST_SEEN] = int(time.time()) - 31 * 60
    session.save()
    response = client.get(stations)
    assert response.status_code == 302
    assert response["Location"] == f"/en/accounts/login/?next={stations}"
    assert "_auth_user_id" not in client.session
    assert actions(setup.clerk1)[-1] == "auth.idle_logout"
    assert "30 minutes without activity" in client.get(response["Location"]).content.decode()


def test_issue_token_prints_a_new_key_once_and_audits_it_without_the_key(
    setup: EntrySetup, capsys: Any
) -> None:
    call_command("issue_token", setup.clerk1.username, reason="field app, Zemun 12")
    first = capsys.readouterr().out.strip()
    call_command("issue_token", setup.clerk1.username, reason="lost tablet")
    second = capsys.readouterr().out.strip()

    assert Token.objects.get(user=setup.clerk1).key == second != first
    events = AuditEvent.objects.filter(action="auth.token_issued").order_by("sequence")
    assert [event.after["replaced"] for event in events] == [False, True]
    assert [event.reason for event in events] == ["field app, Zemun 12", "lost tablet"]
    assert not AuditEvent.objects.filter(after__icontains=second).exists()

    call_command("issue_token", setup.clerk1.username, reason="end of night", revoke=True)
    assert not Token.objects.filter(user=setup.clerk1).exists()
    assert AuditEvent.objects.filter(action="auth.token_revoked").count() == 1
    with pytest.raises(CommandError, match="no user 'nobody'"):
        call_command("issue_token", "nobody", reason="x")


def test_reset_second_factor_removes_the_devices_and_is_audited(setup: EntrySetup) -> None:
    device = authenticator(setup.member)
    verified = verified_login(Client(), setup.member)
    assert next_code(device)

    call_command("reset_second_factor", setup.member.username, reason="lost phone")

    assert not TOTPDevice.objects.filter(user=setup.member).exists()
    assert actions(setup.member)[-1] == "auth.second_factor_reset"
    # The session that proved the removed device is no longer verified.
    assert verified.get(f"/en/commission/{setup.election.slug}/")["Location"].startswith(SETUP)


def test_demo_code_prints_the_code_the_page_accepts_only_in_debug(
    setup: EntrySetup, settings: Any, capsys: Any
) -> None:
    settings.DEBUG = True
    call_command("demo_code", setup.member.username)
    code = capsys.readouterr().out.strip()
    client = password_login(setup.member)

    assert client.post(VERIFY, {"code": code})["Location"] == "/en/commission/"
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG is off"):
        call_command("demo_code", setup.member.username)
    settings.DEBUG = True
    with pytest.raises(CommandError, match="needs no second factor"):
        call_command("demo_code", setup.clerk1.username)


def test_every_refusal_of_a_signed_in_user_is_an_audit_event(setup: EntrySetup) -> None:
    from tests.second_factor import SecondFactorAPIClient

    page = password_login(setup.clerk1).get(f"/en/commission/{setup.election.slug}/")
    api = SecondFactorAPIClient(setup.member)
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=setup.clerk2).key}")
    decision = api.post(
        f"/api/v1/elections/{setup.election.slug}/stations/{setup.station.code}/decisions/",
        {"kind": "annul"},
        format="json",
    )
    anonymous = Client().get(f"/en/commission/{setup.election.slug}/")

    assert (page.status_code, decision.status_code, anonymous.status_code) == (403, 403, 302)
    refused = AuditEvent.objects.filter(action="auth.refused").order_by("sequence")
    assert [
        (event.actor_username, event.after["method"], event.after["path"]) for event in refused
    ] == [
        (setup.clerk1.username, "GET", f"/en/commission/{setup.election.slug}/"),
        (
            setup.clerk2.username,
            "POST",
            f"/api/v1/elections/{setup.election.slug}/stations/{setup.station.code}/decisions/",
        ),
    ]
