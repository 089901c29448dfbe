"""An annulled round stays visible everywhere and is never counted: the
station rows' ``earlier_rounds``, the totals, ``pending_repeat_votes``, the
inputs hash, the open-data files (docs/results-format.md, docs/open-data.md)."""

from __future__ import annotations

import csv
import io
import json
import random
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tabulation.domain.results import inputs_hash, results_build
from tabulation.models import StationRound
from tabulation.selectors.open_data import OPEN_DATA_FILES, open_data_file
from tabulation.selectors.tabulation import records_memo_clear, tabulation_inputs_get
from tabulation.services import tabulation as service
from tabulation.services.decisions import station_annul
from tabulation.services.publishing import snapshot_publish
from tabulation.services.roles import ensure_roles
from tabulation.services.tabulation import election_tabulate, tabulation_compute
from tests.annulment_setup import (
    REPEAT_VOTES,
    TODAY,
    VOTING_DATE,
    annul,
    counted_election,
    repeat,
)
from tests.factories import PollingStationFactory, StationRoundFactory, UserFactory
from tests.factories_records import random_votes, record_accept, small_election

pytestmark = pytest.mark.django_db

ROUND_1 = {
    "registered": 1000,
    "ballots_received": 1010,
    "ballots_unused": 410,
    "turned_out": 601,
    "ballots_in_box": 600,
    "ballots_invalid": 12,
    "ballots_valid": 588,
    "control_sheet_ok": True,
    "board_signatures": 5,
}


@pytest.fixture(autouse=True)
def _read_side(settings: Any, tmp_path: Path) -> Any:
    settings.PUBLISH_DIR = tmp_path / "published"
    cache.clear()
    with mock.patch.object(service, "tabulation_enqueue", return_value=True):
        yield
    cache.clear()


def votes_of(payload: dict[str, Any]) -> dict[int, int]:
    return {item["ballot_number"]: item["votes"] for item in payload["lists"]}


def row_of(rows: list[dict[str, Any]], code: str) -> dict[str, Any]:
    return next(row for row in rows if row["code"] == code)


# --- The station rows and the document -----------------------------------------------------


def test_an_annulled_round_is_published_under_earlier_rounds_and_not_counted() -> None:
    made = counted_election()
    before = tabulation_compute(election_id=made.setup.election.pk)
    assert votes_of(before.snapshot.payload) == {1: 400, 2: 250, 3: 108}  # both counted
    assert before.snapshot.payload["voted"] == 780

    decision = annul(made)
    after = tabulation_compute(election_id=made.setup.election.pk)

    payload = after.snapshot.payload
    # Only the other station counts now: round 1's 300, 200, 88 are gone.
    assert votes_of(payload) == {1: 100, 2: 50, 3: 20}
    assert (payload["voted"], payload["invalid"], payload["valid"]) == (180, 10, 170)
    assert payload["turned_out"] == 181
    assert payload["registered"] == {"counted": 1000, "total": 2000}
    assert payload["stations"] == {
        "counted": 1,
        "total": 2,
        "held": 0,
        "annulled": 0,
        "awaiting": 1,
    }
    municipality = next(m for m in payload["municipalities"] if m["stations"]["counted"] == 0)
    assert municipality["votes"] == {"1": 0, "2": 0, "3": 0}
    round2 = StationRound.objects.get(station=made.setup.station, number=2)
    assert payload["pending_repeat_votes"] == [
        {
            "station": made.code,
            "round": 2,
            "ordered_at": round2.ordered_at.isoformat(),
            "voting_date": "2026-12-08",
        }
    ]
    assert payload["inputs_hash"] != before.snapshot.payload["inputs_hash"]

    row = row_of(after.stations, made.code)
    # The current round first, every existing key in its place, then the earlier rounds.
    assert list(row)[-3:] == ["findings", "decisions", "earlier_rounds"]
    assert (row["status"], row["round"], row["votes"], row["ballots_in_box"]) == (
        "awaiting",
        2,
        {},
        None,
    )
    assert row["earlier_rounds"] == [
        {
            "round": 1,
            "status": "annulled",
            "ground": "R4",
            "annulled_at": decision.decided_at.isoformat(),
            "repeat_voting_date": "2026-12-08",
            **ROUND_1,
            "votes": {"1": 300, "2": 200, "3": 88},
            "findings": [
                {
                    "code": "R4",
                    "status": "resolved",
                    # The words it was raised with, the same in every version.
                    "message": (
                        "A person not in the excerpt of the register was allowed to vote: {note}"
                    ),
                    "params": {"note": "An unlisted voter was let vote (Art. 115)."},
                }
            ],
        }
    ]
    assert row_of(after.stations, made.setup.outsider_station.code)["earlier_rounds"] == []


