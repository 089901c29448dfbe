"""The second factor's pages: set up an authenticator, then prove it once
per session (docs/security.md). Thin: the services in services/accounts.py
do the work and the auditing."""

from __future__ import annotations

from typing import Any

import segno
from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from tabulation.api.results import client_address
from tabulation.selectors.accounts import (
    second_factor_enrolled,
    second_factor_needed,
    second_factor_verified,
)
from tabulation.services.accounts import (
    SecondFactorRefused,
    recovery_codes_left,
    second_factor_verify,
    totp_device_pending,
    totp_enrol,
)
from tabulation.services.records import EntryRefused


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=20,
        help_text=_("Six digits from your authenticator app, or one of your recovery codes."),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false"}
        ),
    )


def _next(request: HttpRequest) -> str:
    """Where to go once verified: the page that sent the user here, if it is ours."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("commission:home")


def _refusal(error: EntryRefused) -> str:
    return gettext(error.message).format(**error.params)


@login_required
def second_factor(request: HttpRequest) -> HttpResponse:
    """Prove the second factor for this session."""
    user = request.user
    if not second_factor_needed(user) or second_factor_verified(user):
        return redirect(_next(request))
    if not second_factor_enrolled(user):
        return redirect(f"{reverse('second-factor-setup')}?next={_next(request)}")
    form = CodeForm(request.POST or None)
    if form.is_valid():
        try:
            second_factor_verify(
                request, user, form.cleaned_data["code"], client_address=client_address(request)
            )
        except SecondFactorRefused as error:
            form.add_error("code", _refusal(error))
        else:
            return redirect(_next(request))
    return render(
        request,
        "registration/second_factor.html",
        {"form": form, "next": _next(request), "recovery_left": recovery_codes_left(user)},
        status=200 if request.method == "GET" or form.is_valid() else 400,
    )


@login_required
def second_factor_setup(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator: scan the code (or type the key), confirm it
    with the code it shows, and write down the recovery codes shown once."""
    user = request.user
    if not second_factor_needed(user) or second_factor_enrolled(user):
        return redirect(f"{reverse('second-factor')}?next={_next(request)}")
    device = totp_device_pending(user)  # type: ignore[arg-type]
    form = CodeForm(request.POST or None)
    if form.is_valid():
        try:
            codes = totp_enrol(
                request,
                user,  # type: ignore[arg-type]
                form.cleaned_data["code"],
                client_address=client_address(request),
            )
        except EntryRefused as error:
            form.add_error("code", _refusal(error))
        else:
            return render(
                request,
                "registration/recovery_codes.html",
                {"codes": codes, "next": _next(request)},
            )
    context: dict[str, Any] = {
        "form": form,
        "next": _next(request),
        "qr": segno.make(device.config_url, error="m").svg_data_uri(scale=5, border=2),
        # The key as an app asks for it when typed: base32, in groups of four.
        "key": " ".join(_groups(_base32(device.bin_key), 4)),
    }
    return render(
        request,
        "registration/second_factor_setup.html",
        context,
        status=200 if request.method == "GET" else 400,
    )


def _base32(key: bytes) -> str:
    from base64 import b32encode

    return b32encode(key).decode("ascii").rstrip("=")


def _groups(text: str, size: int) -> list[str]:
    return [text[start : start + size] for start in range(0, len(text), size)]
