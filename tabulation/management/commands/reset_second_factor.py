"""`manage.py reset_second_factor USERNAME --reason "..."`: a member lost
the phone and the recovery codes (docs/security.md).

Removes the user's authenticator and recovery codes; at the next staff page
the user sets up a new one. Audited (auth.second_factor_reset). Only here, on
the server's command line: no web page can take a member's second factor
away, or one stolen administrator session could.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from tabulation.services.accounts import second_factor_reset


class Command(BaseCommand):
    help = "Remove a user's second factor (a lost phone); audited."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--reason", required=True, help="why, for the audit trail")

    def handle(self, *args: Any, username: str, reason: str, **options: Any) -> None:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user {username!r}")
        if not reason.strip():
            raise CommandError("give the reason (--reason), for the audit trail")
        second_factor_reset(None, user, reason=reason)
        self.stdout.write(f"{username}'s second factor removed; a new one is set up at next login")
