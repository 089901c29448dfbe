"""`manage.py accredit_observer USERNAME --election SLUG (--list N |
--organisation NAME) --reason "..."`: make a user an observer of one
election, for an electoral list or an accredited organisation
(docs/observers.md).

A missing user is created without a password (set one with
``manage.py changepassword``); a user who holds another role is refused.
An audit event (observer.accredit). Then ``manage.py issue_token`` gives
the observer a key for the API.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from tabulation.models import Election, ElectoralList
from tabulation.services.observers import observer_accredit


class Command(BaseCommand):
    help = "Accredit an observer of an election, for a list or an organisation; audited."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--election", required=True, help="the election's slug")
        body = parser.add_mutually_exclusive_group(required=True)
        body.add_argument("--list", type=int, dest="ballot_number", help="the list's ballot number")
        body.add_argument("--organisation", default="", help="the accredited organisation")
        parser.add_argument("--reason", required=True, help="why, for the audit trail")

    def handle(
        self,
        *args: Any,
        username: str,
        election: str,
        ballot_number: int | None,
        organisation: str,
        reason: str,
        **options: Any,
    ) -> None:
        if not reason.strip():
            raise CommandError("give the reason (--reason), for the audit trail")
        found = Election.objects.filter(slug=election).first()
        if found is None:
            raise CommandError(f"no election {election!r}")
        electoral_list = None
        if ballot_number is not None:
            electoral_list = ElectoralList.objects.filter(
                election=found, ballot_number=ballot_number
            ).first()
            if electoral_list is None:
                raise CommandError(f"no list {ballot_number} on the ballot of {election}")
        user, created = get_user_model().objects.get_or_create(username=username)
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        try:
            observer_accredit(
                actor=None,
                user=user,
                election=found,
                electoral_list=electoral_list,
                organisation=organisation,
                reason=reason,
            )
        except ValueError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"{username} observes {election} for {observer_body(electoral_list, organisation)}"
        )


def observer_body(electoral_list: ElectoralList | None, organisation: str) -> str:
    return f"list {electoral_list.ballot_number}" if electoral_list else organisation
