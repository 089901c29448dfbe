"""A whole election night, played through the services people use
(`manage.py simulate_night`; tabulation/demo/README.md).

Simulated clerks type each station's record twice with ``record_submit``;
simulated commission members work the dashboard's queues with the
decision services (reconcile, correct, acknowledge, annul and order a
repeat vote, decide an objection, draw lots) and, at the end, certify.
Nothing is written to a table directly. Clerks photograph part of the
records (the scans service) and two observers, a list's representative and
an accredited organisation, bring their copies of others (the observers
service), some of which differ from the record; a few stations are stuffed
(plan.py), for the fingerprint's corner.

What is already done is read back from the database: entries a clerk
already made are not typed again, and the commission acts on what its
queues show. So a night stopped at any point carries on when started again
with the same seed (the plan, tabulation/demo/plan.py, is the same).
"""

from __future__ import annotations

import heapq
import io
import random
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, Q
from django.utils import timezone

from tabulation.demo.paper import record_photo
from tabulation.demo.plan import (
    ENTRY_DEADLINE,
    HOUR,
    OBJECTION_AT,
    OBSERVERS,
    POLLS_CLOSE_HOUR,
    REPEAT_EVENING,
    NightPlan,
    Paper,
    StationShape,
    night_plan,
    read_figures,
)
from tabulation.domain.record import COUNT_FIELDS, Record
from tabulation.domain.rounds import OPEN_FOR_ENTRY
from tabulation.models import (
    AcceptedRecord,
    ClerkAssignment,
    Decision,
    Election,
    ElectoralList,
    Finding,
    Objection,
    Observer,
    ObserverCopy,
    PollingStation,
    RecordEntry,
    RecordScan,
    StationRound,
)
from tabulation.selectors.certification import blockers_get, latest_snapshot
from tabulation.selectors.commission import current_rounds, dashboard_get, objection_window
from tabulation.selectors.published import published_results_get
from tabulation.selectors.stations import entry_record, live_entries, round_current
from tabulation.services.certification import (
    CertificationRefused,
    certification_confirm,
    certification_propose,
)
from tabulation.services.decisions import (
    entries_reconcile,
    finding_acknowledge,
    lots_draw,
    objection_decide,
    objection_register,
    objection_window_opened_at,
    record_correct,
    station_annul,
)
from tabulation.services.observers import copy_submit, observer_accredit
from tabulation.services.records import EntryRefused, record_submit
from tabulation.services.roles import ROLE_COMMISSION_MEMBER
from tabulation.services.scans import scan_attach, scan_check
from tabulation.services.tabulation import tabulation_request

DEMO_ROOT = Path(__file__).resolve().parent
SWEEP_EVERY = 5 * 60  # the members look at their queues every 5 simulated minutes
PROGRESS_EVERY = 30 * 60  # a line of progress at most every half hour of the night
REACTION = 10 * 60  # and take up an item once it has waited 10 minutes
OBJECTION_REACTION = HOUR  # an objection is considered for an hour first
REPEAT_VOTE_IN_DAYS = 7  # the repeat vote's date: within 10 days of the order
WORKER_WAIT = 180.0  # real seconds without a new result before giving up
# Keys are stable per station, round, clerk and attempt: a night stopped
# between two requests finds its entry again instead of storing another.
KEY_NAMESPACE = uuid.UUID("0d5b7c52-6f0b-4f55-9b8e-3f7f3a1c2e91")
# What the simulated members write is recorded as they would write it: in
# the commission's language (the pages translate the interface, not the
# records).
OBJECTOR = "Predstavnik izborne liste {number}"
# The night's observers (plan.OBSERVERS): users made and accredited by the
# night the first time, with no password (``manage.py changepassword`` to
# log in as one).
OBSERVER_ORGANISATION = "CRTA"
OBSERVER_USERNAMES = {
    "list": "observer-{slug}-list-{number}",
    "organisation": "observer-{slug}-crta",
}

