"""Observers' copies: accreditation, submission (form values, CSV), and the
comparison with the accepted record, now or when the record comes later."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from tabulation.models import (
    AuditEvent,
    CopyComparison,
    CopyFinding,
    Observer,
    ObserverCopy,
    StationRound,
)
from tabulation.services.decisions import record_correct
from tabulation.services.observers import (
    CsvRefused,
    copies_import_csv,
    copy_submit,
    observer_accredit,
)
from tabulation.services.records import InputRefused, NotPermitted
from tabulation.services.roles import ROLE_OBSERVER
from tests.factories import UserFactory, record_values
from tests.views.entry_setup import VOTES, EntrySetup, entry_setup, submit

pytestmark = pytest.mark.django_db


def accredit(setup: EntrySetup, name: str = "crta", **body: object) -> Observer:
    user = UserFactory(username=f"observer-{setup.election.slug}-{name}")
    if not body:
        body = {"organisation": "CRTA"}
    return observer_accredit(
        actor=None, user=user, election=setup.election, reason="accredited", **body
    )


def copy(setup: EntrySetup, observer: Observer, votes: dict[int, int] | None = None, **values):
    return copy_submit(
        actor=observer.user,
        station=setup.station,
        values=record_values(**values),
        votes=list((votes or VOTES).items()),
    )


def accept(setup: EntrySetup) -> None:
    submit(setup, setup.clerk1)
    submit(setup, setup.clerk2)
    assert StationRound.objects.get(pk=setup.round.pk).status == StationRound.Status.ACCEPTED


def findings(copy_row: ObserverCopy) -> list[tuple[str, str, object, object]]:
    return list(
        CopyFinding.objects.filter(comparison__copy=copy_row)
        .order_by("pk")
        .values_list("code", "field", "copy_value", "record_value")
    )


def test_accreditation_puts_the_user_in_the_observer_group_with_an_audit_event() -> None:
    setup = entry_setup()

    observer = accredit(setup, electoral_list=setup.lists[0])

    assert observer.user.groups.filter(name=ROLE_OBSERVER).exists()
    assert observer.body == f"list:{setup.lists[0].pk}"
    event = AuditEvent.objects.get(action="observer.accredit")
    assert event.after["list"] == 1


def test_a_clerk_cannot_be_accredited_as_an_observer() -> None:
    setup = entry_setup()

    with pytest.raises(ValueError, match="another role"):
        observer_accredit(
            actor=None, user=setup.clerk1, election=setup.election, organisation="X", reason="r"
        )


def test_an_equal_copy_compared_with_the_accepted_record_gives_no_finding() -> None:
    setup = entry_setup()
    accept(setup)

    row = copy(setup, accredit(setup))

    comparison = CopyComparison.objects.get(copy=row)
    assert comparison.differences == 0
    assert findings(row) == []


def test_a_copy_that_came_first_is_compared_when_the_record_is_accepted() -> None:
    setup = entry_setup()
    row = copy(setup, accredit(setup), votes={1: 290, 2: 210, 3: 88}, board_signatures=3)
    assert CopyComparison.objects.count() == 0

    accept(setup)

    assert findings(row) == [
        ("O2", "votes[1]", 290, 300),
        ("O2", "votes[2]", 210, 200),
        ("O3", "board_signatures", 3, 5),
    ]


def test_each_kind_of_difference_gives_its_finding() -> None:
    setup = entry_setup()
    accept(setup)

    row = copy(setup, accredit(setup), votes={1: 300, 2: 200, 3: 87}, ballots_invalid=13)

    assert findings(row) == [("O1", "ballots_invalid", 13, 12), ("O2", "votes[3]", 87, 88)]
    event = AuditEvent.objects.get(action="copy.compare")
    assert event.after["differences"] == [["O1", "ballots_invalid"], ["O2", "votes[3]"]]


def test_a_new_copy_supersedes_the_observers_earlier_one() -> None:
    setup = entry_setup()
    observer = accredit(setup)
    first = copy(setup, observer, ballots_invalid=13)

    second = copy(setup, observer)

    first.refresh_from_db()
    assert first.superseded_at is not None
    assert ObserverCopy.objects.filter(superseded_at__isnull=True).get() == second


def test_a_copy_with_input_errors_is_refused_and_nothing_stored() -> None:
    setup = entry_setup()
    observer = accredit(setup)

    with pytest.raises(InputRefused) as caught:
        copy(setup, observer, votes={1: 300, 9: 5}, ballots_received="many")

    assert {finding.code for finding in caught.value.findings} == {"E1", "E2"}
    assert ObserverCopy.objects.count() == 0


def test_a_clerk_or_an_observer_of_another_election_may_not_submit_a_copy() -> None:
    setup = entry_setup()
    other = entry_setup()
    stranger = accredit(other)
    for user in (setup.clerk1, setup.member, stranger.user):
        with pytest.raises(NotPermitted):
            copy_submit(
                actor=user,
                station=setup.station,
                values=record_values(),
                votes=list(VOTES.items()),
            )
    assert ObserverCopy.objects.count() == 0


def csv_text(setup: EntrySetup, rows: list[dict[str, object]]) -> str:
    header = ["station", *record_values(), "list_1", "list_2", "list_3"]
    lines = [",".join(header)]
    for row in rows:
        values = {"station": setup.station.code, **record_values(), **row}
        values["control_sheet_ok"] = "yes" if values["control_sheet_ok"] else "no"
        for number, votes in VOTES.items():
            values.setdefault(f"list_{number}", votes)
        lines.append(",".join(str(values[name]) for name in header))
    return "\n".join(lines) + "\n"


def test_a_parallel_tabulation_in_csv_is_stored_and_compared() -> None:
    setup = entry_setup()
    accept(setup)
    observer = accredit(setup)

    rows = copies_import_csv(
        actor=observer.user, election=setup.election, text=csv_text(setup, [{"list_2": 201}])
    )

    assert [row.source for row in rows] == ["csv"]
    assert findings(rows[0]) == [("O2", "votes[2]", 201, 200)]


def test_a_csv_with_one_bad_row_is_refused_whole() -> None:
    setup = entry_setup()
    observer = accredit(setup)
    text = csv_text(setup, [{}, {"station": "no-such-station"}, {"list_1": "x"}])

    with pytest.raises(CsvRefused) as caught:
        copies_import_csv(actor=observer.user, election=setup.election, text=text)

    assert [(row.line, row.station) for row in caught.value.rows] == [
        (3, "no-such-station"),
        (4, setup.station.code),
    ]
    assert ObserverCopy.objects.count() == 0


def test_the_observer_group_exists_after_migrations() -> None:
    assert Group.objects.filter(name=ROLE_OBSERVER).exists()


def test_a_copy_is_compared_again_with_the_corrected_record() -> None:
    setup = entry_setup()
    # Typed with 301 for list 1 (S1: held); the observer's copy says 300.
    held = {1: 301, 2: 200, 3: 88}
    submit(setup, setup.clerk1, votes=held)
    submit(setup, setup.clerk2, votes=held)
    row = copy(setup, accredit(setup))
    assert findings(row) == [("O2", "votes[1]", 300, 301)]

    record_correct(
        actor=setup.member,
        round=setup.round,
        values=record_values(control_sheet_ok="yes"),
        votes=list(VOTES.items()),
        reason="Recounted: 300, as the observer's copy says.",
    )

    latest = CopyComparison.objects.filter(copy=row).latest("pk")
    assert latest.accepted_record.source == "decision"
    assert latest.differences == 0
    assert CopyComparison.objects.filter(copy=row).count() == 2
