"""Tabulation: the recount, the snapshot rules, the findings it raises, and
the coalescing of requests (services/tabulation.py)."""

import json
import random
import threading
from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.utils import timezone, translation

from tabulation import models
from tabulation.selectors.audit import audit_head
from tabulation.selectors.stations import finding_row_text
from tabulation.services import tabulation as service
from tabulation.services.tabulation import (
    election_tabulate,
    tabulation_request,
    tabulation_run,
    tabulation_sweep,
)
from tests.factories import DecisionFactory, UserFactory
from tests.factories_records import (
    random_votes,
    record_accept,
    recount,
    round_set_status,
    small_election,
)


@pytest.fixture(autouse=True)
def _publish_into_tmp(settings, tmp_path):
    settings.PUBLISH_DIR = tmp_path / "published"


@pytest.fixture
def no_enqueue():
    with mock.patch.object(service, "tabulation_enqueue", return_value=True) as enqueue:
        yield enqueue


def accept_all(made, rng, *, skip=()):
    for station in made.stations:
        if station.code in skip:
            continue
        record_accept(made.rounds[station.code], random_votes(rng, made.lists, station.registered))


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_aggregates_equal_a_slow_station_by_station_recount(seed, no_enqueue):
    rng = random.Random(seed)
    made = small_election(
        municipalities=3, stations_per_municipality=4, lists=5, seats=15, minority=(5,), rng=rng
    )
    skipped = set(rng.sample([station.code for station in made.stations], 3))
    accept_all(made, rng, skip=skipped)
    held = next(code for code in sorted(made.rounds) if code not in skipped)
    round_set_status(made.rounds[held], models.StationRound.Status.HELD)

    snapshot = election_tabulate(election_id=made.election.pk)

    expected = recount(made.election)
    payload = snapshot.payload
    totals = expected["totals"]
    assert payload["stations"]["counted"] == totals["counted"] == 12 - 3 - 1
    assert payload["stations"]["held"] == 1
    assert payload["stations"]["awaiting"] == 3
    assert payload["registered"]["counted"] == totals["registered_counted"]
    assert payload["turned_out"] == totals["turned_out"]
    assert payload["voted"] == totals["voted"]
    assert payload["invalid"] == totals["invalid"]
    assert payload["valid"] == totals["valid"]
    assert {item["ballot_number"]: item["votes"] for item in payload["lists"]} == {
        number: expected["lists"].get(number, 0) for number in range(1, 6)
    }
    for municipality in payload["municipalities"]:
        own = expected["municipalities"][municipality["code"]]
        assert municipality["stations"]["counted"] == own["counted"]
        assert municipality["voted"] == own["voted"]
        assert municipality["valid"] == own["valid"]
        assert municipality["turned_out"] == own["turned_out"]
        assert {k: v for k, v in municipality["votes"].items() if v} == own["votes"]
    assert sum(item["seats"] for item in payload["lists"]) == 15


@pytest.mark.django_db
def test_the_snapshot_is_the_documented_document(no_enqueue):
    made = small_election(lists=3, seats=5, candidates_per_list=5)
    votes = {1: 300, 2: 200, 3: 5}
    for station in made.stations[:4]:
        record_accept(made.rounds[station.code], votes)

    snapshot = election_tabulate(election_id=made.election.pk)

    payload = snapshot.payload
    assert payload["status"] == "provisional"
    assert payload["version"] == snapshot.version == 1
    assert payload["inputs_hash"] == snapshot.inputs_hash
    assert payload["audit_head"] == snapshot.audit_head == audit_head().head_hash
    assert payload["stations"] == {
        "counted": 4,
        "total": 6,
        "held": 0,
        "annulled": 0,
        "awaiting": 2,
    }
    assert payload["registered"] == {"counted": 4000, "total": 6000}
    assert payload["voted"] == 4 * 515
    assert payload["threshold_votes"] == "61.8"
    assert payload["threshold_votes_min"] == 62
    first = payload["lists"][0]
    assert first["votes"] == 1200
    assert first["percent"] == "58.25"  # 1200 / 2060, half-up
    assert first["seats"] == 3
    assert first["mandates"] == [
        {"position": 1, "name": "Candidate 1"},
        {"position": 2, "name": "Candidate 2"},
        {"position": 3, "name": "Candidate 3"},
    ]
    assert payload["lists"][2]["passed_threshold"] is False
    assert payload["settled"] is False  # 2,000 registered voters are outstanding
    json.dumps(payload)  # JSON through and through, and no float anywhere
    assert "float" not in {type(value).__name__ for value in _leaves(payload)}


