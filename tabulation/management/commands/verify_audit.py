"""`manage.py verify_audit`: walk the audit chain and prove it unbroken.

Exit status 0 and the head hash when every event is intact; status 1 naming
the first broken event otherwise (docs/audit.md).
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from tabulation.selectors.audit import audit_chain_verify


class Command(BaseCommand):
    help = "Verify the hash chain of the audit trail; exit 1 at the first broken event."

    def handle(self, *args: Any, **options: Any) -> None:
        verification = audit_chain_verify()
        if not verification.ok:
            self.stderr.write(
                f"{verification.count} events verified before the break; "
                f"last good hash {verification.head_hash}"
            )
            raise CommandError(
                f"Audit chain BROKEN at event {verification.broken_sequence}: "
                f"{verification.problem}",
                returncode=1,
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Audit chain OK: {verification.count} "
                f"event{'s' if verification.count != 1 else ''}, head {verification.head_hash}"
            )
        )
