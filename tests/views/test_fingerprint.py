"""The election's fingerprint on the public pages and in open data: drawn
from the published files only, as well-formed, accessible SVG with a table
alternative, and the stations to look at linked to their pages."""

import json
import re
from typing import Any
from xml.etree import ElementTree

import pytest
from django.test import Client

from tests.published import (  # noqa: F401 - fixtures
    SLUG,
    novi_grad_fixture,
    publish,
    publish_dir_fixture,
    published_fixture,
    small_election,
)

pytestmark = pytest.mark.django_db

PAGE = f"/en/results/{SLUG}/"
SVG = "{http://www.w3.org/2000/svg}"


def page(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def fingerprint_svg(html: str) -> ElementTree.Element:
    found = re.search(r'<svg class="fingerprint".*?</svg>', html, re.S)
    assert found is not None
    return ElementTree.fromstring(found.group(0))  # raises unless well-formed XML


def squares(svg: ElementTree.Element) -> list[tuple[str, str]]:
    """(stations, title) of each shaded bin."""
    return sorted(
        (rect.get("data-stations", ""), rect.findtext(f"{SVG}title", ""))
        for rect in svg.iter(f"{SVG}rect")
        if rect.get("data-stations")
    )


def test_the_results_page_draws_one_square_a_bin_with_its_count(
    client: Client, published: Any
) -> None:
    svg = fingerprint_svg(page(client, PAGE))

    # Four counted stations: turnout and list 1's share, in 5-point bins.
    assert squares(svg) == [
        ("1", "1 station: turnout 55–60 %, list 1 55–60 %"),
        ("1", "1 station: turnout 60–65 %, list 1 45–50 %"),
        ("1", "1 station: turnout 60–65 %, list 1 55–60 %"),
        ("1", "1 station: turnout 65–70 %, list 1 45–50 %"),
    ]


def test_the_drawing_has_a_title_a_description_and_a_table_alternative(
    client: Client, published: Any
) -> None:
    html = page(client, PAGE)
    svg = fingerprint_svg(html)

    assert svg.get("role") == "img"
    labelled_by = (svg.get("aria-labelledby") or "").split()
    ids = {element.get("id"): element.tag for element in svg.iter() if element.get("id")}
    assert [ids[name] for name in labelled_by] == [f"{SVG}title", f"{SVG}desc"]
    assert "4 counted polling stations" in (svg.findtext(f"{SVG}desc") or "")
    table = re.search(r'<details class="fingerprint-table">.*?</details>', html, re.S)
    assert table is not None
    rows = re.findall(
        r"<tr><td>([^<]+)</td><td>([^<]+)</td><td class=\"num\">(\d+)</td></tr>", table.group(0)
    )
    assert rows == [
        ("55–60 %", "55–60 %", "1"),
        ("60–65 %", "45–50 %", "1"),
        ("60–65 %", "55–60 %", "1"),
        ("65–70 %", "45–50 %", "1"),
    ]
    assert "doi.org/10.1073/pnas.1210722109" in html  # the paper, cited


def test_a_municipality_page_draws_its_own_stations_only(client: Client, published: Any) -> None:
    svg = fingerprint_svg(page(client, f"{PAGE}municipalities/vozdovac/"))

    assert [stations for stations, _title in squares(svg)] == ["1", "1"]


def test_the_live_part_carries_the_fingerprint(client: Client, published: Any) -> None:
    html = page(client, f"{PAGE}live/")

    assert 'id="results-fingerprint" data-live-part' in html
    assert len(squares(fingerprint_svg(html))) == 4


def test_each_snapshot_publishes_the_counts_as_open_data(client: Client, published: Any) -> None:
    latest = client.get(f"/results/{SLUG}/data/fingerprint.json")
    version_1 = client.get(f"/results/{SLUG}/data/v1/fingerprint.json")

    assert latest.status_code == version_1.status_code == 200
    assert latest["Content-Type"] == "application/json; charset=utf-8"
    assert latest.content == version_1.content
    fingerprint = json.loads(latest.content)
    assert fingerprint["version"] == 1 and fingerprint["bins"] == 20
    counts = fingerprint["election"]["counts"]
    assert (counts[11][11], counts[12][9], counts[12][11], counts[13][9]) == (1, 1, 1, 1)
    assert sum(map(sum, counts)) == fingerprint["election"]["stations"] == 4
    assert fingerprint["municipalities"]["vozdovac"]["stations"] == 2
    assert f'href="/results/{SLUG}/data/fingerprint.json"' in page(client, f"/results/{SLUG}/data/")


def stuffed_election() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Snapshot 1 with vozdovac-002 stuffed (98.89 % turnout, 97.70 % for list 1)
    and zvezdara-001 a turnout outlier (W1)."""
    document, stations = small_election(1)
    for row in stations:
        if row["code"] == "vozdovac-002":
            row.update(
                registered=900,
                turned_out=890,
                ballots_in_box=880,
                ballots_invalid=10,
                ballots_valid=870,
                votes={"1": 850, "2": 10, "3": 5, "4": 5},
            )
        if row["code"] == "zvezdara-001":
            row["findings"] = [{"code": "W1", "status": "open", "message": "Turnout", "params": {}}]
    return document, stations


def test_the_stations_to_look_at_are_listed_and_linked(client: Client, publish_dir: Any) -> None:
    # Published without fingerprint.json, as a snapshot from before it was:
    # the page counts it from the published station rows.
    publish(*stuffed_election())

    html = page(client, PAGE)

    flagged = re.search(r'<table class="fingerprint-flagged".*?</table>', html, re.S)
    assert flagged is not None
    rows = re.findall(r'<tr data-station="([^"]+)">(.*?)</tr>', flagged.group(0), re.S)
    assert [code for code, _cells in rows] == ["vozdovac-002", "zvezdara-001"]
    stuffed, outlier = (re.sub(r"<[^>]+>", " ", cells) for _code, cells in rows)
    assert "98.89 %" in stuffed and "list 1: 97.70 %" in stuffed and "corner" in stuffed
    assert "W1" in outlier and "corner" not in outlier
    assert f'href="/en/results/{SLUG}/stations/vozdovac-002/"' in flagged.group(0)
    assert squares(fingerprint_svg(html))[-1][1] == "1 station: turnout 95–100 %, list 1 95–100 %"


def test_a_municipality_lists_only_its_own_stations_to_look_at(
    client: Client, publish_dir: Any
) -> None:
    publish(*stuffed_election())

    html = page(client, f"{PAGE}municipalities/zvezdara/")

    assert re.findall(r'<tr data-station="([^"]+)">', html) == ["zvezdara-001"]
