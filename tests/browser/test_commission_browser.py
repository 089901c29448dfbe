"""The commission's pages in a real (headless) Chromium, as a member uses them.

A station is held on R1 (two clerks typed the same record, with more ballots
in the box than voters who turned out). The member finds it from the home
page through the dashboard's "held" queue, annuls it and orders the repeat
vote; the clerks type round 2 through the entry form; the tabulation counts
round 2, never round 1. On the way, the dashboard and the station page are
photographed at a phone's and a desktop's width and must not scroll sideways.

``browser`` is the shared headless Chromium of tests/browser/conftest.py.
"""

from __future__ import annotations

import base64
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from tabulation.models import AcceptedRecord, StationRound
from tabulation.services.tabulation import tabulation_run
from tests.browser.test_entry_browser import click_and_wait, log_in
from tests.factories import record_values
from tests.published import publish_dir_fixture  # noqa: F401 - fixture
from tests.second_factor import authenticator
from tests.views.entry_setup import entry_setup, submit

pytestmark = pytest.mark.django_db(transaction=True)

REPEAT_VOTES = {1: 260, 2: 240, 3: 88}  # round 2: valid ballots 588, as record_values()
ROUND_1_TURNED_OUT = 590  # fewer than the 600 ballots in the box: R1
PHONE, DESKTOP = 420, 1280
WINDOW_HEIGHT = 900

# The elements that stick out past the right edge of the viewport and are not
# inside a box that scrolls or clips them: what makes the page scroll sideways.
OVERFLOWING_ELEMENTS = """
const width = window.innerWidth;
function clipped(element) {
  let node = element.parentElement;
  for (; node && node !== document.body; node = node.parentElement) {
    if (getComputedStyle(node).overflowX !== 'visible') return true;
  }
  return false;
}
const found = [];
for (const element of document.body.querySelectorAll('*')) {
  const box = element.getBoundingClientRect();
  if (box.width === 0 || box.right <= width + 0.5 || clipped(element)) continue;
  let name = element.tagName.toLowerCase();
  if (element.id) name += '#' + element.id;
  if (element.className && typeof element.className === 'string')
    name += '.' + element.className.trim().split(/\\s+/).join('.');
  const parent = element.closest('section[id], details[id], form, table');
  found.push(name + ' right=' + Math.round(box.right) + ' width=' + Math.round(box.width)
    + (parent && parent !== element ? ' in ' + parent.tagName.toLowerCase()
       + (parent.id ? '#' + parent.id : '') : '')
    + ' "' + (element.textContent || '').trim().slice(0, 40) + '"');
}
return found.slice(0, 15);
"""


def screenshot_dir(tmp_path: Path) -> Path:
    """$VAR_DIR/screenshots when VAR_DIR is set, else the test's tmp folder:
    never inside the repository."""
    folder = Path(os.environ["VAR_DIR"]) if os.environ.get("VAR_DIR") else tmp_path
    folder = folder / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def full_page_screenshot(browser: Any, path: Path) -> None:
    """The whole page, not only the viewport (Chromium's DevTools protocol)."""
    height = browser.execute_script(
        "return Math.max(document.documentElement.scrollHeight, document.body.scrollHeight);"
    )
    width = browser.execute_script("return window.innerWidth;")
    shot = browser.execute_cdp_cmd(
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1},
        },
    )
    path.write_bytes(base64.b64decode(shot["data"]))


def check_widths(browser: Any, folder: Path, name: str, problems: list[str]) -> list[Path]:
    """Photograph the page at both widths and note in ``problems`` where it
    overflows (the test asserts none at its end, so that one run reports
    every page). Leaves the window at the phone's width, as conftest.py
    starts it."""
    paths = []
    for width in (PHONE, DESKTOP):
        browser.set_window_size(width, WINDOW_HEIGHT)
        WebDriverWait(browser, 5).until(
            lambda driver, width=width: (
                abs(driver.execute_script("return window.innerWidth;") - width) < 40
            )
        )
        path = folder / f"{name}-{width}.png"
        full_page_screenshot(browser, path)
        paths.append(path)
        scroll_width, inner_width = browser.execute_script(
            "return [document.documentElement.scrollWidth, window.innerWidth];"
        )
        if scroll_width > inner_width:
            culprits = browser.execute_script(OVERFLOWING_ELEMENTS)
            problems.append(
                f"{name} at {width} px: scrollWidth {scroll_width} > innerWidth {inner_width}; "
                f"sticking out: {culprits}"
            )
    browser.set_window_size(PHONE, WINDOW_HEIGHT)
    WebDriverWait(browser, 5).until(
        lambda driver: driver.execute_script("return window.innerWidth;") == PHONE
    )
    return paths


