"""An election with one station's round 1 counted, then annulled by the
commission with a repeat vote ordered (services/decisions.py, ``station_annul``),
for the tests of what is published about an annulled round.

Two stations in two municipalities, three lists (tests/views/entry_setup.py):

- ``station``: round 1 typed twice by two clerks, equal, accepted: the record
  of ``record_values()`` with ``VOTES`` (300, 200, 88; 600 in the box);
- ``outsider``: accepted with ``OUTSIDER_VOTES`` (100, 50, 20; 180 in the box).

``annul(made)`` annuls the station's round 1 on R4 on ``TODAY`` and orders the
repeat vote for ``VOTING_DATE``; ``repeat(made)`` enters and accepts round 2.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from tabulation.models import Decision, StationRound
from tabulation.services.decisions import station_annul
from tests.factories_records import record_accept
from tests.views.entry_setup import VOTES, EntrySetup, entry_setup, submit

TODAY = date(2026, 12, 1)
VOTING_DATE = TODAY + timedelta(days=7)  # 2026-12-08, within the 10 days
OUTSIDER_VOTES = {1: 100, 2: 50, 3: 20}
REPEAT_VOTES = {1: 250, 2: 250, 3: 88}  # the repeat vote: valid ballots 588 again


@dataclass
class Annulment:
    setup: EntrySetup
    round1: StationRound
    decision: Decision | None = None

    @property
    def slug(self) -> str:
        return self.setup.election.slug

    @property
    def code(self) -> str:
        return self.setup.station.code


def counted_election() -> Annulment:
    """Both stations counted, round 1 everywhere."""
    setup = entry_setup()
    submit(setup, setup.clerk1)
    submit(setup, setup.clerk2)
    setup.round.refresh_from_db()
    assert setup.round.status == StationRound.Status.ACCEPTED
    record_accept(StationRound.objects.get(station=setup.outsider_station), OUTSIDER_VOTES)
    return Annulment(setup=setup, round1=setup.round)


def annul(made: Annulment) -> Decision:
    """The commission annuls round 1 on R4 and orders the repeat vote."""
    made.decision = station_annul(
        actor=made.setup.member,
        station=made.setup.station,
        ground="R4",
        voting_date=VOTING_DATE,
        reason="An unlisted voter was let vote (Art. 115).",
        today=TODAY,
    )
    made.round1.refresh_from_db()
    assert made.round1.status == StationRound.Status.ANNULLED
    return made.decision


def repeat(made: Annulment) -> StationRound:
    """Round 2 entered twice, equal, accepted."""
    submit(made.setup, made.setup.clerk1, votes=REPEAT_VOTES)
    submit(made.setup, made.setup.clerk2, votes=REPEAT_VOTES)
    round2 = StationRound.objects.get(station=made.setup.station, number=2)
    assert round2.status == StationRound.Status.ACCEPTED
    return round2


__all__ = [
    "OUTSIDER_VOTES",
    "REPEAT_VOTES",
    "TODAY",
    "VOTES",
    "VOTING_DATE",
    "Annulment",
    "annul",
    "counted_election",
    "repeat",
]
