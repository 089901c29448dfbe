"""`manage.py load_demo`: load the Belgrade 2023 demo election (idempotent)
and print the demo logins (tabulation/demo/README.md)."""

import textwrap
from collections import defaultdict
from typing import Any

from django.core.management.base import BaseCommand

from tabulation.demo.load import demo_election_load
from tabulation.management.commands.import_election import describe_counts, write_warnings


class Command(BaseCommand):
    help = "Load the demo election (Belgrade City Assembly, 17 December 2023) and print logins."

    def handle(self, *args: Any, **options: Any) -> None:
        demo = demo_election_load()
        result = demo.result
        write_warnings(self, result)
        if result.outcome == "unchanged":
            self.stdout.write(f'The demo election "{result.slug}" is already loaded.')
        else:
            self.stdout.write(
                self.style.SUCCESS(
                    f'Loaded the demo election "{result.slug}": {describe_counts(result)}.'
                )
            )
        by_role: dict[str, list[str]] = defaultdict(list)
        for login in demo.logins:
            label = f"{login.username} ({login.assignment})" if login.assignment else login.username
            by_role[login.role].append(label)
        self.stdout.write(f'Demo logins, every password is "{demo.password}":')
        for role, labels in by_role.items():
            text = f"{role} ({len(labels)}): {', '.join(labels)}"
            self.stdout.write(
                textwrap.fill(text, width=100, initial_indent="  ", subsequent_indent="    ")
            )