def enter_record(browser: Any, votes: dict[int, int]) -> None:
    """Type record_values() and ``votes`` into the entry form and store it."""
    for name, value in record_values().items():
        if name == "control_sheet_ok":
            browser.find_element(By.CSS_SELECTOR, "input[name=control_sheet_ok][value=yes]").click()
        else:
            browser.find_element(By.NAME, name).send_keys(str(value))
    for number, count in votes.items():
        browser.find_element(By.NAME, f"votes[{number}]").send_keys(str(count))
    click_and_wait(browser, browser.find_element(By.ID, "entry-submit"))


def click_link(browser: Any, selector: str) -> None:
    """Click a link the dashboard's live refresh may replace under us."""
    WebDriverWait(browser, 10, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda driver: driver.find_element(By.CSS_SELECTOR, selector).is_displayed()
    )
    for _attempt in range(3):
        try:
            click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, selector))
            return
        except StaleElementReferenceException:
            continue
    raise AssertionError(f"{selector} kept being replaced")


def figure(browser: Any, ballot_number: int, name: str) -> str:
    return browser.find_element(
        By.CSS_SELECTOR, f'tr[data-list="{ballot_number}"] [data-figure="{name}"]'
    ).text


def test_member_annuls_a_held_station_and_round_two_is_counted(
    browser: Any, live_server: Any, transactional_db: Any, publish_dir: Path, tmp_path: Path
) -> None:
    setup = entry_setup(passwords=True)
    slug, code = setup.election.slug, setup.station.code
    submit(setup, setup.clerk1, turned_out=ROUND_1_TURNED_OUT)
    submit(setup, setup.clerk2, turned_out=ROUND_1_TURNED_OUT)
    assert StationRound.objects.get(pk=setup.round.pk).status == "held"
    shots = screenshot_dir(tmp_path)
    overflows: list[str] = []

    # The member logs in and lands on the home page; from there only links,
    # and the code of the authenticator set up the day before.
    from tests.browser.test_second_factor_browser import prove_second_factor

    device = authenticator(setup.member)
    log_in(browser, live_server, setup.member.username)
    assert browser.execute_script("return location.pathname;") == "/en/"
    click_link(browser, "main a[href$='/commission/']")
    prove_second_factor(browser, device)
    assert browser.execute_script("return location.pathname;") == f"/en/commission/{slug}/"

    # The held station is in the "held" queue: the heading, then its table.
    held_link = f"#queue-held + table.queue a[href$='/stations/{code}/']"
    assert browser.find_element(By.CSS_SELECTOR, held_link).text == code
    assert "R1" in browser.find_element(By.CSS_SELECTOR, "#queue-held + table.queue").text
    dashboard_shots = check_widths(browser, shots, "commission-dashboard", overflows)
    click_link(browser, held_link)
    assert browser.execute_script("return location.pathname;") == (
        f"/en/commission/{slug}/stations/{code}/"
    )
    assert (
        browser.find_element(By.CSS_SELECTOR, ".entry-status [data-state]").get_attribute(
            "data-state"
        )
        == "held"
    )

    # Open "Annul and order a repeat vote", and fill it in.
    annul = browser.find_element(By.ID, "decide-annul")
    summary = annul.find_element(By.TAG_NAME, "summary")
    assert "Annul and order a repeat vote" in summary.text
    summary.click()
    WebDriverWait(browser, 5).until(lambda _driver: annul.get_attribute("open") is not None)
    station_shots = check_widths(browser, shots, "commission-station-held", overflows)
    # Every decision block open at once, as a member comparing them would have it.
    browser.execute_script(
        "document.querySelectorAll('details.decision').forEach(d => { d.open = true; });"
    )
    station_shots += check_widths(browser, shots, "commission-station-held-all-open", overflows)
    browser.execute_script(
        "document.querySelectorAll('details.decision:not(#decide-annul)')"
        ".forEach(d => { d.open = false; });"
    )
    Select(annul.find_element(By.NAME, "ground")).select_by_value("R1")
    voting_date = timezone.localdate() + timedelta(days=5)
    date_input = annul.find_element(By.NAME, "voting_date")
    assert date_input.get_attribute("type") == "date"
    # send_keys on a date input depends on the browser's locale: set the value.
    browser.execute_script(
        "arguments[0].value = arguments[1];"
        "arguments[0].dispatchEvent(new Event('input', {bubbles: true}));"
        "arguments[0].dispatchEvent(new Event('change', {bubbles: true}));",
        date_input,
        voting_date.isoformat(),
    )
    assert date_input.get_attribute("value") == voting_date.isoformat()
    annul.find_element(By.NAME, "reason").send_keys(
        "More ballots in the box than voters who turned out (Art. 116)."
    )
    click_and_wait(browser, annul.find_element(By.CSS_SELECTOR, "button[type=submit]"))

    # The page now shows round 2 awaiting its repeat vote, round 1 annulled.
    status = browser.find_element(By.CSS_SELECTOR, "p.entry-status")
    assert "Round 2" in status.text
    assert voting_date.strftime("%d.%m.%Y") in status.text
    assert (
        status.find_element(By.CSS_SELECTOR, "[data-state]").get_attribute("data-state")
        == "awaiting"
    )
    round_1 = browser.find_element(By.ID, "round-1")
    assert "Round 1" in round_1.find_element(By.TAG_NAME, "h2").text
    assert round_1.find_elements(By.CSS_SELECTOR, "h2 .entry-state.state-annulled")
    assert "never counted" in round_1.text
    assert browser.find_element(By.ID, "round-2")
    station_shots += check_widths(browser, shots, "commission-station-annulled", overflows)

    # Round 2 through the clerks' own entry form, one clerk after the other.
    entry_url = f"{live_server.url}/en/entry/{slug}/{code}/"
    log_in(browser, live_server, setup.clerk1.username)
    browser.get(entry_url)
    enter_record(browser, REPEAT_VOTES)
    state = browser.find_element(By.CSS_SELECTOR, ".entry-status [data-state]")
    assert state.get_attribute("data-state") == "first_entry_done"
    log_in(browser, live_server, setup.clerk2.username)
    browser.get(entry_url)
    enter_record(browser, REPEAT_VOTES)
    state = browser.find_element(By.CSS_SELECTOR, ".entry-status [data-state]")
    assert state.get_attribute("data-state") == "accepted"
    round_2 = StationRound.objects.get(station=setup.station, number=2)
    assert round_2.status == "accepted"
    assert AcceptedRecord.objects.filter(round=round_2, superseded_at__isnull=True).count() == 1

    # The tabulation counts round 2, and only round 2.
    assert tabulation_run(election_id=setup.election.pk) == "done"
    browser.get(f"{live_server.url}/en/results/{slug}/")
    for number, votes in REPEAT_VOTES.items():
        assert figure(browser, number, "votes") == str(votes)
    progress = browser.find_element(By.ID, "results-progress").text
    assert "601 voters" in progress  # round 2's turned out
    assert str(ROUND_1_TURNED_OUT) not in progress  # round 1's R1 figure
    assert "300" not in browser.find_element(By.ID, "results-lists").text  # round 1's list 1

    for path in dashboard_shots + station_shots:
        assert path.stat().st_size > 0
    print("screenshots:", *(str(path) for path in dashboard_shots + station_shots))
    assert not overflows, "The page scrolls sideways:\n" + "\n".join(overflows)


def test_the_overflow_report_names_what_sticks_out(browser: Any) -> None:
    """The report is only useful if it names the culprit when there is one."""
    browser.get("data:text/html,<p>narrow</p><div id=wide style='width:2000px'>wide</div>")

    culprits = browser.execute_script(OVERFLOWING_ELEMENTS)

    assert culprits and culprits[0].startswith("div#wide right=2")
