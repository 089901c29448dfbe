"""The results page in a real (headless) Chromium: seats, live update, Cyrillic.

``browser`` is the shared headless Chromium of tests/browser/conftest.py.
"""

import random
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tabulation.models import ElectoralList
from tabulation.selectors.published import published_memo_clear
from tabulation.services import tabulation as tabulation_service
from tabulation.services.publishing import snapshot_publish
from tabulation.services.tabulation import tabulation_compute
from tests.browser.test_commission_browser import (
    DESKTOP,
    PHONE,
    WINDOW_HEIGHT,
    check_widths,
    screenshot_dir,
)
from tests.factories_records import random_votes, record_accept
from tests.factories_records import small_election as election_in_database
from tests.published import (  # noqa: F401 - fixtures
    SLUG,
    NoviGrad,
    novi_grad_fixture,
    publish_dir_fixture,
    publish_version_2,
    published_fixture,
    station_enter,
    tabulate_and_publish,
)

pytestmark = pytest.mark.django_db

PAGE = f"/results/{SLUG}/"


def cell(browser: Any, ballot_number: int, figure: str) -> str:
    return browser.find_element(
        By.CSS_SELECTOR, f'tr[data-list="{ballot_number}"] [data-figure="{figure}"]'
    ).text


def test_page_shows_the_seats(browser: Any, live_server: Any, published: Any) -> None:
    browser.get(live_server.url + PAGE)

    assert cell(browser, 1, "seats") == "13"
    assert cell(browser, 4, "seats") == "1"
    assert len(browser.find_elements(By.CSS_SELECTOR, "svg.hemicycle circle")) == 25


def test_page_updates_to_a_new_snapshot_without_reloading(
    browser: Any, live_server: Any, published: Any, novi_grad: NoviGrad
) -> None:
    browser.get(live_server.url + PAGE)
    assert cell(browser, 1, "votes") == "1.580"
    browser.execute_script("window.__marker = 1")

    publish_version_2(novi_grad)

    WebDriverWait(
        browser,
        30,
        poll_frequency=0.25,
        ignored_exceptions=(NoSuchElementException, StaleElementReferenceException),
    ).until(lambda driver: cell(driver, 1, "votes") == "1.910")
    assert browser.execute_script("return window.__marker") == 1  # the same page, not reloaded
    assert "presek 2" in browser.find_element(By.ID, "results-banner").text  # snapshot 2
    assert "1 biračkom mestu" in browser.find_element(By.ID, "results-notes").text


def test_cyrillic_page_shows_cyrillic_names(browser: Any, live_server: Any, published: Any) -> None:
    browser.get(f"{live_server.url}/sr{PAGE}")

    assert browser.find_element(By.TAG_NAME, "h1").text == "Скупштина Новог Града"
    assert "Руска странка" in browser.find_element(By.ID, "results-lists").text
    assert "Вождовац" in browser.find_element(By.ID, "results-municipalities").text


# --- Phone first: both widths ---------------------------------------------------------

LONG_NAMES = [
    "Aleksandar Vučić – Beograd ne sme da stane",
    "Ivica Dačić – premijer Srbije; Toma Fila – gradonačelnik Beograda",
    "Srbija protiv nasilja",
    "Nacionalno okupljanje",
    "Dr Miloš Jovanović – NADA za Beograd",
    "Ruska stranka",
    "Narodna stranka",
    "Za povratak vojske na Kosovo",
    "Dobro jutro Beograde",
    "Stranka pravde i pomirenja",
    "Evropski put",
    "Srbija na Zapadu",
    "Mi – glas iz naroda",
    "Liberalno-demokratska partija",
]
# Where a table sticks out of its box, and where a list's seats stand.
TABLE_WIDTHS = """return [...document.querySelectorAll('table.lists, table.municipalities')]
  .map(table => [table.className, table.scrollWidth, table.parentElement.clientWidth]);"""
SEAT_CELLS_RIGHT = """return [...document.querySelectorAll('table.lists td[data-figure="seats"]')]
  .map(cell => [cell.getBoundingClientRect().width, cell.getBoundingClientRect().right]);"""


@pytest.fixture(name="belgrade_sized")
def belgrade_sized_fixture(publish_dir: Any) -> str:
    """Fourteen lists with the demo's long names and eight municipalities,
    half of them counted: the page a reader sees on election night."""
    with mock.patch.object(tabulation_service, "tabulation_enqueue", return_value=True):
        made = election_in_database(
            municipalities=8, stations_per_municipality=1, lists=14, seats=110, minority=(6, 10)
        )
        for electoral_list, name in zip(made.lists, LONG_NAMES, strict=True):
            ElectoralList.objects.filter(pk=electoral_list.pk).update(name=name)
        rng = random.Random(2023)
        for station in made.stations[:4]:
            record_accept(
                made.rounds[station.code], random_votes(rng, made.lists, station.registered)
            )
    outcome = tabulation_compute(election_id=made.election.pk)
    snapshot_publish(snapshot=outcome.snapshot, stations=outcome.stations)
    published_memo_clear()
    return made.election.slug


def test_results_page_fits_a_phone_and_a_desktop_with_the_seats_in_view(
    browser: Any, live_server: Any, belgrade_sized: str, tmp_path: Path
) -> None:
    browser.get(f"{live_server.url}/results/{belgrade_sized}/")
    problems: list[str] = []

    check_widths(browser, screenshot_dir(tmp_path), "results-page", problems)

    assert problems == []  # no sideways scroll of the page at 420 px or 1280 px
    for width in (PHONE, DESKTOP):
        browser.set_window_size(width, WINDOW_HEIGHT)
        WebDriverWait(browser, 5).until(
            lambda driver, width=width: (
                abs(driver.execute_script("return window.innerWidth;") - width) < 40
            )
        )
        inner_width = browser.execute_script("return window.innerWidth;")
        assert browser.execute_script("return document.documentElement.scrollWidth;") <= inner_width
        # Every list's seats are on screen, without scrolling the table.
        seats = browser.execute_script(SEAT_CELLS_RIGHT)
        assert len(seats) == 14
        assert all(cell_width > 0 and right <= inner_width for cell_width, right in seats), (
            width,
            seats,
        )
        # Both tables fit their box: nothing hides behind a sideways scroll.
        for name, table_width, box_width in browser.execute_script(TABLE_WIDTHS):
            assert table_width <= box_width, (width, name, table_width, box_width)


def test_open_data_and_snapshot_index_fit_a_phone_and_a_desktop(
    browser: Any, live_server: Any, belgrade_sized: str, tmp_path: Path
) -> None:
    problems: list[str] = []

    for name, path in (("open-data", "data/"), ("snapshots", "snapshots/")):
        browser.get(f"{live_server.url}/results/{belgrade_sized}/{path}")
        check_widths(browser, screenshot_dir(tmp_path), name, problems)
        # At the phone's width every snapshot's files stand inside the table's box.
        for table_width, box_width in browser.execute_script(
            "return [...document.querySelectorAll('table.downloads')]"
            ".map(table => [table.scrollWidth, table.parentElement.clientWidth]);"
        ):
            assert table_width <= box_width, (name, table_width, box_width)

    assert problems == []
