"""What tabulation publishes stays byte for byte the same for the same data.

The results document and the station rows of two fixed elections
(tests/selectors/results_pin_setup.py) are compared with the bytes kept in
``pinned/``, and so are the context findings the run raises. A change that
alters a published byte on purpose rewrites the pins with
``PIN_WRITE=1 pytest tests/selectors/test_results_pinned.py`` and says why in
its commit.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tabulation import models
from tabulation.domain.results import results_build
from tabulation.selectors.open_data import json_bytes
from tabulation.selectors.tabulation import tabulation_inputs_get
from tests.selectors.results_pin_setup import NOW, pin_election, pin_tie

pytestmark = pytest.mark.django_db

PINNED = Path(__file__).parent / "pinned"


def _published(election: models.Election) -> dict[str, bytes]:
    built = results_build(tabulation_inputs_get(election_id=election.pk), now=NOW)
    code_of = dict(
        models.StationRound.objects.filter(station__election=election).values_list(
            "id", "station__code"
        )
    )
    raised = [
        [code_of[round_id], finding.code, finding.render()]
        for round_id, finding in built.findings_to_raise
    ]
    return {
        "results.json": json_bytes(built.document),
        "stations.json": json_bytes(built.stations),
        "raised.json": json_bytes(raised),
    }


@pytest.mark.parametrize("make", [pin_election, pin_tie], ids=["election", "tie"])
def test_the_published_documents_are_byte_for_byte_the_pinned_ones(
    make: Callable[[], models.Election],
) -> None:
    election = make()

    published = _published(election)

    folder = PINNED / election.slug
    if os.environ.get("PIN_WRITE"):
        folder.mkdir(parents=True, exist_ok=True)
        for name, content in published.items():
            (folder / name).write_bytes(content)
    for name, content in published.items():
        expected = (folder / name).read_bytes()
        assert content == expected, (name, json.loads(content), json.loads(expected))


def test_a_station_not_counted_yet_publishes_its_registered_voters() -> None:
    election = pin_election()

    rows = json.loads(_published(election)["stations.json"])

    not_counted = {row["code"]: row for row in rows if row["status"] != "counted"}
    assert sorted(not_counted) == ["pin-vra-001", "pin-zve-002", "pin-zve-003"]
    # Known from the register from the start; the record's own figure is blank.
    for row in not_counted.values():
        assert (row["registered_in_register"], row["registered"]) == (1000, None)