def _leaves(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item)
    else:
        yield value


@pytest.mark.django_db
def test_same_inputs_store_no_new_version_and_a_change_stores_the_next(no_enqueue):
    made = small_election()
    rng = random.Random(7)
    accept_all(made, rng, skip={made.stations[-1].code})
    first = election_tabulate(election_id=made.election.pk)
    first_bytes = json.dumps(models.ResultSnapshot.objects.get(pk=first.pk).payload, sort_keys=True)

    assert election_tabulate(election_id=made.election.pk) is None

    last = made.stations[-1]
    record_accept(made.rounds[last.code], random_votes(rng, made.lists, last.registered))
    second = election_tabulate(election_id=made.election.pk)

    assert (first.version, second.version) == (1, 2)
    assert second.inputs_hash != first.inputs_hash
    assert second.payload["stations"]["counted"] == 6
    stored_first = models.ResultSnapshot.objects.get(election=made.election, version=1)
    assert json.dumps(stored_first.payload, sort_keys=True) == first_bytes
    with pytest.raises(models.ImmutableRowError):
        stored_first.save()


@pytest.mark.django_db
def test_storing_a_snapshot_writes_one_audit_event(no_enqueue):
    made = small_election()
    accept_all(made, random.Random(3))
    before = audit_head().count

    snapshot = election_tabulate(election_id=made.election.pk)

    event = models.AuditEvent.objects.order_by("-sequence").first()
    assert audit_head().count == before + 1
    assert event.action == "results.snapshot"
    assert event.object_id == f"{made.election.slug}/v1"
    assert event.after["inputs_hash"] == snapshot.inputs_hash
    assert snapshot.audit_count == event.sequence
    assert snapshot.audit_head == event.hash


@pytest.mark.django_db
def test_held_and_annulled_rounds_are_not_counted_and_their_voters_are_outstanding(no_enqueue):
    made = small_election(municipalities=1, stations_per_municipality=4)
    rng = random.Random(5)
    accept_all(made, rng)
    codes = sorted(made.rounds)
    round_set_status(made.rounds[codes[0]], models.StationRound.Status.HELD)
    round_set_status(made.rounds[codes[1]], models.StationRound.Status.ANNULLED)
    repeat = models.StationRound.objects.create(
        station=made.rounds[codes[1]].station, number=2, ordered_at=timezone.now()
    )

    payload = election_tabulate(election_id=made.election.pk).payload

    assert payload["stations"] == {
        "counted": 2,
        "total": 4,
        "held": 1,
        "annulled": 0,
        "awaiting": 1,
    }
    assert payload["registered"] == {"counted": 2000, "total": 4000}
    assert payload["pending_repeat_votes"] == [
        {
            "station": codes[1],
            "round": 2,
            "ordered_at": repeat.ordered_at.isoformat(),
            "voting_date": None,  # this round was made without a date
        }
    ]


@pytest.mark.django_db
def test_identical_records_raise_w5_once(no_enqueue):
    made = small_election(municipalities=1, stations_per_municipality=3)
    same = {1: 300, 2: 200, 3: 100, 4: 50}
    codes = sorted(made.rounds)
    record_accept(made.rounds[codes[0]], same)
    record_accept(made.rounds[codes[1]], same)
    record_accept(made.rounds[codes[2]], {1: 10, 2: 20, 3: 30, 4: 40})

    election_tabulate(election_id=made.election.pk)
    election_tabulate(election_id=made.election.pk)

    w5 = models.Finding.objects.filter(code="W5").order_by("round__station__code")
    assert [finding.round.station.code for finding in w5] == codes[:2]
    assert w5[0].message_params["others"] == codes[1]
    with translation.override("en"):
        assert finding_row_text(w5[0]) == (
            f"The results are identical to those of station(s) {codes[1]}."
        )
    assert w5[0].status == "open"


