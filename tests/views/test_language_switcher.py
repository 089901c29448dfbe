"""One language switcher on every page: links to the same page in each language
(templates/_languages.html), the same on public, clerks' and document pages."""

import re
from typing import Any

import pytest
from django.test import Client

from tests.published import (  # noqa: F401 - fixtures
    SLUG,
    novi_grad_fixture,
    publish_dir_fixture,
    published_fixture,
)
from tests.views.entry_setup import entry_setup

pytestmark = pytest.mark.django_db


def switcher(client: Client, url: str) -> list[tuple[str, str]]:
    """(href, name) of each link of the page's language switcher."""
    response = client.get(url)
    assert response.status_code == 200, url
    html = response.content.decode()
    assert "setlang" not in html  # no form posting to Django's set_language
    [nav] = re.findall(r'<nav class="language-links".*?</nav>', html, re.S)
    return re.findall(r'<a href="([^"]*)"[^>]*>([^<]+)</a>', nav)


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/accounts/login/",
        "/results/",
        f"/results/{SLUG}/",
        f"/results/{SLUG}/snapshots/",
        f"/results/{SLUG}/report/",
    ],
)
def test_every_public_page_links_itself_in_each_language(
    client: Client, published: Any, path: str
) -> None:
    assert switcher(client, path) == [
        (path, "Latinica"),
        (f"/sr{path}", "Ћирилица"),
        (f"/en{path}", "English"),
    ]


def test_the_clerks_entry_page_has_the_same_switcher() -> None:
    setup = entry_setup()
    client = Client()
    client.force_login(setup.clerk1)
    path = f"/entry/{setup.election.slug}/"

    assert switcher(client, f"/en{path}") == [
        (path, "Latinica"),
        (f"/sr{path}", "Ћирилица"),
        (f"/en{path}", "English"),
    ]


def test_a_query_string_follows_the_switch(client: Client, published: Any) -> None:
    links = switcher(client, f"/results/{SLUG}/snapshots/?page=2")

    assert links[2] == (f"/en/results/{SLUG}/snapshots/?page=2", "English")
