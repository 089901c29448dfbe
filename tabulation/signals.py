"""Logging in: the lockout backend and the audit of logins.

Every login, every failed login and every lockout is an audit event (house
rule 13 asks it of every change of a user's access; who got in, and who was
kept out, belong to the same trail). The receivers are connected in
`TabulationConfig.ready`.

The lockout itself is django-axes (settings: AXES_*): five failures lock
the account at that address for 15 minutes.
"""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.http import HttpRequest

from tabulation.api.results import client_address
from tabulation.services.audit import audit_append


class LockoutBackend(AxesStandaloneBackend):
    """Axes' backend, which refuses a locked-out login before any password
    is checked, except that an authenticate() without a request is let
    through to the next backend.

    Every login over HTTP passes its request (Django's login views, the
    admin's, DRF's); only the test client's `login()` does not, and axes
    would refuse it outright. With no request there is no address, and so
    no lock by account and address to check.
    """

    def authenticate(self, request: HttpRequest | None, *args: Any, **kwargs: Any) -> None:
        if request is None:
            return None
        return super().authenticate(request, *args, **kwargs)


def _address(request: HttpRequest | None) -> str | None:
    return client_address(request) if request is not None else None


def login_audit(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    # A login over HTTP, through a login view, has a request with a method.
    # The test client's force_login() and login() make up a bare HttpRequest
    # (no method, no address): no one logged in, a test set up a session.
    if request is None or request.method is None:
        return
    audit_append(actor=user, action="auth.login", obj=user, client_address=_address(request))


def login_failed_audit(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    # Django has already masked the password in `credentials`; only the
    # username is kept.
    audit_append(
        actor=None,
        action="auth.login_failed",
        object_type="auth.user",
        after={"username": str(credentials.get("username", ""))},
        client_address=_address(request),
    )


def lockout_audit(
    sender: Any,
    request: HttpRequest | None = None,
    username: str | None = None,
    ip_address: str | None = None,
    **kwargs: Any,
) -> None:
    # Axes signals a lockout again at every attempt while the lock holds;
    # the trail records the moment of locking, and each later attempt as a
    # failed login.
    failures = getattr(request, "axes_failures_since_start", None)
    if failures is not None and failures > settings.AXES_FAILURE_LIMIT:
        return
    audit_append(
        actor=None,
        action="auth.lockout",
        object_type="auth.user",
        after={
            "username": username or "",
            "failures": settings.AXES_FAILURE_LIMIT,
            "minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
        },
        client_address=_address(request) or ip_address,
    )


def connect() -> None:
    user_logged_in.connect(login_audit, dispatch_uid="tabulation.login_audit")
    user_login_failed.connect(login_failed_audit, dispatch_uid="tabulation.login_failed_audit")
    user_locked_out.connect(lockout_audit, dispatch_uid="tabulation.lockout_audit")
