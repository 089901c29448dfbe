"""Accounts: the second factor of commission members and administrators,
and clerks' API tokens (docs/security.md).

A member's or an administrator's one click can change the official result
or someone's access, so a stolen password alone must not be enough: they
prove a second factor (a TOTP code from an authenticator app, or one of ten
single-use recovery codes) once per session before any staff page, decision
or certification. django-otp keeps the devices and throttles guessing (each
wrong code doubles the wait before the next is tried).

Every enrolment, every verification, failed or not, every reset and every
token issued is an audit event.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, User
from django.db import transaction
from django.http import HttpRequest
from django_otp import login as otp_login
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token

from tabulation.domain.i18n import _
from tabulation.services.audit import audit_append
from tabulation.services.records import EntryRefused, NotPermitted

RECOVERY_CODES = 10
AUTHENTICATOR = "authenticator"
RECOVERY = "recovery"


class SecondFactorRefused(EntryRefused):
    """A code that does not verify; nothing changed but the throttle."""

    code = "second_factor"


def totp_device_pending(user: User) -> TOTPDevice:
    """The authenticator being set up: the same secret on every reload of the
    set-up page until it is confirmed."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False, name=AUTHENTICATOR).first()
    return device or TOTPDevice.objects.create(user=user, name=AUTHENTICATOR, confirmed=False)


def totp_enrol(
    request: HttpRequest, user: User, code: str, *, client_address: str | None = None
) -> list[str]:
    """Confirm the pending authenticator with a code it shows, create the
    recovery codes and return them (shown once, never stored in clear
    anywhere else). The session counts as verified from now on."""
    with transaction.atomic():
        if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
            raise NotPermitted(
                _("A second factor is already set up; a superuser can reset it if it is lost.")
            )
        device = (
            TOTPDevice.objects.select_for_update()
            .filter(user=user, confirmed=False, name=AUTHENTICATOR)
            .first()
        )
        if device is None or not device.verify_token(_digits(code)):
            raise SecondFactorRefused(
                _("That code is not right or has expired: type the code the app shows now.")
            )
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = _recovery_codes_replace(user)
        audit_append(
            actor=user,
            action="auth.second_factor_enrolled",
            obj=user,
            after={"device": AUTHENTICATOR, "recovery_codes": len(codes)},
            client_address=client_address,
        )
    otp_login(request, device)
    return codes


def second_factor_verify(
    request: HttpRequest, user: User, code: str, *, client_address: str | None = None
) -> None:
    """Verify this session with an authenticator code or a recovery code (a
    recovery code works once). ``SecondFactorRefused`` when neither fits."""
    device = _device_matching(user, code)
    kind = None if device is None else device.name
    audit_append(
        actor=user,
        action="auth.second_factor_verified" if device else "auth.second_factor_failed",
        obj=user,
        after={"device": kind} if kind else None,
        client_address=client_address,
    )
    if device is None:
        raise SecondFactorRefused(
            _(
                "That code is not right or has expired. Type the code your authenticator app "
                "shows now, or one of your recovery codes."
            )
        )
    otp_login(request, device)


def second_factor_code_matches(user: AbstractBaseUser, code: str) -> bool:
    """For a request that carries no session (an API token): a current
    authenticator code for ``user``, checked and used up."""
    return isinstance(_device_matching(user, code, recovery=False), TOTPDevice)


def recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__name=RECOVERY).count()


@transaction.atomic
def second_factor_reset(actor: User | None, user: User, *, reason: str) -> None:
    """Remove a user's authenticator and recovery codes (a lost phone). The
    user sets a new one up at the next staff page. Only from the command line
    (``manage.py reset_second_factor``): no page can take a member's factor
    away, or a stolen administrator session could."""
    removed = TOTPDevice.objects.filter(user=user).delete()[0]
    StaticDevice.objects.filter(user=user).delete()
    audit_append(
        actor=actor,
        action="auth.second_factor_reset",
        obj=user,
        before={"devices": removed},
        reason=reason,
    )


@transaction.atomic
def api_token_issue(actor: User | None, user: User, *, reason: str) -> str:
    """A new API token for ``user`` (a clerk's field app); any earlier token
    of the user stops working. The key is returned once and never audited:
    the trail is public to observers, a key in it would be a key for all."""
    if not user.is_active:
        raise NotPermitted(_("The account {username} is not active."), username=user.username)
    replaced = Token.objects.filter(user=user).delete()[0] > 0
    token = Token.objects.create(user=user)
    audit_append(
        actor=actor,
        action="auth.token_issued",
        obj=user,
        after={"username": user.username, "replaced": replaced},
        reason=reason,
    )
    return str(token.key)


@transaction.atomic
def api_token_revoke(actor: User | None, user: User, *, reason: str) -> bool:
    revoked = Token.objects.filter(user=user).delete()[0] > 0
    if revoked:
        audit_append(
            actor=actor,
            action="auth.token_revoked",
            obj=user,
            after={"username": user.username},
            reason=reason,
        )
    return revoked


def _recovery_codes_replace(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def _device_matching(user: AbstractBaseUser, code: str, *, recovery: bool = True) -> Device | None:
    """The confirmed device of ``user`` that accepts ``code``, which it then
    uses up: six digits are an authenticator's code, anything else a
    recovery code. Each device throttles its own wrong guesses."""
    typed = _digits(code)
    if typed.isdigit() and len(typed) == 6:
        devices: Any = TOTPDevice.objects.filter(user=user, confirmed=True)
    elif recovery and typed:
        devices, typed = StaticDevice.objects.filter(user=user, confirmed=True), typed.lower()
    else:
        return None
    with transaction.atomic():
        for device in devices.select_for_update():
            if device.verify_token(typed):
                return device  # type: ignore[no-any-return]
    return None


def _digits(code: str) -> str:
    # Authenticator apps show "123 456"; people type it with the space.
    return "".join((code or "").split())
