"""The public pages as published files (services/site_pages.py): in each
language, byte for byte what Django answers at the same address, written
once per version, and a station's latest page only when it changed."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.test import Client
from django.utils import timezone

from tabulation import models
from tabulation.services import site_pages
from tabulation.services.scans import paper_publish
from tabulation.services.site_pages import site_file
from tests.published import (  # noqa: F401 - fixtures
    AWAITING,
    HELD,
    SLUG,
    NoviGrad,
    novi_grad_fixture,
    publish_dir_fixture,
    publish_version_1,
    publish_version_2,
)

pytestmark = [pytest.mark.django_db, pytest.mark.site_pages]

PREFIXES = ("", "/sr", "/en")
HTML_LANG = {"": "sr-Latn", "/sr": "sr-Cyrl", "/en": "en"}


def page_addresses(document: dict[str, Any], prefix: str) -> list[str]:
    """Every page published for ``document`` in the language of ``prefix``."""
    version = document["version"]
    base = f"{prefix}/results/{SLUG}"
    addresses = [f"{base}/", f"{base}/live/", f"{base}/v{version}/"]
    for municipality in document["municipalities"]:
        addresses.append(f"{base}/municipalities/{municipality['code']}/")
    return addresses


def assert_same_as_django(address: str) -> bytes:
    response = Client().get(address)
    path = site_file(address)

    assert response.status_code == 200, address
    assert path.exists(), address
    assert path.read_bytes() == response.content, address
    return response.content


@pytest.mark.parametrize("prefix", PREFIXES)
def test_each_page_file_is_what_django_answers_in_its_language(
    novi_grad: NoviGrad, prefix: str
) -> None:
    document, stations = publish_version_1(novi_grad)

    for address in page_addresses(document, prefix):
        assert_same_as_django(address)
    for station in stations:
        assert_same_as_django(f"{prefix}/results/{SLUG}/stations/{station['code']}/")
    html = site_file(f"{prefix}/results/{SLUG}/").read_bytes().decode()
    # Anonymous: no session, form or reader in a page that everyone gets.
    assert "csrfmiddlewaretoken" not in html
    assert html.startswith(f'<!doctype html>\n<html lang="{HTML_LANG[prefix]}">')


def test_the_page_polls_a_published_file_and_swaps_in_a_published_part(
    novi_grad: NoviGrad, publish_dir: Path
) -> None:
    publish_version_1(novi_grad)

    html = site_file(f"/en/results/{SLUG}/").read_text()
    version = publish_dir / SLUG / "version.json"

    assert f'data-poll-url="/en/results/{SLUG}/version/"' in html
    assert f'data-live-url="/en/results/{SLUG}/live/"' in html
    assert version.read_bytes() == Client().get(f"/en/results/{SLUG}/version/").content
    assert b'"version": 1' in version.read_bytes()
    assert site_file(f"/en/results/{SLUG}/live/").exists()


def test_a_later_version_rewrites_the_latest_pages_and_only_changed_stations(
    novi_grad: NoviGrad,
) -> None:
    _, stations_1 = publish_version_1(novi_grad)
    station_files = {
        row["code"]: site_file(f"/results/{SLUG}/stations/{row['code']}/") for row in stations_1
    }
    before = {code: (path.stat().st_ino, path.read_bytes()) for code, path in station_files.items()}
    municipality_files = {
        code: site_file(f"/results/{SLUG}/municipalities/{code}/")
        for code in {row["municipality"] for row in stations_1}
    }
    municipality_inodes = {code: path.stat().st_ino for code, path in municipality_files.items()}
    v1_page = site_file(f"/results/{SLUG}/v1/").read_bytes()

    document, stations_2 = publish_version_2(novi_grad)

    changed = {
        row["code"]
        for row in stations_2
        if row != next(old for old in stations_1 if old["code"] == row["code"])
    }
    assert changed == {AWAITING, HELD}
    rewritten = {
        code for code, path in station_files.items() if path.stat().st_ino != before[code][0]
    }
    assert rewritten == changed
    assert {
        code
        for code, path in municipality_files.items()
        if path.stat().st_ino != municipality_inodes[code]
    } == {row["municipality"] for row in stations_2 if row["code"] in changed}
    assert len(municipality_files) == 3
    for prefix in PREFIXES:
        for address in page_addresses(document, prefix):
            assert_same_as_django(address)
        for code in station_files:
            assert_same_as_django(f"{prefix}/results/{SLUG}/stations/{code}/")
    # Version 1's page stays as it went out, naming no later snapshot.
    assert site_file(f"/results/{SLUG}/v1/").read_bytes() == v1_page
    assert assert_same_as_django(f"/results/{SLUG}/v1/") == v1_page


def test_a_scan_made_public_rewrites_its_stations_page_only(novi_grad: NoviGrad) -> None:
    _, stations = publish_version_1(novi_grad)
    code = next(row["code"] for row in stations if row["status"] == "counted")
    files = {
        row["code"]: site_file(f"/en/results/{SLUG}/stations/{row['code']}/") for row in stations
    }
    before = {other: path.stat().st_ino for other, path in files.items()}
    sha = "ab" * 32
    models.RecordScan.objects.create(
        round=models.StationRound.objects.get(station__code=code, number=1),
        kind=models.RecordScan.Kind.RECORD,
        uploaded_by=novi_grad.member,
        storage_name=f"scans/{SLUG}/{sha}.png",
        content_type="image/png",
        size=10,
        width=40,
        height=30,
        sha256=sha,
        upload_sha256=sha,
    )

    paper_publish(novi_grad.election.pk)

    page = assert_same_as_django(f"/en/results/{SLUG}/stations/{code}/")
    assert sha.encode() in page
    rewritten = {other for other, path in files.items() if path.stat().st_ino != before[other]}
    assert rewritten == {code}


def test_a_run_writes_a_few_pages_and_django_answers_for_the_rest(novi_grad: NoviGrad) -> None:
    with mock.patch.object(site_pages, "PAGES_PER_RUN", 2):
        _, stations = publish_version_1(novi_grad)
        addresses = [
            f"/en/results/{SLUG}/municipalities/{code}/"
            for code in sorted({row["municipality"] for row in stations})
        ] + [f"/en/results/{SLUG}/stations/{row['code']}/" for row in stations]
        written = [address for address in addresses if site_file(address).exists()]

        assert len(written) == 2
        assert all(Client().get(address).status_code == 200 for address in addresses)
        assert site_pages.site_pages_fill(SLUG) == len(addresses) - 2

    for address in addresses:
        assert_same_as_django(address)
    assert site_pages.site_pages_fill(SLUG) == 0


def tabulation_idle(made: NoviGrad) -> None:
    """The election's tabulation as a finished run leaves it: nothing
    wanted, no lease (the entries asked for a run: the test ran it)."""
    models.TabulationState.objects.update_or_create(
        election=made.election, defaults={"pending": False, "lease_expires_at": None}
    )


def test_the_beat_fills_the_pages_a_run_left_one_batch_at_a_time(novi_grad: NoviGrad) -> None:
    with mock.patch.object(site_pages, "PAGES_PER_RUN", 2):
        _, stations = publish_version_1(novi_grad)
        tabulation_idle(novi_grad)
        left = (len({row["municipality"] for row in stations}) + len(stations)) - 2
        assert left > 4  # more than two batches

        # With no time to spare, one batch a beat.
        assert site_pages.site_pages_fill_idle(seconds=0) == {SLUG: 2}
        assert site_pages.site_pages_fill_idle(seconds=0) == {SLUG: 2}
        # With time (a beat's FILL_SECONDS), every batch left.
        assert site_pages.site_pages_fill_idle() == {SLUG: left - 4}
        assert site_pages.site_pages_fill_idle() == {}

    assert site_pages.site_pages_fill(SLUG) == 0
    for row in stations:
        assert_same_as_django(f"/en/results/{SLUG}/stations/{row['code']}/")


def test_the_beat_stops_filling_when_a_run_is_wanted(novi_grad: NoviGrad) -> None:
    with mock.patch.object(site_pages, "PAGES_PER_RUN", 2):
        publish_version_1(novi_grad)
        tabulation_idle(novi_grad)
        batches = []
        refresh = site_pages._latest_refresh

        def refresh_then_a_record_comes(slug: str) -> list[str]:
            written = refresh(slug)
            batches.append(written)
            models.TabulationState.objects.filter(election=novi_grad.election).update(pending=True)
            return written

        with mock.patch.object(site_pages, "_latest_refresh", refresh_then_a_record_comes):
            assert site_pages.site_pages_fill_idle() == {SLUG: 2}
        assert len(batches) == 1


@pytest.mark.parametrize("busy", ["pending", "running"])
def test_the_beat_leaves_an_election_whose_tabulation_is_busy(
    novi_grad: NoviGrad, busy: str
) -> None:
    with mock.patch.object(site_pages, "PAGES_PER_RUN", 2):
        publish_version_1(novi_grad)
        state = {
            "pending": {"pending": True},
            "running": {"lease_expires_at": timezone.now() + timedelta(seconds=60)},
        }[busy]
        models.TabulationState.objects.update_or_create(election=novi_grad.election, defaults=state)

        assert site_pages.site_pages_fill_idle() == {}
        tabulation_idle(novi_grad)
        assert site_pages.site_pages_fill_idle(seconds=0) == {SLUG: 2}