GROUND_REASONS = {
    "R1": "Čl. 116: u glasačkoj kutiji je više listića nego birača koji su glasali.",
    "R2": "Čl. 116: kontrolni list nije pronađen u glasačkoj kutiji.",
    "R3": "Čl. 116: neupotrebljeni listići i listići iz kutije premašuju primljene listiće.",
    "U2": "Čl. 115: zapisnik biračkog mesta nije primljen u roku.",
    "U3": "Čl. 115: zapisnik je potpisalo manje od tri člana biračkog odbora.",
}
ANNUL_ORDER = ("R1", "R2", "R3", "U3", "U2")


class NightError(Exception):
    """The night cannot be played (one line for the command to print)."""


class NightStopped(Exception):
    """``stop_after`` actions were taken: the night stops here, to be resumed."""


@dataclass
class NightReport:
    entries: int = 0
    decisions: Counter[str] = field(default_factory=Counter)
    official_version: int | None = None
    seats: dict[int, int] = field(default_factory=dict)


def election_get(slug: str) -> Election:
    election = Election.objects.filter(slug=slug).first()
    if election is None:
        raise NightError(f'No election "{slug}": import it first (manage.py load_demo).')
    if election.status == Election.Status.CERTIFIED:
        raise NightError(f'The election "{slug}" is already certified: there is no night to play.')
    return election


def paper_matches(record: Record, paper: Paper) -> bool:
    """Whether an entry or a record holds what ``paper`` says."""
    return (
        all(getattr(record, name) == paper.values[name] for name in COUNT_FIELDS)
        and record.control_sheet_ok == paper.values["control_sheet_ok"]
        and {number: count or 0 for number, count in record.votes} == dict(paper.votes)
    )


def plan_for(election: Election, seed: int) -> NightPlan:
    stations = [
        StationShape(code=code, municipality=municipality, registered=registered)
        for code, municipality, registered in PollingStation.objects.filter(
            election=election
        ).values_list("code", "municipality__code", "registered")
    ]
    ballot = list(
        ElectoralList.objects.filter(election=election).values_list("ballot_number", flat=True)
    )
    figures_file = DEMO_ROOT / election.slug / "results.csv"
    try:
        if figures_file.exists():
            figures, outliers = read_figures(figures_file)
            return night_plan(stations, ballot, seed=seed, figures=figures, outliers=outliers)
        return night_plan(stations, ballot, seed=seed)
    except (ValueError, KeyError) as error:
        raise NightError(f'The election "{election.slug}" cannot be played: {error}.') from None


