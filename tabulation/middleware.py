"""Two guards on every signed-in request (docs/security.md).

``SecondFactorMiddleware``: the commission's pages and the admin are staff
pages; a member or administrator whose session has not proved the second
factor is sent to prove it (or to set it up) first, whatever the URL.
One place, by URL namespace, so a new staff page cannot forget it.

``RefusalAuditMiddleware``: every 403 answered to a signed-in user (a page
or the API, a session or a token) is an audit event: a clerk trying another
municipality's commission page is something the commission should see.

``IdleTimeoutMiddleware``: a session left alone for ``IDLE_TIMEOUT_MINUTES``
ends; the next page asks for the password again. A clerk's laptop left open
in a polling station at 2 a.m. is the case it is for.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext

from tabulation.api.results import client_address
from tabulation.selectors.accounts import (
    second_factor_enrolled,
    second_factor_needed,
    second_factor_verified,
)
from tabulation.services.audit import audit_append

STAFF_NAMESPACES = frozenset({"commission", "admin"})
# The admin's own log-out must work without a second factor.
OPEN_STAFF_VIEWS = frozenset({"admin:logout"})
LAST_SEEN = "last_seen"
# The session is written at most this often just to note activity.
LAST_SEEN_RESOLUTION = 60


class SecondFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Any, args: Any, kwargs: Any
    ) -> HttpResponse | None:
        match = request.resolver_match
        if match is None or not STAFF_NAMESPACES.intersection(match.namespaces):
            return None
        if match.view_name in OPEN_STAFF_VIEWS:
            return None
        user = request.user
        if not second_factor_needed(user) or second_factor_verified(user):
            return None
        page = "second-factor" if second_factor_enrolled(user) else "second-factor-setup"
        return redirect(f"{reverse(page)}?{urlencode({'next': request.get_full_path()})}")


class IdleTimeoutMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(time.time())
            last_seen = request.session.get(LAST_SEEN)
            if last_seen is not None and now - last_seen > settings.IDLE_TIMEOUT_MINUTES * 60:
                return self._signed_out(request, user)
            if last_seen is None or now - last_seen >= LAST_SEEN_RESOLUTION:
                request.session[LAST_SEEN] = now
        return self.get_response(request)

    def _signed_out(self, request: HttpRequest, user: Any) -> HttpResponse:
        audit_append(
            actor=user,
            action="auth.idle_logout",
            obj=user,
            after={"idle_minutes": settings.IDLE_TIMEOUT_MINUTES},
            client_address=client_address(request),
        )
        logout(request)
        if request.path_info.startswith("/api/"):
            # The API answers as to anyone not logged in; no redirect.
            return self.get_response(request)
        messages.info(
            request,
            gettext("You were logged out after {minutes} minutes without activity.").format(
                minutes=settings.IDLE_TIMEOUT_MINUTES
            ),
        )
        return redirect_to_login(request.get_full_path())


class RefusalAuditMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        # After the view: DRF has put a token's user on the request by now.
        user = getattr(request, "user", None)
        if response.status_code == 403 and user is not None and user.is_authenticated:
            audit_append(
                actor=user,
                action="auth.refused",
                obj=user,
                after={"method": request.method, "path": request.path[:300]},
                client_address=client_address(request),
            )
        return response