def test_the_repeat_vote_counts_and_round_one_stays_on_the_record() -> None:
    made = counted_election()
    annul(made)
    repeat(made)

    outcome = tabulation_compute(election_id=made.setup.election.pk)

    payload = outcome.snapshot.payload
    assert votes_of(payload) == {1: 350, 2: 300, 3: 108}  # 250+100, 250+50, 88+20
    assert payload["voted"] == 780
    assert payload["stations"]["counted"] == 2
    assert payload["pending_repeat_votes"] == []
    row = row_of(outcome.stations, made.code)
    assert (row["status"], row["round"]) == ("counted", 2)
    assert row["votes"] == {str(number): votes for number, votes in REPEAT_VOTES.items()}
    [earlier] = row["earlier_rounds"]
    assert (earlier["round"], earlier["ground"], earlier["repeat_voting_date"]) == (
        1,
        "R4",
        "2026-12-08",
    )
    assert earlier["votes"] == {"1": 300, "2": 200, "3": 88}
    assert earlier["ballots_in_box"] == 600


def test_a_round_annulled_before_its_record_came_is_published_blank() -> None:
    made = counted_election()
    # A third station nobody entered: annulled on U2 (record not received).
    missing = PollingStationFactory(municipality__election=made.setup.election, number=1)
    StationRoundFactory(station=missing)
    station_annul(
        actor=made.setup.member,
        station=missing,
        ground="U2",
        voting_date=TODAY + timedelta(days=1),
        reason="The board never delivered the record.",
        today=TODAY,
    )

    rows = tabulation_compute(election_id=made.setup.election.pk).stations

    [earlier] = row_of(rows, missing.code)["earlier_rounds"]
    assert earlier["ground"] == "U2"
    assert earlier["repeat_voting_date"] == "2026-12-02"
    assert all(earlier[name] is None for name in ROUND_1)
    assert earlier["votes"] == {}
    assert [finding["code"] for finding in earlier["findings"]] == ["U2"]


# --- Reading them: a fixed number of queries, and in the hash --------------------------------


def member_of(election: Any) -> Any:
    ensure_roles()
    member = UserFactory(username=f"member-{election.slug}", is_staff=True)
    member.groups.add(Group.objects.get(name="commission member"))
    return member


def queries_to_read(annulled: int) -> int:
    made = small_election(lists=3, seats=7)
    rng = random.Random(annulled)
    for station in made.stations:
        record_accept(made.rounds[station.code], random_votes(rng, made.lists, 1000))
    member = member_of(made.election)
    for station in made.stations[:annulled]:
        station_annul(
            actor=member,
            station=station,
            ground="R4",
            voting_date=VOTING_DATE,
            reason="Art. 115.",
            today=TODAY,
        )
    records_memo_clear()  # every record read from the tables, as a worker's first run does
    with CaptureQueriesContext(connection) as queries:
        inputs = tabulation_inputs_get(election_id=made.election.pk)
    assert sum(len(items) for items in inputs.earlier_rounds.values()) == annulled
    return len(queries)


def test_earlier_rounds_are_read_with_a_fixed_number_of_queries() -> None:
    one, five = queries_to_read(1), queries_to_read(5)

    assert one == five
    # Their records' ids, then the figures and the votes of those not read
    # before, and their decisions: four queries, only when there are some.
    assert queries_to_read(0) == one - 4


def test_the_inputs_hash_covers_the_annulled_rounds() -> None:
    made = counted_election()
    annul(made)
    inputs = tabulation_inputs_get(election_id=made.setup.election.pk)
    built = results_build(inputs, now=timezone.now())
    raised = built.findings_to_raise
    [earlier] = inputs.earlier_rounds[made.setup.station.pk]
    assert earlier.record is not None

    def hash_with(**changes: Any) -> str:
        changed = replace(earlier, **changes)
        return inputs_hash(
            replace(inputs, earlier_rounds={made.setup.station.pk: [changed]}), raised
        )

    assert hash_with() == built.inputs_hash
    assert hash_with(ground="R1") != built.inputs_hash
    assert hash_with(repeat_voting_date=VOTING_DATE + timedelta(days=1)) != built.inputs_hash
    assert hash_with(record=None) != built.inputs_hash
    fewer_votes = replace(earlier.record, votes=((1, 299), (2, 200), (3, 88)))
    assert hash_with(record=fewer_votes) != built.inputs_hash
    assert inputs_hash(replace(inputs, earlier_rounds={}), raised) != built.inputs_hash


def test_no_new_snapshot_when_nothing_changed_after_an_annulment() -> None:
    made = counted_election()
    annul(made)
    assert election_tabulate(election_id=made.setup.election.pk) is not None

    assert election_tabulate(election_id=made.setup.election.pk) is None


