"""The data of an election night. See docs/data-model.md for the picture.

Invariants live in the database, not only in forms (house rule 6): every
foreign key is PROTECT, counts are non-negative (PositiveIntegerField adds a
CHECK on both SQLite and PostgreSQL), and the uniqueness rules of the count
(one accepted record per round, one live entry per clerk per round, one ballot
number per list) are constraints. Rows that record what people typed or
decided are never updated or deleted: superseded rows are marked.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from tabulation.domain.record import RECORD_FIELDS
from tabulation.domain.record import Finding as DomainFinding

# The head of an empty audit chain: the "previous hash" of event 1.
GENESIS_HASH = "0" * 64

PERCENT_VALIDATORS = [MinValueValidator(0), MaxValueValidator(100)]


class ImmutableRowError(Exception):
    """An attempt to change or delete a row that is written once (audit, snapshot)."""


class AppendOnlyQuerySet(models.QuerySet):
    """Refuses bulk update and delete: the rows are written once.

    The same rule holds for raw SQL on PostgreSQL through a trigger (migration
    0003); this stops the ORM paths (admin actions, a careless `.update()`).
    """

    def update(self, **kwargs: Any) -> int:
        raise ImmutableRowError(f"{self.model.__name__} rows are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise ImmutableRowError(f"{self.model.__name__} rows are append-only")


class LockedRowQuerySet(models.QuerySet):
    """Rows that a service locks to change them, never to change their key.

    ``locked()`` takes PostgreSQL's FOR NO KEY UPDATE on these rows only. It
    does not conflict with the KEY SHARE lock a foreign key check takes, so
    the tabulation, which holds the election row and inserts findings that
    point at a round or an entry, never waits on a clerk who holds that round
    and waits for the election row: the deadlock a full FOR UPDATE made under
    CI. ``of=("self",)`` keeps joined rows (the station, the election) out of
    the statement, so the election is locked only where the fixed order says.
    """

    def locked(self) -> LockedRowQuerySet:
        return self.select_for_update(no_key=True, of=("self",))


# --- The election and its geography ------------------------------------------


class Election(models.Model):
    class EntryMode(models.TextChoices):
        SINGLE = "single", _("single entry")
        DOUBLE = "double", _("double entry")

    class Status(models.TextChoices):
        SETUP = "setup", _("setup")
        VOTING = "voting", _("voting")
        COUNTING = "counting", _("counting")
        CERTIFIED = "certified", _("certified")

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    date = models.DateField(_("election day"))
    seats = models.PositiveSmallIntegerField(_("seats"))
    threshold_percent = models.DecimalField(
        _("threshold (percent of voters who voted)"),
        max_digits=5,
        decimal_places=2,
        validators=PERCENT_VALIDATORS,
    )
    minority_bonus_percent = models.DecimalField(
        _("national-minority bonus (percent)"),
        max_digits=5,
        decimal_places=2,
        validators=PERCENT_VALIDATORS,
    )
    entry_mode = models.CharField(
        _("entry mode"), max_length=10, choices=EntryMode.choices, default=EntryMode.DOUBLE
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.SETUP
    )
    # After this moment a station without a record raises U2 "record not received".
    entry_deadline = models.DateTimeField(_("entry deadline"), null=True, blank=True)
    # Per-file hash of the imported CSV set: lets a second import see whether
    # anything changed (see services/election_setup.py).
    setup_fingerprint = models.JSONField(_("setup fingerprint"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("election")
        verbose_name_plural = _("elections")
        ordering = ["-date", "slug"]
        permissions = [("import_election", _("Can import an election's setup"))]
        constraints = [
            models.CheckConstraint(condition=Q(seats__gte=1), name="election_seats_at_least_one"),
            models.CheckConstraint(
                condition=Q(threshold_percent__gte=0, threshold_percent__lte=100),
                name="election_threshold_percent_range",
            ),
            models.CheckConstraint(
                condition=Q(minority_bonus_percent__gte=0, minority_bonus_percent__lte=100),
                name="election_minority_bonus_percent_range",
            ),
            models.CheckConstraint(
                condition=Q(entry_mode__in=["single", "double"]), name="election_entry_mode_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["setup", "voting", "counting", "certified"]),
                name="election_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Municipality(models.Model):
    election = models.ForeignKey(
        Election,
        on_delete=models.PROTECT,
        related_name="municipalities",
        verbose_name=_("election"),
    )
    code = models.SlugField(_("code"), max_length=50)
    name = models.CharField(_("name"), max_length=200)
    # As published by the electoral commission; the stations' own figures are
    # what the count uses, this one is for comparison.
    registered = models.PositiveIntegerField(_("registered voters"))

    class Meta:
        verbose_name = _("municipality")
        verbose_name_plural = _("municipalities")
        ordering = ["election", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["election", "code"], name="municipality_code_unique_per_election"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class PollingStation(models.Model):
    # The election is stored on the station too, so that "code unique per
    # election" can be a plain database constraint.
    election = models.ForeignKey(
        Election,
        on_delete=models.PROTECT,
        related_name="stations",
        verbose_name=_("election"),
    )
    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.PROTECT,
        related_name="stations",
        verbose_name=_("municipality"),
    )
    code = models.SlugField(_("code"), max_length=50)
    number = models.PositiveIntegerField(_("number in the municipality"))
    name = models.CharField(_("name"), max_length=200)
    address = models.CharField(_("address"), max_length=300, blank=True)
    registered = models.PositiveIntegerField(_("registered voters"))

    class Meta:
        verbose_name = _("polling station")
        verbose_name_plural = _("polling stations")
        ordering = ["election", "municipality", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["election", "code"], name="station_code_unique_per_election"
            ),
            models.UniqueConstraint(
                fields=["municipality", "number"], name="station_number_unique_per_municipality"
            ),
            models.CheckConstraint(condition=Q(number__gte=1), name="station_number_at_least_one"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class ElectoralList(models.Model):
    election = models.ForeignKey(
        Election,
        on_delete=models.PROTECT,
        related_name="electoral_lists",
        verbose_name=_("election"),
    )
    ballot_number = models.PositiveSmallIntegerField(_("ballot number"))
    name = models.CharField(_("name"), max_length=300)
    ballot_carrier = models.CharField(_("ballot carrier"), max_length=200, blank=True)
    # Decided by the commission when it proclaims the list (RULES.md section 3).
    minority = models.BooleanField(_("national-minority list"), default=False)
    colour = models.CharField(
        _("colour"),
        max_length=7,
        default="#777777",
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", _("A colour is #rrggbb."))],
    )

    class Meta:
        verbose_name = _("electoral list")
        verbose_name_plural = _("electoral lists")
        ordering = ["election", "ballot_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["election", "ballot_number"], name="list_ballot_number_unique_per_election"
            ),
            models.UniqueConstraint(
                fields=["election", "name"], name="list_name_unique_per_election"
            ),
            models.CheckConstraint(
                condition=Q(ballot_number__gte=1), name="list_ballot_number_at_least_one"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ballot_number}. {self.name}"


class Candidate(models.Model):
    electoral_list = models.ForeignKey(
        ElectoralList,
        on_delete=models.PROTECT,
        related_name="candidates",
        verbose_name=_("electoral list"),
    )
    position = models.PositiveSmallIntegerField(_("position on the list"))
    name = models.CharField(_("name"), max_length=200)
    withdrawn = models.BooleanField(_("withdrawn"), default=False)

    class Meta:
        verbose_name = _("candidate")
        verbose_name_plural = _("candidates")
        ordering = ["electoral_list", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["electoral_list", "position"], name="candidate_position_unique_per_list"
            ),
            models.CheckConstraint(
                condition=Q(position__gte=1), name="candidate_position_at_least_one"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.name}"


class ClerkAssignment(models.Model):
    """Which stations a clerk may enter: one station, or a whole municipality."""

    election = models.ForeignKey(
        Election,
        on_delete=models.PROTECT,
        related_name="clerk_assignments",
        verbose_name=_("election"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="clerk_assignments",
        verbose_name=_("clerk"),
    )
    station = models.ForeignKey(
        PollingStation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="clerk_assignments",
        verbose_name=_("polling station"),
    )
    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="clerk_assignments",
        verbose_name=_("municipality"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("clerk assignment")
        verbose_name_plural = _("clerk assignments")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(station__isnull=False, municipality__isnull=True)
                    | Q(station__isnull=True, municipality__isnull=False)
                ),
                name="clerk_assignment_station_xor_municipality",
            ),
            models.UniqueConstraint(
                fields=["user", "station"],
                condition=Q(station__isnull=False),
                name="clerk_assignment_unique_station",
            ),
            models.UniqueConstraint(
                fields=["user", "municipality"],
                condition=Q(municipality__isnull=False),
                name="clerk_assignment_unique_municipality",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.station or self.municipality}"


# --- Decisions of the commission -----------------------------------------------


# Decision kinds that are always about one station's round.
DECISION_KINDS_WITH_ROUND = ["correct", "annul_and_order_repeat", "dismiss_warning", "reconcile"]
DECISION_KINDS = [*DECISION_KINDS_WITH_ROUND, "drawing_of_lots", "objection_decided", "reopen"]


class Decision(models.Model):
    """A recorded decision of the commission; the only way results change
    after a record is accepted (RULES.md sections 2 and 5)."""

    class Kind(models.TextChoices):
        CORRECT = "correct", _("correct the record (Art. 109, 110)")
        ANNUL_AND_ORDER_REPEAT = "annul_and_order_repeat", _("annul and order a repeat vote")
        DISMISS_WARNING = "dismiss_warning", _("dismiss a warning")
        DRAWING_OF_LOTS = "drawing_of_lots", _("drawing of lots")
        OBJECTION_DECIDED = "objection_decided", _("objection decided")
        RECONCILE = "reconcile", _("reconcile two entries that differ")
        REOPEN = "reopen", _("reopen the certified result")

    election = models.ForeignKey(
        Election, on_delete=models.PROTECT, related_name="decisions", verbose_name=_("election")
    )
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    round = models.ForeignKey(
        "StationRound",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="decisions",
        verbose_name=_("round"),
    )
    station = models.ForeignKey(
        PollingStation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="decisions",
        verbose_name=_("polling station"),
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="decisions",
        verbose_name=_("decided by"),
    )
    reason = models.TextField(_("reason"))
    payload = models.JSONField(_("payload"), default=dict, blank=True)
    decided_at = models.DateTimeField(_("decided at"), auto_now_add=True)

    class Meta:
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")
        ordering = ["decided_at", "pk"]
        permissions = [("decide", _("Can take decisions of the commission"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=DECISION_KINDS),
                name="decision_kind_valid",
            ),
            # A decision without its reasons is not a decision.
            models.CheckConstraint(condition=~Q(reason=""), name="decision_reason_required"),
            models.CheckConstraint(
                condition=~Q(kind__in=DECISION_KINDS_WITH_ROUND) | Q(round__isnull=False),
                name="decision_round_required_for_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"


class Objection(models.Model):
    """An objection (prigovor) filed with the commission (RULES.md section 5).

    Filed within 72 hours of the act it is against: the provisional results
    (or a station's result in them) or a decision; the commission decides it
    by a Decision of kind `objection_decided`. The row is written when the
    objection is registered and changed once, when it is decided.
    """

    class Subject(models.TextChoices):
        RESULT = "result", _("the provisional result")
        STATION = "station", _("a polling station's result")
        DECISION = "decision", _("a decision of the commission")

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        UPHELD = "upheld", _("upheld")
        REJECTED = "rejected", _("rejected")

    election = models.ForeignKey(
        Election, on_delete=models.PROTECT, related_name="objections", verbose_name=_("election")
    )
    filed_at = models.DateTimeField(_("filed at"))
    filed_by = models.CharField(_("filed by"), max_length=300)
    subject = models.CharField(_("against"), max_length=10, choices=Subject.choices)
    station = models.ForeignKey(
        PollingStation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="objections",
        verbose_name=_("polling station"),
    )
    decision = models.ForeignKey(
        Decision,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="objections",
        verbose_name=_("decision objected to"),
    )
    grounds = models.TextField(_("grounds"))
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="objections_registered",
        verbose_name=_("registered by"),
    )
    registered_at = models.DateTimeField(_("registered at"), auto_now_add=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    decided_by = models.OneToOneField(
        Decision,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="objection_decided",
        verbose_name=_("decided by decision"),
    )

    class Meta:
        verbose_name = _("objection")
        verbose_name_plural = _("objections")
        ordering = ["filed_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(subject__in=["result", "station", "decision"]),
                name="objection_subject_valid",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["open", "upheld", "rejected"]),
                name="objection_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(subject="station") | Q(station__isnull=False),
                name="objection_station_subject_has_station",
            ),
            models.CheckConstraint(
                condition=~Q(subject="decision") | Q(decision__isnull=False),
                name="objection_decision_subject_has_decision",
            ),
            models.CheckConstraint(condition=~Q(grounds=""), name="objection_grounds_required"),
            models.CheckConstraint(condition=~Q(filed_by=""), name="objection_filed_by_required"),
            models.CheckConstraint(
                condition=Q(status="open", decided_by__isnull=True)
                | (~Q(status="open") & Q(decided_by__isnull=False)),
                name="objection_decision_matches_status",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_subject_display()} #{self.pk}"


# --- One station, one round, its entries and its accepted record ------------------


class StationRound(models.Model):
    """The vote at one station. A repeat vote is a new round (RULES.md section 4)."""

    class Status(models.TextChoices):
        AWAITING = "awaiting", _("awaiting")
        FIRST_ENTRY = "first_entry", _("first entry")
        SECOND_ENTRY = "second_entry", _("second entry")
        ENTRIES_DIFFER = "entries_differ", _("entries differ")
        ACCEPTED = "accepted", _("accepted")
        HELD = "held", _("held")
        ANNULLED = "annulled", _("annulled")

    station = models.ForeignKey(
        PollingStation,
        on_delete=models.PROTECT,
        related_name="rounds",
        verbose_name=_("polling station"),
    )
    number = models.PositiveSmallIntegerField(_("round"), default=1)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.AWAITING
    )
    # For a repeat vote: when and by which decision it was ordered.
    ordered_at = models.DateTimeField(_("ordered at"), null=True, blank=True)
    ordered_by = models.ForeignKey(
        Decision,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ordered_rounds",
        verbose_name=_("ordered by decision"),
    )
    voting_date = models.DateField(_("voting date"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    status_changed_at = models.DateTimeField(_("status changed at"), auto_now=True)

    objects = LockedRowQuerySet.as_manager()

    class Meta:
        verbose_name = _("station round")
        verbose_name_plural = _("station rounds")
        ordering = ["station", "number"]
        constraints = [
            models.UniqueConstraint(fields=["station", "number"], name="round_number_unique"),
            models.CheckConstraint(condition=Q(number__gte=1), name="round_number_at_least_one"),
            # An annulled round is replaced by a new one: never two live rounds.
            models.UniqueConstraint(
                fields=["station"],
                condition=~Q(status="annulled"),
                name="round_one_live_per_station",
            ),
            models.CheckConstraint(
                condition=Q(
                    status__in=[
                        "awaiting",
                        "first_entry",
                        "second_entry",
                        "entries_differ",
                        "accepted",
                        "held",
                        "annulled",
                    ]
                ),
                name="round_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.station.code} / {self.number}"


class RecordFields(models.Model):
    """The fields of the polling-board record, exactly RULES.md section 1.

    None means the field was left blank on paper: RULES.md tells a missing
    field apart from a zero (C1, C2, C4, C5).
    """

    registered = models.PositiveIntegerField(_("registered voters"), null=True, blank=True)
    ballots_received = models.PositiveIntegerField(_("ballots received"), null=True, blank=True)
    ballots_unused = models.PositiveIntegerField(_("unused ballots"), null=True, blank=True)
    turned_out = models.PositiveIntegerField(_("voters who turned out"), null=True, blank=True)
    ballots_in_box = models.PositiveIntegerField(_("ballots in the box"), null=True, blank=True)
    ballots_invalid = models.PositiveIntegerField(_("invalid ballots"), null=True, blank=True)
    ballots_valid = models.PositiveIntegerField(_("valid ballots"), null=True, blank=True)
    control_sheet_ok = models.BooleanField(_("control sheet in order"), null=True, blank=True)
    board_signatures = models.PositiveSmallIntegerField(
        _("board members who signed"), null=True, blank=True
    )

    RECORD_FIELD_NAMES: ClassVar[tuple[str, ...]] = RECORD_FIELDS

    class Meta:
        abstract = True

    @classmethod
    def field_label(cls, name: str) -> Any:
        """A record field's name as the paper record says it: the one source of
        the forms', the commission's and the public pages' labels. Lazy, so a
        label made at import is translated where it is shown."""
        field = cls._meta.get_field(name)
        assert isinstance(field, models.Field)
        return field.verbose_name


class RecordEntry(RecordFields):
    """One clerk's typing of one record. Never updated or deleted: a
    replaced entry gets `superseded_at` (and `superseded_by` when another
    entry replaced it)."""

    class EntryNumber(models.IntegerChoices):
        FIRST = 1, _("first entry")
        SECOND = 2, _("second entry")

    round = models.ForeignKey(
        StationRound, on_delete=models.PROTECT, related_name="entries", verbose_name=_("round")
    )
    entry_number = models.PositiveSmallIntegerField(_("entry number"), choices=EntryNumber.choices)
    clerk = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="record_entries",
        verbose_name=_("clerk"),
    )
    # Sent by the form with each POST: a repeated POST finds its entry
    # instead of storing a second one.
    idempotency_key = models.CharField(_("idempotency key"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    client_address = models.GenericIPAddressField(_("client address"), null=True, blank=True)
    superseded_at = models.DateTimeField(_("superseded at"), null=True, blank=True)
    superseded_by = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="supersedes",
        verbose_name=_("superseded by"),
    )

    objects = LockedRowQuerySet.as_manager()

    class Meta:
        verbose_name = _("record entry")
        verbose_name_plural = _("record entries")
        ordering = ["round", "entry_number", "created_at"]
        permissions = [("enter_record", _("Can enter polling-station records"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(entry_number__in=[1, 2]), name="entry_number_first_or_second"
            ),
            # Double entry means two different clerks (RULES.md section 4).
            models.UniqueConstraint(
                fields=["round", "clerk"],
                condition=Q(superseded_at__isnull=True),
                name="entry_one_live_per_clerk_per_round",
            ),
            models.UniqueConstraint(
                fields=["round", "entry_number"],
                condition=Q(superseded_at__isnull=True),
                name="entry_one_live_per_number_per_round",
            ),
            models.CheckConstraint(
                condition=Q(superseded_by__isnull=True) | Q(superseded_at__isnull=False),
                name="entry_superseded_by_needs_superseded_at",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.round} #{self.entry_number} ({self.clerk})"


class RecordEntryVote(models.Model):
    entry = models.ForeignKey(
        RecordEntry, on_delete=models.PROTECT, related_name="votes", verbose_name=_("entry")
    )
    electoral_list = models.ForeignKey(
        ElectoralList,
        on_delete=models.PROTECT,
        related_name="entry_votes",
        verbose_name=_("electoral list"),
    )
    votes = models.PositiveIntegerField(_("votes"))

    class Meta:
        verbose_name = _("entered votes")
        verbose_name_plural = _("entered votes")
        constraints = [
            models.UniqueConstraint(
                fields=["entry", "electoral_list"], name="entry_vote_one_per_list"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.electoral_list_id}: {self.votes}"


class AcceptedRecord(RecordFields):
    """The record of a round that the count uses: one live per round.

    A commission correction (Art. 109, 110) stores a new one with source
    `decision`; the one it replaces stays, with `superseded_at` and
    `superseded_by` set.
    """

    class Source(models.TextChoices):
        DOUBLE_ENTRY = "double_entry", _("two equal entries")
        SINGLE_ENTRY = "single_entry", _("single entry")
        RECONCILIATION = "reconciliation", _("reconciled by staff")
        DECISION = "decision", _("decision of the commission")

    round = models.ForeignKey(
        StationRound,
        on_delete=models.PROTECT,
        related_name="accepted_records",
        verbose_name=_("round"),
    )
    source = models.CharField(_("source"), max_length=20, choices=Source.choices)
    first_entry = models.ForeignKey(
        RecordEntry,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("first entry"),
    )
    second_entry = models.ForeignKey(
        RecordEntry,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("second entry"),
    )
    decision = models.ForeignKey(
        Decision,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="accepted_records",
        verbose_name=_("decision"),
    )
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("accepted by"),
    )
    accepted_at = models.DateTimeField(_("accepted at"), auto_now_add=True)
    superseded_at = models.DateTimeField(_("superseded at"), null=True, blank=True)
    superseded_by = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="supersedes",
        verbose_name=_("superseded by"),
    )

    class Meta:
        verbose_name = _("accepted record")
        verbose_name_plural = _("accepted records")
        constraints = [
            models.UniqueConstraint(
                fields=["round"],
                condition=Q(superseded_at__isnull=True),
                name="accepted_one_live_per_round",
            ),
            models.CheckConstraint(
                condition=Q(superseded_by__isnull=True) | Q(superseded_at__isnull=False),
                name="accepted_superseded_by_needs_superseded_at",
            ),
            models.CheckConstraint(
                condition=Q(
                    source__in=["double_entry", "single_entry", "reconciliation", "decision"]
                ),
                name="accepted_source_valid",
            ),
            models.CheckConstraint(
                condition=~Q(source="double_entry")
                | Q(first_entry__isnull=False, second_entry__isnull=False),
                name="accepted_double_entry_has_both_entries",
            ),
            models.CheckConstraint(
                condition=~Q(source__in=["single_entry", "reconciliation"])
                | Q(first_entry__isnull=False),
                name="accepted_entry_source_has_entry",
            ),
            models.CheckConstraint(
                condition=~Q(source="decision") | Q(decision__isnull=False),
                name="accepted_decision_source_has_decision",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.round} ({self.get_source_display()})"


class AcceptedVote(models.Model):
    """Votes per list of an accepted record: what tabulation sums with one
    GROUP BY."""

    accepted_record = models.ForeignKey(
        AcceptedRecord,
        on_delete=models.PROTECT,
        related_name="votes",
        verbose_name=_("accepted record"),
    )
    electoral_list = models.ForeignKey(
        ElectoralList,
        on_delete=models.PROTECT,
        related_name="accepted_votes",
        verbose_name=_("electoral list"),
    )
    votes = models.PositiveIntegerField(_("votes"))

    class Meta:
        verbose_name = _("accepted votes")
        verbose_name_plural = _("accepted votes")
        constraints = [
            models.UniqueConstraint(
                fields=["accepted_record", "electoral_list"], name="accepted_vote_one_per_list"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.electoral_list_id}: {self.votes}"


class Finding(models.Model):
    """What a check found in a round's record (codes: RULES.md section 2)."""

    # The domain message template travels in message_params under this key,
    # so a stored finding reads as the check said it, in any language later.
    MESSAGE_KEY: ClassVar[str] = "_message"

    class Category(models.TextChoices):
        INPUT = "E", _("input error")
        ANNULMENT = "R", _("annulment ground (Art. 116)")
        UNDETERMINABLE = "U", _("results cannot be determined (Art. 115)")
        MINOR = "C", _("minor error (Art. 109)")
        SERIOUS = "S", _("serious error (Art. 110)")
        WARNING = "W", _("plausibility warning")

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        RESOLVED = "resolved", _("resolved")
        DISMISSED = "dismissed", _("dismissed")

    round = models.ForeignKey(
        StationRound, on_delete=models.PROTECT, related_name="findings", verbose_name=_("round")
    )
    entry = models.ForeignKey(
        RecordEntry,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="findings",
        verbose_name=_("entry"),
    )
    code = models.CharField(_("code"), max_length=8)
    category = models.CharField(_("category"), max_length=1, choices=Category.choices)
    fields = models.JSONField(_("fields"), default=list, blank=True)
    expected = models.JSONField(_("expected"), null=True, blank=True)
    actual = models.JSONField(_("actual"), null=True, blank=True)
    message_params = models.JSONField(_("message parameters"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    raised_at = models.DateTimeField(_("raised at"), auto_now_add=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        Decision,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="resolved_findings",
        verbose_name=_("resolved by decision"),
    )

    class Meta:
        verbose_name = _("finding")
        verbose_name_plural = _("findings")
        ordering = ["round", "raised_at", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(category__in=["E", "R", "U", "C", "S", "W"]),
                name="finding_category_valid",
            ),
            # "R1" is in category "R": the code starts with its category.
            models.CheckConstraint(
                condition=Q(code__startswith=F("category")), name="finding_code_in_category"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["open", "resolved", "dismissed"]),
                name="finding_status_valid",
            ),
            models.CheckConstraint(
                condition=(
                    Q(status="open", resolved_at__isnull=True, resolved_by__isnull=True)
                    | (~Q(status="open") & Q(resolved_at__isnull=False))
                ),
                name="finding_resolution_matches_status",
            ),
            # Checks re-run on every tabulation: the same open finding is
            # never raised twice for a round.
            models.UniqueConstraint(
                fields=["round", "code"],
                condition=Q(status="open"),
                name="finding_one_open_per_code_per_round",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.round}"

    @classmethod
    def from_domain(
        cls, finding: DomainFinding, *, round_id: int, entry: RecordEntry | None = None
    ) -> Finding:
        """An unsaved row for what the domain's checks found."""
        return cls(
            round_id=round_id,
            entry=entry,
            code=finding.code,
            category=finding.category.value,
            fields=list(finding.fields),
            expected=finding.expected,
            actual=finding.actual,
            message_params={**finding.params_dict(), cls.MESSAGE_KEY: finding.message},
        )


# --- Results --------------------------------------------------------------------


class ResultSnapshot(models.Model):
    """An immutable, numbered result of one tabulation run."""

    class Kind(models.TextChoices):
        PROVISIONAL = "provisional", _("provisional")
        OFFICIAL = "official", _("official")

    election = models.ForeignKey(
        Election, on_delete=models.PROTECT, related_name="snapshots", verbose_name=_("election")
    )
    version = models.PositiveIntegerField(_("version"))
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # SHA-256 of the inputs (accepted records, decisions) the result was computed from.
    inputs_hash = models.CharField(_("inputs hash"), max_length=64)
    payload = models.JSONField(_("payload"))
    # The audit chain head when the snapshot was taken (selectors.audit.audit_head).
    audit_head = models.CharField(_("audit chain head"), max_length=64)
    audit_count = models.PositiveBigIntegerField(_("audit events"), default=0)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("result snapshot")
        verbose_name_plural = _("result snapshots")
        ordering = ["election", "version"]
        permissions = [("certify", _("Can certify official results"))]
        constraints = [
            models.UniqueConstraint(
                fields=["election", "version"], name="snapshot_version_unique_per_election"
            ),
            models.CheckConstraint(
                condition=Q(version__gte=1), name="snapshot_version_at_least_one"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["provisional", "official"]), name="snapshot_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.election} v{self.version} ({self.kind})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ImmutableRowError("a result snapshot is never changed; store a new version")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ImmutableRowError("a result snapshot is never deleted")


class Certification(models.Model):
    """A proposal to certify the result frozen at one provisional snapshot,
    and its confirmation by a second member (RULES.md section 5).

    Proposed by one member; confirmed by another, which stores the official
    snapshot. A proposal whose snapshot is no longer the latest, or whose
    inputs changed, is stale and cannot be confirmed; a newer proposal
    withdraws the open one.
    """

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("proposed")
        CONFIRMED = "confirmed", _("confirmed")
        WITHDRAWN = "withdrawn", _("withdrawn")

    election = models.ForeignKey(
        Election,
        on_delete=models.PROTECT,
        related_name="certifications",
        verbose_name=_("election"),
    )
    snapshot = models.ForeignKey(
        ResultSnapshot,
        on_delete=models.PROTECT,
        related_name="certifications",
        verbose_name=_("provisional snapshot certified"),
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="certifications_proposed",
        verbose_name=_("proposed by"),
    )
    proposed_at = models.DateTimeField(_("proposed at"), auto_now_add=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="certifications_confirmed",
        verbose_name=_("confirmed by"),
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    official = models.OneToOneField(
        ResultSnapshot,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="certification",
        verbose_name=_("official snapshot"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PROPOSED
    )

    class Meta:
        verbose_name = _("certification")
        verbose_name_plural = _("certifications")
        ordering = ["election", "proposed_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["proposed", "confirmed", "withdrawn"]),
                name="certification_status_valid",
            ),
            # Four eyes: the member who confirms is not the one who proposed.
            models.CheckConstraint(
                condition=Q(confirmed_by__isnull=True) | ~Q(confirmed_by=F("proposed_by")),
                name="certification_two_different_members",
            ),
            models.CheckConstraint(
                condition=~Q(status="confirmed")
                | Q(confirmed_by__isnull=False, confirmed_at__isnull=False, official__isnull=False),
                name="certification_confirmed_has_official",
            ),
            models.UniqueConstraint(
                fields=["election"],
                condition=Q(status="proposed"),
                name="certification_one_open_proposal",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.election} v{self.snapshot_id} ({self.status})"


# --- Audit trail ------------------------------------------------------------------


class AuditEvent(models.Model):
    """One link of the append-only, hash-chained audit trail (docs/audit.md).

    Written only by services.audit.audit_append; never updated or deleted (on
    PostgreSQL a trigger refuses both).
    """

    # Unique: two appends that read the same head cannot both be stored, so a
    # fork of the chain is impossible even if the head lock were bypassed.
    sequence = models.PositiveBigIntegerField(_("sequence number"), unique=True)
    occurred_at = models.DateTimeField(_("time"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="audit_events",
        verbose_name=_("user"),
    )
    # Kept as text too: the trail must read the same even if a user is renamed.
    actor_username = models.CharField(_("username"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=100, db_index=True)
    object_type = models.CharField(_("object type"), max_length=100, blank=True)
    object_id = models.CharField(_("object id"), max_length=100, blank=True)
    station_code = models.CharField(_("station code"), max_length=50, blank=True, db_index=True)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    client_address = models.GenericIPAddressField(_("client address"), null=True, blank=True)
    prev_hash = models.CharField(_("previous hash"), max_length=64)
    hash = models.CharField(_("hash"), max_length=64, unique=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["sequence"]
        constraints = [
            models.CheckConstraint(
                condition=Q(sequence__gte=1), name="audit_sequence_at_least_one"
            ),
        ]
        indexes = [
            models.Index(fields=["actor_username"], name="audit_actor_username_idx"),
            models.Index(fields=["object_type", "object_id"], name="audit_object_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ImmutableRowError("an audit event is never changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ImmutableRowError("an audit event is never deleted")


class AuditHead(models.Model):
    """The single row that serializes audit appends (see services/audit.py).

    Holds the sequence and hash of the last event, so an append needs no scan
    and `verify_audit` notices a removed tail.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    sequence = models.PositiveBigIntegerField(_("sequence number"), default=0)
    hash = models.CharField(_("hash"), max_length=64, default=GENESIS_HASH)

    class Meta:
        verbose_name = _("audit chain head")
        verbose_name_plural = _("audit chain head")
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="audit_head_single_row"),
        ]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.hash[:12]}"


# --- Coordination of tabulation runs ------------------------------------------------


class TabulationState(models.Model):
    """Who is tabulating an election, and whether more work is waiting
    (docs/tabulation.md).

    Machinery, not election data: the row is changed in place, always by a
    conditional UPDATE, so that two workers never both think they hold the
    run (the pattern of healthchecks' sendalerts). `pending` set means "a
    tabulation is wanted after the one that is running, if any"; at most one
    task waits for it. `lease_expires_at` in the future means a run holds the
    election; a worker killed mid-run leaves a lease that simply expires.
    """

    election = models.OneToOneField(
        Election,
        on_delete=models.PROTECT,
        primary_key=True,
        related_name="tabulation_state",
        verbose_name=_("election"),
    )
    pending = models.BooleanField(_("tabulation wanted"), default=False)
    requested_at = models.DateTimeField(_("requested at"), null=True, blank=True)
    run_token = models.CharField(_("run token"), max_length=32, blank=True)
    run_started_at = models.DateTimeField(_("run started at"), null=True, blank=True)
    lease_expires_at = models.DateTimeField(_("lease expires at"), null=True, blank=True)
    # When the last completed run began reading: records accepted before it are in.
    last_read_at = models.DateTimeField(_("last read at"), null=True, blank=True)
    last_snapshot_inputs_hash = models.CharField(
        _("inputs hash of the last snapshot"), max_length=64, blank=True
    )
    published_version = models.PositiveIntegerField(_("published version"), default=0)

    class Meta:
        verbose_name = _("tabulation state")
        verbose_name_plural = _("tabulation states")

    def __str__(self) -> str:
        return f"{self.election_id}: pending={self.pending} lease={self.lease_expires_at}"


# --- Scans of the paper record and observers' copies (docs/observers.md) -----------


class RecordScan(models.Model):
    """A photo or PDF of a signed paper record, stored through the ``scans``
    storage (filesystem under VAR_DIR, or S3 when configured).

    Written once: a second scan is a new row and a new file beside the first
    (named by its SHA-256, so the same bytes are never stored twice). An
    image is stored as re-encoded by Pillow, without its metadata; ``sha256``
    is of the stored bytes, ``upload_sha256`` of the bytes as they came.
    """

    class Kind(models.TextChoices):
        RECORD = "record", _("the polling board's record")
        OBSERVER_COPY = "observer_copy", _("an observer's copy")

    round = models.ForeignKey(
        StationRound, on_delete=models.PROTECT, related_name="scans", verbose_name=_("round")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    # The clerk's entry the scan came with; none when the commission or an
    # observer attached it.
    entry = models.ForeignKey(
        RecordEntry,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="scans",
        verbose_name=_("entry"),
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    storage_name = models.CharField(_("stored as"), max_length=200)
    content_type = models.CharField(_("content type"), max_length=40)
    size = models.PositiveIntegerField(_("size in bytes"))
    width = models.PositiveIntegerField(_("width"), null=True, blank=True)
    height = models.PositiveIntegerField(_("height"), null=True, blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    upload_sha256 = models.CharField(_("SHA-256 of the upload"), max_length=64)
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("scan of a record")
        verbose_name_plural = _("scans of records")
        ordering = ["round", "uploaded_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["record", "observer_copy"]), name="scan_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.round} {self.sha256[:12]}"

    @property
    def filename(self) -> str:
        """The public name: the hash and the type's extension."""
        return self.storage_name.rsplit("/", 1)[-1]


class Observer(models.Model):
    """An accredited observer of one election: a user of the ``observer``
    group tied to an electoral list (its representatives on the boards take
    a copy of each record home) or to an accredited organisation."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="observer",
        verbose_name=_("user"),
    )
    election = models.ForeignKey(
        Election, on_delete=models.PROTECT, related_name="observers", verbose_name=_("election")
    )
    electoral_list = models.ForeignKey(
        ElectoralList,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="observers",
        verbose_name=_("electoral list"),
    )
    organisation = models.CharField(_("accredited organisation"), max_length=200, blank=True)
    accredited_at = models.DateTimeField(_("accredited at"), auto_now_add=True)

    class Meta:
        verbose_name = _("observer")
        verbose_name_plural = _("observers")
        constraints = [
            # Exactly one of a list and an organisation.
            models.CheckConstraint(
                condition=(Q(electoral_list__isnull=False) & Q(organisation=""))
                | (Q(electoral_list__isnull=True) & ~Q(organisation="")),
                name="observer_list_or_organisation",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.body})"

    @property
    def body(self) -> str:
        """Whom the observer stands for: copies from one body count once."""
        if self.electoral_list_id is not None:
            return f"list:{self.electoral_list_id}"
        return f"organisation:{self.organisation.strip().casefold()}"


class ObserverCopy(RecordFields):
    """An observer's copy of one round's record. A new copy of the same round
    by the same observer supersedes the earlier one (which stays)."""

    class Source(models.TextChoices):
        FORM = "form", _("form")
        API = "api", _("API")
        CSV = "csv", _("CSV upload")

    observer = models.ForeignKey(
        Observer, on_delete=models.PROTECT, related_name="copies", verbose_name=_("observer")
    )
    round = models.ForeignKey(
        StationRound,
        on_delete=models.PROTECT,
        related_name="observer_copies",
        verbose_name=_("round"),
    )
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    scan = models.ForeignKey(
        RecordScan,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="copies",
        verbose_name=_("photo"),
    )
    submitted_at = models.DateTimeField(_("submitted at"), auto_now_add=True)
    superseded_at = models.DateTimeField(_("superseded at"), null=True, blank=True)

    class Meta:
        verbose_name = _("observer's copy")
        verbose_name_plural = _("observers' copies")
        ordering = ["round", "submitted_at", "pk"]
        permissions = [("submit_copy", _("Can submit an observer's copy of a record"))]
        constraints = [
            models.UniqueConstraint(
                fields=["observer", "round"],
                condition=Q(superseded_at__isnull=True),
                name="copy_one_live_per_observer_per_round",
            ),
            models.CheckConstraint(
                condition=Q(source__in=["form", "api", "csv"]), name="copy_source_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.round} ({self.observer})"


class ObserverCopyVote(models.Model):
    copy = models.ForeignKey(
        ObserverCopy, on_delete=models.PROTECT, related_name="votes", verbose_name=_("copy")
    )
    electoral_list = models.ForeignKey(
        ElectoralList,
        on_delete=models.PROTECT,
        related_name="copy_votes",
        verbose_name=_("electoral list"),
    )
    votes = models.PositiveIntegerField(_("votes"))

    class Meta:
        verbose_name = _("copied votes")
        verbose_name_plural = _("copied votes")
        constraints = [
            models.UniqueConstraint(
                fields=["copy", "electoral_list"], name="copy_vote_one_per_list"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.electoral_list_id}: {self.votes}"


class CopyComparison(models.Model):
    """One comparison of an observer's copy with one accepted record: when
    the copy came after the acceptance, or the record (or its correction)
    after the copy. ``differences`` 0 means the copy agrees."""

    copy = models.ForeignKey(
        ObserverCopy, on_delete=models.PROTECT, related_name="comparisons", verbose_name=_("copy")
    )
    accepted_record = models.ForeignKey(
        AcceptedRecord,
        on_delete=models.PROTECT,
        related_name="copy_comparisons",
        verbose_name=_("accepted record"),
    )
    differences = models.PositiveIntegerField(_("differences"))
    compared_at = models.DateTimeField(_("compared at"), auto_now_add=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("comparison of a copy")
        verbose_name_plural = _("comparisons of copies")
        constraints = [
            models.UniqueConstraint(
                fields=["copy", "accepted_record"], name="comparison_one_per_copy_and_record"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.copy} vs {self.accepted_record_id}: {self.differences}"


class CopyFinding(models.Model):
    """One difference between a copy and the accepted record (codes O1-O3,
    RULES.md section 2)."""

    comparison = models.ForeignKey(
        CopyComparison,
        on_delete=models.PROTECT,
        related_name="findings",
        verbose_name=_("comparison"),
    )
    code = models.CharField(_("code"), max_length=8)
    field = models.CharField(_("field"), max_length=40)
    copy_value = models.JSONField(_("on the copy"), null=True, blank=True)
    record_value = models.JSONField(_("in the accepted record"), null=True, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("difference of a copy")
        verbose_name_plural = _("differences of copies")
        ordering = ["comparison", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["comparison", "field"], name="copy_finding_one_per_field"
            ),
            models.CheckConstraint(
                condition=Q(code__startswith="O"), name="copy_finding_code_observer"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.field}"
