"""manage.py accredit_observer: an observer for a list or an organisation."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from tabulation.models import AuditEvent, Observer
from tests.views.entry_setup import entry_setup

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("accredit_observer", *args, stdout=out)
    return out.getvalue()


def test_a_new_user_is_accredited_for_a_list_without_a_password() -> None:
    setup = entry_setup()

    out = run("lista-2", "--election", setup.election.slug, "--list", "2", "--reason", "r")

    observer = Observer.objects.get(user__username="lista-2")
    assert observer.electoral_list == setup.lists[1]
    assert not observer.user.has_usable_password()
    assert out.strip() == f"lista-2 observes {setup.election.slug} for list 2"
    assert AuditEvent.objects.filter(action="observer.accredit").count() == 1


def test_a_list_not_on_the_ballot_is_refused() -> None:
    setup = entry_setup()

    with pytest.raises(CommandError, match="no list 9"):
        run("someone", "--election", setup.election.slug, "--list", "9", "--reason", "r")


def test_a_clerk_may_not_also_observe() -> None:
    setup = entry_setup()
    args = ("--election", setup.election.slug, "--organisation", "CRTA", "--reason", "r")

    with pytest.raises(CommandError, match="another role"):
        run(setup.clerk1.username, *args)


def test_an_observer_is_accredited_once() -> None:
    setup = entry_setup()
    args = ("crta-1", "--election", setup.election.slug, "--organisation", "CRTA", "--reason", "r")
    run(*args)

    with pytest.raises(CommandError, match="already an observer"):
        run(*args)
