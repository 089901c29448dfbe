"""Signing in as a member or administrator who has proved the second factor.

Staff pages and decisions need it (tabulation/middleware.py,
api/decisions.py); tests that are about something else sign in with it
done, as a member would be after the morning's first login.
"""

from __future__ import annotations

import time
from typing import Any

from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient


def authenticator(user: Any) -> TOTPDevice:
    """The user's confirmed authenticator, set up if it is not yet."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)


def current_code(device: TOTPDevice, *, later: int = 0) -> str:
    """The code the user's app shows now (``later`` steps on: a code works
    once, and the next one is valid within the device's tolerance)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + later * device.step
    return f"{totp.token():0{device.digits}d}"


def verified_login(client: Client, user: Any) -> Client:
    """``client`` signed in as ``user``, the session's second factor proved."""
    device = authenticator(user)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def next_code(device: TOTPDevice) -> str:
    """A code the device has not accepted yet: the current step's, or the
    one after the last used (within the device's tolerance)."""
    device.refresh_from_db()
    now = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).t()
    return current_code(device, later=max(0, device.last_t + 1 - now))


class SecondFactorAPIClient(APIClient):
    """An API client for a member's token that sends a fresh authenticator
    code (``X-OTP``) with every request, as a member's tool would.

    The test device accepts codes a few steps ahead, so several decisions
    within one 30-second step each find an unused code."""

    def __init__(self, user: Any, **defaults: Any) -> None:
        super().__init__(**defaults)
        self.device = authenticator(user)
        self.device.tolerance = 50
        self.device.save(update_fields=["tolerance"])
        token, _created = Token.objects.get_or_create(user=user)
        self.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

    def generic(self, method: str, path: str, *args: Any, **extra: Any) -> Any:
        extra.setdefault("HTTP_X_OTP", next_code(self.device))
        return super().generic(method, path, *args, **extra)
