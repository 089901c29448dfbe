"""A commission member's first morning, in headless Chromium: log in, be sent
to set up the second factor, read the key off the page as an authenticator
app would, confirm it, see the recovery codes, reach the dashboard. The
set-up and code pages are photographed at a phone's and a desktop's width
and must not scroll sideways."""

from __future__ import annotations

from base64 import b32decode
from pathlib import Path
from typing import Any

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from selenium.webdriver.common.by import By

from tabulation.models import AuditEvent
from tests.browser.test_commission_browser import check_widths, screenshot_dir
from tests.browser.test_entry_browser import click_and_wait, log_in
from tests.second_factor import current_code
from tests.views.entry_setup import entry_setup

pytestmark = pytest.mark.django_db(transaction=True)


def prove_second_factor(browser: Any, device: TOTPDevice) -> None:
    """On the second factor's page: type the code the member's app shows."""
    assert "/accounts/second-factor/" in browser.current_url
    browser.find_element(By.NAME, "code").send_keys(current_code(device))
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "main button[type=submit]"))


def test_a_member_sets_up_the_second_factor_and_reaches_the_dashboard(
    browser: Any, live_server: Any, transactional_db: Any, tmp_path: Path
) -> None:
    setup = entry_setup(passwords=True)
    shots = screenshot_dir(tmp_path)
    overflows: list[str] = []
    log_in(browser, live_server, setup.member.username)

    browser.get(f"{live_server.url}/en/commission/{setup.election.slug}/")
    assert browser.execute_script("return location.pathname;") == (
        "/en/accounts/second-factor/setup/"
    )
    qr = browser.find_element(By.CSS_SELECTOR, "img.qr")
    assert browser.execute_script("return arguments[0].naturalWidth;", qr) > 100
    check_widths(browser, shots, "second-factor-setup", overflows)

    # The member's app: the key as the page shows it.
    key = browser.find_element(By.CSS_SELECTOR, "code.otp-key").text.replace(" ", "")
    app = TOTP(b32decode(key + "=" * (-len(key) % 8)))
    browser.find_element(By.NAME, "code").send_keys(f"{app.token():06d}")
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "main button[type=submit]"))

    codes = [item.text for item in browser.find_elements(By.CSS_SELECTOR, "ol.recovery-codes code")]
    assert len(codes) == 10 and all(len(code) == 8 for code in codes)
    check_widths(browser, shots, "second-factor-recovery-codes", overflows)
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "main a.button"))
    assert browser.execute_script("return location.pathname;") == (
        f"/en/commission/{setup.election.slug}/"
    )
    assert TOTPDevice.objects.get(user=setup.member).confirmed

    # The next morning: the password, then the code.
    log_in(browser, live_server, setup.member.username)
    browser.get(f"{live_server.url}/en/commission/{setup.election.slug}/")
    check_widths(browser, shots, "second-factor-code", overflows)
    device = TOTPDevice.objects.get(user=setup.member)
    device.tolerance = 2  # the code of the next step: the set-up used this one's
    device.save()
    browser.find_element(By.NAME, "code").send_keys(current_code(device, later=1))
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "main button[type=submit]"))
    assert browser.execute_script("return location.pathname;") == (
        f"/en/commission/{setup.election.slug}/"
    )
    assert list(
        AuditEvent.objects.filter(action__startswith="auth.second_factor")
        .order_by("sequence")
        .values_list("action", flat=True)
    ) == ["auth.second_factor_enrolled", "auth.second_factor_verified"]
    assert overflows == []
