"""An observer types its copy with a photo, and a clerk attaches a scan, on a
phone (420 px) and at 1280 px: the forms work and no page scrolls sideways
(long hashes wrap)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By

from tabulation.models import ObserverCopy, RecordScan
from tabulation.services.observers import observer_accredit
from tests.browser.test_entry_browser import click_and_wait, enter_record, log_in
from tests.factories import UserFactory
from tests.scans import jpeg, png, scan_storage_fixture  # noqa: F401 - fixture
from tests.views.entry_setup import PASSWORD, entry_setup

pytestmark = pytest.mark.django_db(transaction=True)

NO_SIDEWAYS = "return document.documentElement.scrollWidth <= window.innerWidth;"


@pytest.mark.parametrize("width", [420, 1280])
def test_an_observer_types_its_copy_with_a_photo(
    browser: Any, live_server: Any, scan_storage: Path, tmp_path: Path, width: int
) -> None:
    browser.set_window_size(width, 900)
    setup = entry_setup()
    user = UserFactory(username=f"observer-{setup.election.slug}")
    user.set_password(PASSWORD)
    user.save()
    observer_accredit(
        actor=None, user=user, election=setup.election, organisation="CRTA", reason="r"
    )
    photo = tmp_path / "kopija.jpg"
    photo.write_bytes(jpeg(exif=True))

    log_in(browser, live_server, user.username)
    browser.get(f"{live_server.url}/en/observe/{setup.election.slug}/{setup.station.code}/")
    assert browser.execute_script(NO_SIDEWAYS)
    browser.find_element(By.ID, "observe-photo").send_keys(str(photo))
    enter_record(browser, submit="main form button[type=submit]")

    assert "Your copy is stored." in browser.page_source
    assert browser.execute_script(NO_SIDEWAYS)
    copy = ObserverCopy.objects.get()
    assert copy.scan is not None
    assert copy.scan.sha256[:12] in browser.page_source


@pytest.mark.parametrize("width", [420, 1280])
def test_a_clerk_attaches_a_scan_after_the_entry(
    browser: Any, live_server: Any, scan_storage: Path, tmp_path: Path, width: int
) -> None:
    browser.set_window_size(width, 900)
    setup = entry_setup(passwords=True)
    scan = tmp_path / "zapisnik.png"
    scan.write_bytes(png())

    log_in(browser, live_server, setup.clerk1.username)
    browser.get(f"{live_server.url}/en/entry/{setup.election.slug}/{setup.station.code}/")
    enter_record(browser)
    browser.find_element(By.ID, "entry-scan").send_keys(str(scan))
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "#scans button"))

    stored = RecordScan.objects.get()
    assert "The scan is stored." in browser.page_source
    assert stored.sha256 in browser.page_source
    assert browser.execute_script(NO_SIDEWAYS)
