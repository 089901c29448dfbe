"""The results page in a real (headless) Chromium: seats, live update, Cyrillic.

``browser`` is the shared headless Chromium of tests/browser/conftest.py.
"""

from typing import Any

from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.published import (  # noqa: F401 - fixtures
    SLUG,
    publish,
    publish_dir_fixture,
    published_fixture,
    small_election,
)

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
    browser: Any, live_server: Any, published: Any
) -> None:
    browser.get(live_server.url + PAGE)
    assert cell(browser, 1, "votes") == "1.580"
    browser.execute_script("window.__marker = 1")

    publish(*small_election(2))

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
