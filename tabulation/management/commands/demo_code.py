"""`manage.py demo_code USERNAME`: the current second-factor code of a demo
account, for someone trying the demo without an authenticator app at hand.

Only with DEBUG on (the embedded default, `make demo`): in production the
only way to a member's code is the member's phone. If the account has no
authenticator yet, one is set up, as the set-up page would.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tabulation.selectors.accounts import second_factor_needed
from tabulation.services.accounts import AUTHENTICATOR


class Command(BaseCommand):
    help = "Print a demo account's current second-factor code (DEBUG only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, username: str, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("demo_code is for the demo only: it refuses when DEBUG is off")
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user {username!r}")
        if not second_factor_needed(user):
            raise CommandError(f"{username} needs no second factor")
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if device is None:
            TOTPDevice.objects.filter(user=user).delete()
            device = TOTPDevice.objects.create(user=user, name=AUTHENTICATOR, confirmed=True)
        code = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token()
        self.stdout.write(f"{code:0{device.digits}d}")