class Night:
    """One night on one election. ``write`` prints a line of progress."""

    def __init__(
        self,
        election: Election,
        *,
        seed: int,
        speed: float,
        certify: bool,
        write: Callable[[str], None],
        stop_after: int | None = None,
    ) -> None:
        self.election = election
        self.seed = seed
        self.speed = speed
        self.certify = certify
        self.write = write
        self.stop_after = stop_after
        self.plan = plan_for(election, seed)
        self.stations = {
            station.code: station
            for station in PollingStation.objects.filter(election=election).select_related(
                "municipality"
            )
        }
        self.clerks = self._clerks()
        self.members = self._members()
        self.observers = self._observers()
        self.rng = random.Random(f"{seed}:commission")
        self.report = NightReport()
        self.actions = 0
        self.sequence = 0
        self.decision_count = 0
        self.events: list[tuple[int, int, str, tuple[Any, ...]]] = []
        self.scheduled: set[tuple[str, int, int, int]] = set()
        self.first_seen: dict[tuple[str, str], int] = {}
        self.now = 0
        self.started_real = time.monotonic()
        self.started_sim = 0
        self.last_progress = -HOUR

    # --- Who takes part --------------------------------------------------------------

    def _clerks(self) -> dict[int, list[Any]]:
        """Two clerks per municipality (the first two assigned, by username)."""
        by_municipality: dict[int, list[Any]] = {}
        for assignment in (
            ClerkAssignment.objects.filter(election=self.election, municipality__isnull=False)
            .select_related("user")
            .order_by("user__username")
        ):
            assert assignment.municipality_id is not None
            by_municipality.setdefault(assignment.municipality_id, []).append(assignment.user)
        missing = sorted(
            {
                station.municipality.code
                for station in self.stations.values()
                if len(by_municipality.get(station.municipality_id, [])) < 2
            }
        )
        if missing:
            raise NightError(
                "Every municipality needs two clerks assigned to it; missing in: "
                + ", ".join(missing)
            )
        return by_municipality

    def _members(self) -> list[Any]:
        """Two commission members who typed nothing here (four eyes)."""
        typed = RecordEntry.objects.filter(round__station__election=self.election).values(
            "clerk_id"
        )
        members = list(
            get_user_model()
            .objects.filter(groups__name=ROLE_COMMISSION_MEMBER, is_active=True)
            .exclude(pk__in=typed)
            .order_by("username")[:2]
        )
        if len(members) < 2:
            raise NightError("The night needs two active commission members.")
        return members

    def member(self, index: int) -> Any:
        return self.members[index % 2]

    def _observers(self) -> list[Any]:
        """The observers of plan.OBSERVERS, in its order: the representative
        of the list first on the ballot and an organisation, accredited
        through the observers service the first time the night runs."""
        first_list = (
            ElectoralList.objects.filter(election=self.election).order_by("ballot_number").first()
        )
        if first_list is None:
            raise NightError("The election has no list on its ballot.")
        observers = []
        for kind in OBSERVERS:
            username = OBSERVER_USERNAMES[kind].format(
                slug=self.election.slug, number=first_list.ballot_number
            )
            user, created = get_user_model().objects.get_or_create(username=username)
            if created:
                user.set_unusable_password()
                user.save(update_fields=["password"])
            if not Observer.objects.filter(user=user, election=self.election).exists():
                observer_accredit(
                    actor=None,
                    user=user,
                    election=self.election,
                    electoral_list=first_list if kind == "list" else None,
                    organisation=OBSERVER_ORGANISATION if kind == "organisation" else "",
                    reason="Simulated election night: an observer brings copies of records.",
                )
            observers.append(user)
        return observers

    # --- The clock ---------------------------------------------------------------------

    def clock(self, at: int | None = None) -> str:
        seconds = POLLS_CLOSE_HOUR * HOUR + (self.now if at is None else at)
        return f"{seconds // HOUR % 24:02d}:{seconds // 60 % 60:02d}"

    def say(self, text: str) -> None:
        self.write(f"{self.clock()}  {text}")

    def _pace(self, at: int) -> None:
        """Wait, at ``speed`` simulated seconds a real second, until ``at``."""
        if self.speed > 0:
            due = self.started_real + (at - self.started_sim) / self.speed
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        self.now = max(self.now, at)

    def _push(self, at: int, kind: str, *args: Any) -> None:
        self.sequence += 1  # equal times keep the order they were planned in
        heapq.heappush(self.events, (at, self.sequence, kind, args))

    def _act(self) -> None:
        self.actions += 1
        if self.stop_after is not None and self.actions >= self.stop_after:
            raise NightStopped()

    # --- The night -----------------------------------------------------------------------

    def run(self) -> NightReport:
        self._schedule_start()
        self.write(
            f"The night of {self.election.slug}: {len(self.stations)} stations, "
            f"seed {self.seed}, "
            + (f"{self.speed:g} times real time." if self.speed else "as fast as it goes.")
        )
        next_sweep = self.now
        while True:
            while self.events:
                at, _order, kind, args = heapq.heappop(self.events)
                while next_sweep <= at:
                    self._pace(next_sweep)
                    self._sweep(force=False)
                    next_sweep += SWEEP_EVERY
                self._pace(at)
                getattr(self, f"_on_{kind}")(*args)
            # Nothing planned is left: the members clear their queues, which
            # may order repeat votes whose records are still to come.
            if self._finish():
                break
            next_sweep = self.now
        if self.certify:
            self._certify()
        return self.report

    def _schedule_start(self) -> None:
        """Everything still to come, read from the database."""
        rounds = current_rounds(self.election)
        entered = self._clerk_entries()
        pending: list[int] = []
        for round in rounds.values():
            station = round.station
            plan = self.plan.stations[station.code]
            if round.status not in OPEN_FOR_ENTRY:
                continue
            if round.number == 1 and plan.arrives_at is None:
                continue  # the record never arrives: the deadline settles it
            for slot, clerk in enumerate(self._station_clerks(station), start=1):
                attempts, live = entered.get((round.pk, clerk.pk), (0, False))
                if live:
                    continue
                at = self._entry_time(round, slot, attempts)
                pending.append(at)
                self._schedule_entry(at, station.code, round.number, slot, attempts)
        self._schedule_copies()
        u2_waiting = [
            code
            for code in self.plan.with_problem("U2")
            if (round := rounds.get(self.stations[code].pk)) is not None
            and round.number == 1
            and round.status == StationRound.Status.AWAITING
        ]
        if u2_waiting:
            self._push(ENTRY_DEADLINE, "deadline")
            pending.append(ENTRY_DEADLINE)
        if not self._objection_filed():
            self._push(max(OBJECTION_AT, min(pending, default=OBJECTION_AT)), "objection")
        self.now = self.started_sim = min(pending, default=ENTRY_DEADLINE)
        self.started_real = time.monotonic()

    def _schedule_copies(self) -> None:
        """Each planned copy an observer has not brought yet."""
        brought = set(
            ObserverCopy.objects.filter(round__station__election=self.election).values_list(
                "observer__user_id", "round__station__code"
            )
        )
        for code, plan in self.plan.stations.items():
            if plan.arrives_at is None:
                continue
            for copy in plan.copies:
                if (self.observers[copy.observer].pk, code) not in brought:
                    self._push(plan.arrives_at + copy.after, "copy", code, copy.observer)

    def _clerk_entries(self) -> dict[tuple[int, int], tuple[int, bool]]:
        """(round, clerk) -> (entries made, one of them live)."""
        return {
            (row["round_id"], row["clerk_id"]): (row["made"], row["live"] > 0)
            for row in RecordEntry.objects.filter(round__station__election=self.election)
            .values("round_id", "clerk_id")
            .annotate(
                made=Count("id"),
                live=Count("id", filter=Q(superseded_at__isnull=True)),
            )
        }

    def _station_clerks(self, station: PollingStation) -> list[Any]:
        return self.clerks[station.municipality_id][:2]

    def _entry_time(self, round: StationRound, slot: int, attempts: int) -> int:
        """When clerk ``slot`` types the round: round 1 as the plan has it
        (again soon after, when it was returned for entry); a repeat round on
        the evening of the repeat vote."""
        plan = self.plan.stations[round.station.code]
        second = plan.second_after if slot == 2 else 0
        if round.number > 1:
            return max(self.now, REPEAT_EVENING) + plan.repeat_after + second
        if attempts == 0 and plan.arrives_at is not None:
            return plan.arrives_at + second
        return self.now + plan.second_after + second

    def _schedule_entry(self, at: int, code: str, number: int, slot: int, attempt: int) -> None:
        key = (code, number, slot, attempt)
        if key not in self.scheduled:
            self.scheduled.add(key)
            self._push(at, "entry", code, number, slot, attempt)

    # --- Clerks ------------------------------------------------------------------------

    def _on_entry(self, code: str, number: int, slot: int, attempt: int) -> None:
        station = self.stations[code]
        round = round_current(station)
        if round is None or round.number != number or round.status not in OPEN_FOR_ENTRY:
            return
        clerk = self._station_clerks(station)[slot - 1]
        if any(entry.clerk_id == clerk.pk for entry in live_entries(round)):
            return
        paper = self.plan.stations[code].typed(number, slot=slot, first_attempt=attempt == 0)
        key = uuid.uuid5(KEY_NAMESPACE, f"{round.pk}:{clerk.pk}:{attempt}").hex
        try:
            result = record_submit(
                actor=clerk,
                station=station,
                values=dict(paper.values),
                votes=list(paper.votes.items()),
                idempotency_key=key,
            )
        except EntryRefused as error:
            self.say(f"{code}: entry refused: {error}")
            return
        self.report.entries += int(result.created)
        if slot == 1 and number == 1 and self.plan.stations[code].scan:
            self._attach_scan(code, clerk, result.round, result.entry)
        counted = result.round.status == StationRound.Status.ACCEPTED
        if counted and self.now - self.last_progress >= PROGRESS_EVERY:
            self._progress()
        self._act()

    def _attach_scan(self, code: str, clerk: Any, round: StationRound, entry: Any) -> None:
        """The first clerk photographs the signed record after typing it
        (once: a night started again finds the scan there)."""
        if RecordScan.objects.filter(round=round, kind=RecordScan.Kind.RECORD).exists():
            return
        photo = record_photo(code, self.plan.stations[code].paper(round.number))
        checked = scan_check(name=f"{code}.png", file=io.BytesIO(photo))
        scan_attach(actor=clerk, round=round, checked=checked, entry=entry)

    def _on_copy(self, code: str, observer: int) -> None:
        """An observer brings its copy of the station's record."""
        user = self.observers[observer]
        station = self.stations[code]
        if ObserverCopy.objects.filter(observer__user=user, round__station=station).exists():
            return
        copy = next(item for item in self.plan.stations[code].copies if item.observer == observer)
        try:
            copy_submit(
                actor=user,
                station=station,
                values=dict(copy.paper.values),
                votes=list(copy.paper.votes.items()),
                source=ObserverCopy.Source.API,
            )
        except EntryRefused as error:
            self.say(f"{code}: copy refused: {error}")
            return
        self._act()

    def _progress(self) -> None:
        self.last_progress = self.now
        counted = StationRound.objects.filter(
            station__election=self.election, status=StationRound.Status.ACCEPTED
        ).count()
        self.say(f"{counted} of {len(self.stations)} stations counted")

    # --- The commission ------------------------------------------------------------------

    def _due(self, queue: str, key: str, wait: int, force: bool) -> bool:
        """An item is taken up once it has waited ``wait`` simulated seconds."""
        seen = self.first_seen.setdefault((queue, key), self.now)
        return force or self.now - seen >= wait

    def _sweep(self, *, force: bool) -> bool:
        """The members go through their queues once; True when they decided."""
        queues = dashboard_get(self.election).queues
        work: list[tuple[Callable[..., bool], tuple[Any, ...]]] = []
        for item in queues["entries_differ"]:
            if self._due("differ", item.station_code, REACTION, force):
                work.append((self._reconcile, (item.station_code,)))
        for item in queues["held"]:
            if self._due("held", item.station_code + ",".join(item.codes), REACTION, force):
                work.append((self._settle_held, (item.station_code, item.codes)))
        for item in queues["warnings"]:
            if self._due("warnings", item.station_code + ",".join(item.codes), REACTION, force):
                work.append((self._settle_warnings, (item.station_code,)))
        for item in queues["objections"]:
            if self._due("objection", str(item.object_id), OBJECTION_REACTION, force):
                work.append((self._decide_objection, (item.object_id,)))
        for item in queues["ties"]:
            work.append((self._draw_lots, (item.codes,)))
        decided = False
        for decide, arguments in work:
            try:
                decided |= decide(*arguments)
            except EntryRefused as error:
                # A person at the dashboard decided first (a demo invites
                # it), or the item moved on since the queue was read.
                self.say(f"{arguments[0] or 'the commission'}: not decided here: {error}")
        self._schedule_repeats()
        return decided

    def _current(self, code: str) -> StationRound:
        round = round_current(self.stations[code])
        assert round is not None
        return round

    def _decided(self, decision: Decision, text: str) -> bool:
        self.report.decisions[decision.kind] += 1
        self.decision_count += 1
        self.say(f"{decision.decided_by.get_username()}: {text}")
        self._act()
        return True

    def _reconcile(self, code: str) -> bool:
        round = self._current(code)
        if round.status != StationRound.Status.ENTRIES_DIFFER:
            return False
        paper = self.plan.stations[code].paper(round.number)
        entries = live_entries(round)
        right = next(
            (entry for entry in entries if paper_matches(entry_record(entry), paper)), None
        )
        decision = entries_reconcile(
            actor=self.member(self.decision_count),
            round=round,
            keep_entry=right,
            return_for_entry=right is None,
            reason=(
                f"Upoređeno sa zapisnikom: tačan je unos {right.entry_number}."
                if right is not None
                else "Upoređeno sa zapisnikom: nijedan unos nije tačan; unosi se ponovo."
            ),
        )
        kept = f"kept entry {right.entry_number}" if right else "returned it for entry"
        return self._decided(decision, f"{code}: the two entries differ; {kept}")

    def _settle_held(self, code: str, codes: tuple[str, ...]) -> bool:
        ground = next((ground for ground in ANNUL_ORDER if ground in codes), None)
        if ground is not None:
            return self._annul(code, ground)
        if any(item.startswith("S") for item in codes):
            return self._correct(
                code, "Čl. 110: izvršen uvid u izborni materijal; zapisnik ispravljen.", codes
            )
        return False

    def _annul(self, code: str, ground: str) -> bool:
        today = timezone.localdate()
        voting_date = today + timedelta(days=REPEAT_VOTE_IN_DAYS)
        decision = station_annul(
            actor=self.member(self.decision_count),
            station=self.stations[code],
            ground=ground,
            voting_date=voting_date,
            reason=GROUND_REASONS[ground] + " Glasanje se ponavlja.",
            today=today,
        )
        return self._decided(
            decision, f"{code}: annulled ({ground}), repeat vote on {voting_date.isoformat()}"
        )

    def _correct(self, code: str, reason: str, codes: tuple[str, ...]) -> bool:
        round = self._current(code)
        truth = self.plan.stations[code].truth
        decision = record_correct(
            actor=self.member(self.decision_count),
            round=round,
            values=dict(truth.values),
            votes=list(truth.votes.items()),
            reason=reason,
        )
        return self._decided(
            decision, f"{code}: record corrected from the material ({', '.join(codes)})"
        )

    def _settle_warnings(self, code: str) -> bool:
        """A minor error whose record is wrong is corrected (Art. 109); a
        warning on a true record is acknowledged."""
        round = self._current(code)
        findings = list(
            Finding.objects.filter(
                round=round, status=Finding.Status.OPEN, category__in=("C", "W")
            ).exclude(code="W6")
        )
        record = AcceptedRecord.objects.filter(round=round, superseded_at__isnull=True).first()
        truth = self.plan.stations[code].truth
        if (
            any(finding.category == "C" for finding in findings)
            and record is not None
            and not paper_matches(entry_record(record), truth)
        ):
            return self._correct(
                code,
                "Čl. 109: manja greška ispravljena prema izvodu iz biračkog spiska.",
                tuple(finding.code for finding in findings if finding.category == "C"),
            )
        decided = False
        for finding in findings:
            decision = finding_acknowledge(
                actor=self.member(self.decision_count),
                finding=finding,
                reason=f"{finding.code}: provereno prema zapisniku, podaci su tačni.",
            )
            decided = self._decided(decision, f"{code}: {finding.code} acknowledged")
        return decided

    def _decide_objection(self, objection_id: int | None) -> bool:
        objection = Objection.objects.filter(pk=objection_id).first()
        if objection is None or objection.status != Objection.Status.OPEN:
            return False
        decision = objection_decide(
            actor=self.member(self.decision_count),
            objection=objection,
            upheld=False,
            reason="Zapisnik je upoređen sa izbornim materijalom: rezultat ostaje.",
        )
        return self._decided(decision, f"objection {objection.pk} rejected")

    def _draw_lots(self, codes: tuple[str, ...]) -> bool:
        drawn = [int(number) for number in codes]
        self.rng.shuffle(drawn)
        decision = lots_draw(
            actor=self.member(self.decision_count),
            election=self.election,
            lots_drawn=drawn,
            reason="Žreb je izvršen javno.",
        )
        return self._decided(decision, f"lots drawn: {', '.join(map(str, drawn))}")

    def _schedule_repeats(self) -> None:
        """Rounds the commission sent back to the clerks: a repeat vote's
        (its record comes in on the evening of the vote), or entries returned."""
        rounds = (
            StationRound.objects.filter(station__election=self.election, status__in=OPEN_FOR_ENTRY)
            .filter(Q(number__gt=1) | Q(entries__isnull=False))
            .distinct()
            .select_related("station")
        )
        entered = self._clerk_entries()
        for round in rounds:
            for slot, clerk in enumerate(self._station_clerks(round.station), start=1):
                attempts, live = entered.get((round.pk, clerk.pk), (0, False))
                if not live:
                    at = self._entry_time(round, slot, attempts)
                    self._schedule_entry(at, round.station.code, round.number, slot, attempts)

    # --- Events --------------------------------------------------------------------------

    def _on_deadline(self) -> None:
        """The deadline: a record still missing is U2, and the vote is repeated."""
        self.say("Entry deadline: records not received are annulled (U2).")
        for code in self.plan.with_problem("U2"):
            round = self._current(code)
            if round.number == 1 and round.status == StationRound.Status.AWAITING:
                self._annul(code, "U2")
        self.say("The repeat votes are held a week later; the clock jumps to that evening.")

    def _objection_filed(self) -> bool:
        return Objection.objects.filter(
            election=self.election, filed_by__startswith=OBJECTOR.split("{")[0]
        ).exists()

    def _on_objection(self) -> None:
        """A list's representative objects to a counted station's result."""
        first = latest_snapshot(self.election)
        problems = self.plan.problem_stations
        counted = (
            StationRound.objects.filter(
                station__election=self.election, status=StationRound.Status.ACCEPTED, number=1
            )
            .exclude(station__code__in=problems)
            .order_by("station__code")
            .select_related("station")
            .first()
        )
        if first is None or counted is None or self._objection_filed():
            if first is None or counted is None:
                self._push(self.now + 15 * 60, "objection")
            return
        opened = objection_window_opened_at(
            self.election, subject=Objection.Subject.STATION, decision=None
        )
        assert opened is not None  # a snapshot exists
        filed_at = min(timezone.now(), opened + objection_window())
        number = sorted(self.plan.stations[counted.station.code].truth.votes)[-1]
        objection = objection_register(
            actor=self.member(0),
            election=self.election,
            filed_at=filed_at,
            filed_by=OBJECTOR.format(number=number),
            subject=Objection.Subject.STATION,
            station=counted.station,
            grounds="Brojanje na ovom biračkom mestu je bilo užurbano; traži se ponovno brojanje.",
        )
        self.say(f"objection {objection.pk} filed against {counted.station.code}")
        self._act()

    # --- The end of the night ------------------------------------------------------------

    def _finish(self) -> bool:
        """Work the queues until nothing is left, waiting for the worker's
        result after each change; False when entries were scheduled (repeat
        votes, returned records) and the night goes on."""
        waited_since = time.monotonic()
        last_version = None
        while True:
            if self._sweep(force=True):
                continue
            if self.events:
                return False
            snapshot = latest_snapshot(self.election)
            version = snapshot.version if snapshot is not None else None
            if version != last_version:
                last_version, waited_since = version, time.monotonic()
            waiting = {blocker.code for blocker in blockers_get(self.election)}
            waiting.discard("objection_window")
            if not waiting:
                break
            self._result_ask(waiting)
            if time.monotonic() - waited_since > WORKER_WAIT:
                raise NightError(
                    f"No new result for {WORKER_WAIT:.0f} s while "
                    + ", ".join(sorted(waiting))
                    + " remain: is a worker running (celery -A commission worker)? "
                    "Start one and run the command again; the night carries on."
                )
            time.sleep(0.3)
        self.say("The night's work is done: every station counted or settled.")
        return True

    def _certify(self) -> None:
        """Two members certify once the objection window has closed. With a
        window longer than half an hour (the law's 72 hours), or at speed 0,
        the simulated commission certifies at the moment it closes instead
        of waiting for it in real time."""
        now = timezone.now()
        until = dashboard_get(self.election).objection_window_closes
        if until is not None and until > now:
            if self.speed > 0 and (until - now).total_seconds() <= 30 * 60:
                closes = timezone.localtime(until)
                self.say(f"waiting for the objection window to close ({closes:%H:%M:%S})")
                time.sleep((until - now).total_seconds() + 1)
                now = timezone.now()
            else:
                now = until + timedelta(seconds=1)
                closes = timezone.localtime(until)
                self.say(f"the objection window closes {closes:%Y-%m-%d %H:%M}: certified then")
        while True:
            try:
                proposal = certification_propose(
                    actor=self.member(0), election=self.election, now=now
                )
                official = certification_confirm(
                    actor=self.member(1), certification=proposal, now=now
                )
                break
            except CertificationRefused as error:
                # The result moved under the proposal: wait for the worker,
                # propose again.
                self.say(f"certification postponed: {error}")
                self._finish_wait()
                now = max(now, timezone.now())
        self.report.official_version = official.version
        self.report.seats = {
            item["ballot_number"]: item["seats"] for item in official.payload["lists"]
        }
        self.say(
            f"{self.member(0).get_username()} proposed, {self.member(1).get_username()} "
            f"confirmed: official result, version {official.version}"
        )
        self._wait_published(official.version)

    def _result_ask(self, blockers: set[str]) -> None:
        """Ask again for a tabulation when the result is behind. Every
        decision asks for one itself; a run that read the rows just before
        the last decision committed leaves the result behind until the next
        request, and the members do not wait for the sweep to make one."""
        if blockers & {"no_result", "result_behind"}:
            tabulation_request(election_id=self.election.pk)

    def _finish_wait(self) -> None:
        deadline = time.monotonic() + WORKER_WAIT
        while time.monotonic() < deadline:
            codes = {blocker.code for blocker in blockers_get(self.election)}
            if not codes & {"no_result", "result_behind"}:
                return
            self._result_ask(codes)
            time.sleep(0.3)
        raise NightError(f"No current result for {WORKER_WAIT:.0f} s: is a worker running?")

    def _wait_published(self, version: int) -> None:
        deadline = time.monotonic() + WORKER_WAIT
        while time.monotonic() < deadline:
            document = published_results_get(self.election.slug)
            if document is not None and document.get("version", 0) >= version:
                return
            time.sleep(0.3)
        raise NightError(f"The official result (version {version}) was not published.")


def night_summary(election: Election, report: NightReport) -> list[str]:
    """The night in a few lines, from the database."""
    rounds = StationRound.objects.filter(station__election=election)
    repeats = rounds.filter(number__gt=1)
    repeats_counted = repeats.filter(status=StationRound.Status.ACCEPTED).count()
    decisions = Counter(Decision.objects.filter(election=election).values_list("kind", flat=True))
    lines = [
        f"Stations: {rounds.values('station').distinct().count()}, counted "
        f"{rounds.filter(status=StationRound.Status.ACCEPTED).count()}; repeat votes "
        f"{repeats.count()} ({repeats_counted} counted).",
        f"Entries typed: {RecordEntry.objects.filter(round__station__election=election).count()} "
        f"({report.entries} in this run).",
        "Decisions: "
        + (", ".join(f"{kind} {count}" for kind, count in sorted(decisions.items())) or "none")
        + f"; objections {Objection.objects.filter(election=election).count()}.",
    ]
    if report.official_version is not None:
        seats = ", ".join(
            f"list {number}: {count}"
            for number, count in sorted(report.seats.items(), key=lambda item: -item[1])
            if count
        )
        lines.append(f"Official result, version {report.official_version}. Seats: {seats}.")
    return lines
