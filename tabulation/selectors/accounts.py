"""Who must prove a second factor, and whether this session has (docs/security.md)."""

from __future__ import annotations

from typing import Any

from django_otp.plugins.otp_totp.models import TOTPDevice

from tabulation.services.decisions import DECIDE_PERMISSION


def second_factor_needed(user: Any) -> bool:
    """Commission members, staff and superusers: a password alone must not
    be enough to take a decision, certify, or change someone's access.
    Clerks are not asked: what they type is checked twice and by the law's
    checks, and a polling board has no phone to spare at 2 a.m."""
    return bool(
        user.is_authenticated
        and user.is_active
        and (user.is_staff or user.is_superuser or user.has_perm(DECIDE_PERMISSION))
    )


def second_factor_enrolled(user: Any) -> bool:
    return TOTPDevice.objects.filter(user_id=user.pk, confirmed=True).exists()


def second_factor_verified(user: Any) -> bool:
    """This session proved the second factor (django-otp's OTPMiddleware
    sets ``is_verified`` from the session)."""
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified and is_verified())
