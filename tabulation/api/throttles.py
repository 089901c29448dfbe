"""Rate limits of the writing APIs (README "Rate limits").

The same sliding-window counter as the public read API's
(``PublicReadThrottle``), keyed by the user, so a clerk's field app behind a
polling station's shared address is limited on its own account. Generous
for people: a clerk types a record in minutes, a member decides in
seconds; the limits stop a runaway script or a stolen token, not the night.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse

from tabulation.api.results import PublicReadThrottle, client_network


class _PerUserThrottle(PublicReadThrottle):
    def get_cache_key(self, request: Any, view: Any) -> str:
        # By username, which is never reused; a primary key may be, after a
        # rolled-back insert, and would inherit a stranger's count.
        user = request.user
        ident = (
            f"user-{user.get_username()}"
            if user is not None and user.is_authenticated
            else f"address-{client_network(request) or 'unknown'}"
        )
        return f"throttle-{self.scope}-{ident}"


class EntryThrottle(_PerUserThrottle):
    scope = "entry"
    rate = "120/min"


class DecisionThrottle(_PerUserThrottle):
    scope = "decisions"
    rate = "60/min"


TOO_MANY = OpenApiResponse(
    description="Too many requests from this user (or client address); see Retry-After."
)
