"""The fingerprint on the results page and a municipality's page, in a real
(headless) Chromium at 420 px and 1280 px: the drawing fits the screen, no
page scrolls sideways, and a flagged station's link leads to its page."""

from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By

from tests.browser.test_commission_browser import check_widths, screenshot_dir
from tests.published import SLUG, publish, publish_dir_fixture  # noqa: F401 - fixture
from tests.views.test_fingerprint import stuffed_election

pytestmark = pytest.mark.django_db

# The drawing's box and the window: the drawing must be drawn, and fit.
DRAWING = """const box = document.querySelector('svg.fingerprint').getBoundingClientRect();
return [box.width, box.right, window.innerWidth];"""


@pytest.mark.parametrize("path", ["", "municipalities/vozdovac/"])
def test_the_fingerprint_fits_a_phone_and_a_desktop(
    browser: Any, live_server: Any, publish_dir: Path, tmp_path: Path, path: str
) -> None:
    publish(*stuffed_election())
    browser.get(f"{live_server.url}/en/results/{SLUG}/{path}")
    problems: list[str] = []

    name = "fingerprint-" + (path.strip("/").replace("/", "-") or "election")
    check_widths(browser, screenshot_dir(tmp_path), name, problems)

    assert problems == []
    width, right, inner_width = browser.execute_script(DRAWING)
    assert width > 200 and right <= inner_width  # at the phone's width check_widths leaves
    squares = browser.find_elements(By.CSS_SELECTOR, "svg.fingerprint rect[data-stations]")
    assert len(squares) == (4 if path == "" else 2)


def test_a_station_in_the_corner_links_to_its_page(
    browser: Any, live_server: Any, publish_dir: Path
) -> None:
    publish(*stuffed_election())
    browser.get(f"{live_server.url}/en/results/{SLUG}/")

    browser.find_element(By.CSS_SELECTOR, 'tr[data-station="vozdovac-002"] a').click()

    assert browser.current_url.endswith(f"/en/results/{SLUG}/stations/vozdovac-002/")
    assert "vozdovac-002" in browser.page_source
