"""A dead worker's lease (services/tabulation.py, ``tabulation_lease_release``):
`make demo` gives it up when it starts its worker again, so tabulation does
not wait a minute for the lease to expire."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tabulation.models import TabulationState
from tabulation.services.tabulation import _claim, tabulation_lease_release
from tests.factories import ElectionFactory

pytestmark = pytest.mark.django_db


def test_a_dead_run_s_lease_keeps_the_next_run_out_until_it_is_released() -> None:
    election = ElectionFactory()
    TabulationState.objects.create(
        election=election,
        run_token="dead",
        lease_expires_at=timezone.now() + timedelta(seconds=60),
    )
    assert not _claim(election.pk, "next")

    assert tabulation_lease_release(election_id=election.pk) is True

    state = TabulationState.objects.get(pk=election.pk)
    assert (state.run_token, state.lease_expires_at, state.pending) == ("", None, True)
    assert _claim(election.pk, "next")


def test_releasing_without_a_lease_only_asks_for_a_run() -> None:
    election = ElectionFactory()

    assert tabulation_lease_release(election_id=election.pk) is False

    assert TabulationState.objects.get(pk=election.pk).pending