# --- Open data and publishing ----------------------------------------------------------------


def test_earlier_rounds_csv_has_one_row_per_annulled_round() -> None:
    made = counted_election()
    decision = annul(made)
    outcome = tabulation_compute(election_id=made.setup.election.pk)

    content = open_data_file("earlier_rounds.csv", outcome.snapshot.payload, outcome.stations)

    lines = content.decode().splitlines()
    assert lines[0] == (
        "code,municipality,number,name,round,status,counted,ground,annulled_at,"
        "repeat_voting_date,registered,ballots_received,ballots_unused,turned_out,"
        "ballots_in_box,ballots_invalid,ballots_valid,control_sheet_ok,board_signatures,"
        "list_1,list_2,list_3"
    )
    [row] = list(csv.DictReader(io.StringIO(content.decode())))
    assert row == {
        "code": made.code,
        "municipality": made.setup.station.municipality.code,
        "number": "1",
        "name": made.setup.station.name,
        "round": "1",
        "status": "annulled",
        "counted": "false",
        "ground": "R4",
        "annulled_at": decision.decided_at.isoformat(),
        "repeat_voting_date": "2026-12-08",
        "registered": "1000",
        "ballots_received": "1010",
        "ballots_unused": "410",
        "turned_out": "601",
        "ballots_in_box": "600",
        "ballots_invalid": "12",
        "ballots_valid": "588",
        "control_sheet_ok": "true",
        "board_signatures": "5",
        "list_1": "300",
        "list_2": "200",
        "list_3": "88",
    }


def test_stations_csv_keeps_one_row_per_station_that_adds_up_to_the_totals() -> None:
    made = counted_election()
    annul(made)
    outcome = tabulation_compute(election_id=made.setup.election.pk)

    content = open_data_file("stations.csv", outcome.snapshot.payload, outcome.stations)

    rows = list(csv.DictReader(io.StringIO(content.decode())))
    assert [(row["code"], row["status"], row["round"]) for row in rows] == [
        (made.code, "awaiting", "2"),
        (made.setup.outsider_station.code, "counted", "1"),
    ]
    assert [sum(int(row[f"list_{n}"] or 0) for row in rows) for n in (1, 2, 3)] == [100, 50, 20]


def test_rows_published_before_earlier_rounds_existed_give_an_empty_file() -> None:
    document = {"lists": [{"ballot_number": 1}, {"ballot_number": 2}]}
    old_row = {"code": "a-1", "municipality": "a", "number": 1, "name": "A"}

    assert open_data_file("earlier_rounds.csv", document, [old_row]) == (
        b"code,municipality,number,name,round,status,counted,ground,annulled_at,"
        b"repeat_voting_date,registered,ballots_received,ballots_unused,turned_out,"
        b"ballots_in_box,ballots_invalid,ballots_valid,control_sheet_ok,board_signatures,"
        b"list_1,list_2\n"
    )


def test_publishing_writes_the_earlier_rounds_and_the_site_serves_them(client: Any) -> None:
    made = counted_election()
    annul(made)
    outcome = tabulation_compute(election_id=made.setup.election.pk)

    snapshot_publish(snapshot=outcome.snapshot, stations=outcome.stations)

    folder = Path(settings.PUBLISH_DIR) / made.slug
    assert "earlier_rounds.csv" in OPEN_DATA_FILES
    version = outcome.snapshot.version
    published = (folder / "earlier_rounds.csv").read_bytes()
    assert published == (folder / "snapshots" / str(version) / "earlier_rounds.csv").read_bytes()
    [row] = list(csv.DictReader(io.StringIO(published.decode())))
    assert (row["code"], row["round"], row["counted"], row["list_1"]) == (
        made.code,
        "1",
        "false",
        "300",
    )
    stations = json.loads((folder / "stations.json").read_text())
    assert row_of(stations, made.code)["earlier_rounds"][0]["votes"] == {
        "1": 300,
        "2": 200,
        "3": 88,
    }
    response = client.get(f"/results/{made.slug}/data/earlier_rounds.csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.content == published


def test_a_snapshot_with_an_annulled_round_republished_without_its_rows_rebuilds_them() -> None:
    made = counted_election()
    annul(made)
    snapshot = election_tabulate(election_id=made.setup.election.pk)
    assert snapshot is not None

    snapshot_publish(snapshot=snapshot)  # the rows rebuilt: the inputs hash still matches

    rows = cache.get(f"results:{made.slug}:stations:v{snapshot.version}")
    assert rows is not None
    assert row_of(rows, made.code)["earlier_rounds"][0]["ground"] == "R4"