@pytest.mark.django_db
def test_a_dismissed_warning_is_not_raised_again(no_enqueue):
    made = small_election(municipalities=1, stations_per_municipality=2)
    same = {1: 300, 2: 200, 3: 100, 4: 50}
    for code in made.rounds:
        record_accept(made.rounds[code], same)
    election_tabulate(election_id=made.election.pk)
    finding = models.Finding.objects.filter(code="W5").first()
    models.Finding.objects.filter(pk=finding.pk).update(
        status="dismissed", resolved_at=timezone.now()
    )

    snapshot = election_tabulate(election_id=made.election.pk)

    assert models.Finding.objects.filter(code="W5", round=finding.round).count() == 1
    assert snapshot.version == 2  # the flags changed, so the inputs did


@pytest.mark.django_db
def test_turnout_far_above_the_municipality_raises_w1(no_enqueue):
    made = small_election(municipalities=1, stations_per_municipality=8)
    codes = sorted(made.rounds)
    for index, code in enumerate(codes):
        record_accept(made.rounds[code], {1: 200 + index, 2: 100, 3: 50, 4: 20})
    # Re-accepting is impossible, so the outlier is a station of its own.
    outlier = made.stations[0]
    models.StationRound.objects.filter(pk=made.rounds[outlier.code].pk).update(
        status=models.StationRound.Status.ANNULLED
    )
    repeat = models.StationRound.objects.create(station=outlier, number=2)
    record_accept(repeat, {1: 700, 2: 200, 3: 50, 4: 20})

    election_tabulate(election_id=made.election.pk)

    w1 = models.Finding.objects.get(code="W1")
    assert w1.round == repeat
    assert w1.category == "W"


@pytest.mark.django_db
def test_records_not_received_by_the_deadline_raise_u2_once(no_enqueue):
    made = small_election(municipalities=1, stations_per_municipality=3)
    codes = sorted(made.rounds)
    record_accept(made.rounds[codes[0]], {1: 10, 2: 20, 3: 30, 4: 40})
    models.Election.objects.filter(pk=made.election.pk).update(
        entry_deadline=timezone.now() - timedelta(minutes=1)
    )

    election_tabulate(election_id=made.election.pk)
    election_tabulate(election_id=made.election.pk)

    u2 = models.Finding.objects.filter(code="U2").order_by("round__station__code")
    assert [finding.round.station.code for finding in u2] == codes[1:]
    assert u2[0].message_params["station"] == codes[1]
    with translation.override("en"):
        assert finding_row_text(u2[0]) == f"The record of station {codes[1]} was not received."


@pytest.mark.django_db
def test_a_tie_for_the_last_seat_waits_for_the_drawing_of_lots(no_enqueue):
    made = small_election(municipalities=1, stations_per_municipality=1, lists=2, seats=1)
    record_accept(made.rounds[made.stations[0].code], {1: 100, 2: 100})

    tied = election_tabulate(election_id=made.election.pk).payload
    DecisionFactory(
        election=made.election,
        decided_by=UserFactory(),
        payload={"lots_drawn": [2, 1]},
    )
    drawn = election_tabulate(election_id=made.election.pk).payload

    assert tied["lots_required"] == [1, 2]
    assert [item["seats"] for item in tied["lists"]] == [0, 0]
    assert drawn["lots_required"] == []
    assert [item["seats"] for item in drawn["lists"]] == [0, 1]
    assert drawn["version"] == 2


@pytest.mark.django_db(transaction=True)
def test_two_tabulations_at_once_store_one_identical_snapshot(no_enqueue):
    made = small_election()
    accept_all(made, random.Random(11))
    results = []
    errors = []

    def run():
        try:
            results.append(election_tabulate(election_id=made.election.pk))
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len([result for result in results if result is not None]) == 1
    assert models.ResultSnapshot.objects.filter(election=made.election).count() == 1


@pytest.mark.django_db
def test_running_the_task_body_twice_stores_and_publishes_once(no_enqueue):
    made = small_election()
    accept_all(made, random.Random(13))

    assert tabulation_run(election_id=made.election.pk) == "done"
    assert tabulation_run(election_id=made.election.pk) == "done"

    state = models.TabulationState.objects.get(pk=made.election.pk)
    assert models.ResultSnapshot.objects.filter(election=made.election).count() == 1
    assert state.published_version == 1
    assert state.lease_expires_at is None
    assert state.pending is False


