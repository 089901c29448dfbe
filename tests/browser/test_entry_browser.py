import pytest
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.wait import WebDriverWait

from tabulation.models import AcceptedRecord, StationRound
from tests.factories import record_values
from tests.views.entry_setup import PASSWORD, VOTES, entry_setup

pytestmark = pytest.mark.django_db(transaction=True)


def log_in(browser, live_server, username: str) -> None:
    browser.delete_all_cookies()
    browser.get(f"{live_server.url}/en/accounts/login/")
    browser.find_element(By.NAME, "username").send_keys(username)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "main button[type=submit]"))


def click_and_wait(browser, button) -> None:
    """Click, then wait until the next page has replaced this one.

    A marker on the old page's window tells them apart; waiting for the
    button to go stale races with Chromium removing it.
    """
    browser.execute_script("window.oldPage = true;")
    button.click()
    WebDriverWait(browser, 15, ignored_exceptions=(WebDriverException,)).until(
        lambda driver: driver.execute_script(
            "return !window.oldPage && document.readyState === 'complete';"
        )
    )


def enter_record(browser, submit: str = "#entry-submit") -> None:
    for name, value in record_values().items():
        if name == "control_sheet_ok":
            browser.find_element(By.CSS_SELECTOR, "input[name=control_sheet_ok][value=yes]").click()
        else:
            browser.find_element(By.NAME, name).send_keys(str(value))
    for number, votes in VOTES.items():
        browser.find_element(By.NAME, f"votes[{number}]").send_keys(str(votes))
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, submit))


def test_two_clerks_enter_the_same_record_and_the_station_shows_as_accepted(
    browser, live_server, transactional_db
) -> None:
    setup = entry_setup(passwords=True)
    station_url = f"{live_server.url}/en/entry/{setup.election.slug}/{setup.station.code}/"

    log_in(browser, live_server, setup.clerk1.username)
    browser.get(station_url)
    enter_record(browser)
    state = browser.find_element(By.CSS_SELECTOR, ".entry-status [data-state]")
    assert state.get_attribute("data-state") == "first_entry_done"

    log_in(browser, live_server, setup.clerk2.username)
    browser.get(station_url)
    # The sum of the votes is shown as they are typed (progressive enhancement).
    enter_record(browser)

    state = browser.find_element(By.CSS_SELECTOR, ".entry-status [data-state]")
    assert state.get_attribute("data-state") == "accepted"
    browser.get(f"{live_server.url}/en/entry/{setup.election.slug}/")
    listed = browser.find_element(
        By.CSS_SELECTOR, f"tr.state-accepted a[href*='{setup.station.code}']"
    )
    assert listed.text == setup.station.code
    assert StationRound.objects.get(pk=setup.round.pk).status == "accepted"
    assert AcceptedRecord.objects.filter(round=setup.round).count() == 1


def test_the_vote_total_is_summed_while_typing(browser, live_server, transactional_db) -> None:
    setup = entry_setup(passwords=True)
    log_in(browser, live_server, setup.clerk1.username)
    browser.get(f"{live_server.url}/en/entry/{setup.election.slug}/{setup.station.code}/")

    browser.find_element(By.NAME, "votes[1]").send_keys("300")
    browser.find_element(By.NAME, "votes[2]").send_keys("45")

    assert browser.find_element(By.ID, "votes-total").text == "345"
