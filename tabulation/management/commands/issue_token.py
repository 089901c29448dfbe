"""`manage.py issue_token USERNAME --reason "..."`: an API token for a
clerk's field app (docs/security.md).

Printed once, on standard output, and never stored anywhere but in the
token table; any earlier token of the user stops working. With --revoke,
the user's token is withdrawn. Both are audit events (auth.token_issued,
auth.token_revoked) naming the user, never the key. Run by whoever holds
the server's shell: the commission's administrator on the command line, so
no web page can hand out a key.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from tabulation.services.accounts import api_token_issue, api_token_revoke
from tabulation.services.records import EntryRefused


class Command(BaseCommand):
    help = "Issue (or revoke) a user's API token; printed once, audited."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--reason", required=True, help="why, for the audit trail")
        parser.add_argument("--revoke", action="store_true", help="withdraw the token instead")

    def handle(self, *args: Any, username: str, reason: str, revoke: bool, **options: Any) -> None:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user {username!r}")
        if not reason.strip():
            raise CommandError("give the reason (--reason), for the audit trail")
        if revoke:
            done = api_token_revoke(None, user, reason=reason)
            self.stdout.write(f"revoked {username}'s token" if done else f"{username} had no token")
            return
        try:
            key = api_token_issue(None, user, reason=reason)
        except EntryRefused as error:
            raise CommandError(str(error)) from error
        self.stdout.write(key)