@pytest.mark.django_db
def test_a_burst_of_requests_enqueues_one_task(no_enqueue, django_capture_on_commit_callbacks):
    made = small_election()
    rng = random.Random(17)

    with django_capture_on_commit_callbacks(execute=True):
        accept_all(made, rng)

    assert no_enqueue.call_count == 1
    assert models.TabulationState.objects.get(pk=made.election.pk).pending is True


@pytest.mark.django_db
def test_a_run_while_another_holds_the_lease_leaves_the_work_pending(no_enqueue):
    made = small_election()
    tabulation_request(election_id=made.election.pk)
    models.TabulationState.objects.filter(pk=made.election.pk).update(
        pending=False,
        run_token="other",
        lease_expires_at=timezone.now() + timedelta(minutes=1),
    )

    assert tabulation_run(election_id=made.election.pk) == "deferred"

    state = models.TabulationState.objects.get(pk=made.election.pk)
    assert state.pending is True
    assert state.run_token == "other"
    assert not models.ResultSnapshot.objects.filter(election=made.election).exists()


@pytest.mark.django_db
def test_an_expired_lease_is_taken_over(no_enqueue):
    made = small_election()
    accept_all(made, random.Random(19))
    models.TabulationState.objects.update_or_create(
        election=made.election,
        defaults={
            "run_token": "killed",
            "lease_expires_at": timezone.now() - timedelta(seconds=1),
        },
    )

    assert tabulation_run(election_id=made.election.pk) == "done"
    assert models.ResultSnapshot.objects.filter(election=made.election).count() == 1


@pytest.mark.django_db
def test_a_broker_that_is_down_never_fails_record_acceptance(
    django_capture_on_commit_callbacks, caplog
):
    made = small_election()
    station = made.stations[0]
    with (
        mock.patch(
            "tabulation.tasks.tabulate.apply_async", side_effect=ConnectionError("broker down")
        ),
        django_capture_on_commit_callbacks(execute=True),
    ):
        record = record_accept(made.rounds[station.code], {1: 1, 2: 2, 3: 3, 4: 4})

    assert models.AcceptedRecord.objects.filter(pk=record.pk).exists()
    assert "could not be enqueued" in caplog.text
    assert models.TabulationState.objects.get(pk=made.election.pk).pending is True


@pytest.mark.django_db
def test_the_sweep_requests_elections_with_records_newer_than_their_last_run(
    no_enqueue, django_capture_on_commit_callbacks
):
    made = small_election()
    quiet = small_election()
    rng = random.Random(23)
    accept_all(made, rng)
    accept_all(quiet, rng)
    tabulation_run(election_id=quiet.election.pk)
    models.TabulationState.objects.filter(pk=quiet.election.pk).update(
        last_read_at=timezone.now() + timedelta(minutes=1)
    )
    no_enqueue.reset_mock()

    with django_capture_on_commit_callbacks(execute=True):
        requested = tabulation_sweep()

    assert requested == [made.election.pk]
    assert no_enqueue.call_args_list == [mock.call(made.election.pk)]


@pytest.mark.django_db
def test_the_sweep_re_enqueues_pending_work_whose_task_was_lost(no_enqueue):
    made = small_election()
    models.TabulationState.objects.create(
        election=made.election,
        pending=True,
        requested_at=timezone.now() - timedelta(minutes=5),
        last_read_at=timezone.now(),
    )

    assert tabulation_sweep() == [made.election.pk]


@pytest.mark.django_db
def test_a_run_that_goes_round_again_waits_out_the_round_interval(no_enqueue):
    made = small_election()
    accept_all(made, random.Random(23))
    compute = service.tabulation_compute
    rounds = []

    def compute_while_a_record_comes(*, election_id):
        rounds.append(election_id)
        if len(rounds) == 1:  # work comes in during the first round only
            models.TabulationState.objects.filter(pk=election_id).update(pending=True)
        return compute(election_id=election_id)

    with (
        mock.patch.object(service, "tabulation_compute", compute_while_a_record_comes),
        mock.patch.object(service.time, "sleep") as sleep,
    ):
        assert tabulation_run(election_id=made.election.pk) == "done"

    assert len(rounds) == 2
    (waited,), _ = sleep.call_args
    assert 0 < waited <= service.ROUND_INTERVAL_SECONDS
