"""The shapes of the public read API, for the OpenAPI schema.

The API serves the published documents as they are (docs/results-format.md):
they were built and checked once by tabulation, so re-serialising them on
every request would only spend the CPU a crowd needs. These serializers
describe the fields clients may rely on; a response may carry more.
"""

from rest_framework import serializers


class PublishedElectionSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()
    date = serializers.DateField()
    seats = serializers.IntegerField(min_value=1)
    status = serializers.ChoiceField(choices=["provisional", "official"])


class PublishedElectionDetailSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()
    date = serializers.DateField()
    seats = serializers.IntegerField(min_value=1)
    threshold_percent = serializers.DecimalField(
        max_digits=5, decimal_places=2, coerce_to_string=True
    )
    minority_bonus_percent = serializers.DecimalField(
        max_digits=5, decimal_places=2, coerce_to_string=True
    )


class PublishedCountedOfTotalSerializer(serializers.Serializer):
    counted = serializers.IntegerField(min_value=0)
    total = serializers.IntegerField(min_value=0)


STATUS_HELP = (
    "provisional: counting goes on and figures may change; official: certified by two "
    "commission members (RULES.md section 5), changed only by a recorded decision, which "
    "publishes a new official version."
)


class PublishedMandateSerializer(serializers.Serializer):
    position = serializers.IntegerField(
        min_value=1, help_text="The candidate's place on the list (1 for the first)."
    )
    name = serializers.CharField()


class PublishedListResultSerializer(serializers.Serializer):
    ballot_number = serializers.IntegerField(min_value=1)
    name = serializers.CharField()
    minority = serializers.BooleanField(
        help_text="National minority list (takes part below the threshold)."
    )
    colour = serializers.CharField(required=False)
    votes = serializers.IntegerField(min_value=0)
    percent = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        help_text="Votes as a percentage of voters who voted (ballots in the box), half-up.",
    )
    seats = serializers.IntegerField(min_value=0)
    passed_threshold = serializers.BooleanField()
    settled = serializers.BooleanField(
        required=False, help_text="No outstanding station can change this list's seats."
    )
    mandates = PublishedMandateSerializer(
        many=True,
        help_text=(
            "The candidates who take the list's seats, in list order (withdrawn candidates "
            "skipped). Elected councillors when status is official; while provisional, who "
            "would take the seats as the count stands."
        ),
    )


class PublishedLeaderSerializer(serializers.Serializer):
    ballot_number = serializers.IntegerField(min_value=1)
    lead_votes = serializers.IntegerField(min_value=0)


class PublishedMunicipalityResultSerializer(serializers.Serializer):
    code = serializers.SlugField()
    name = serializers.CharField()
    stations = PublishedCountedOfTotalSerializer(required=False)
    registered = serializers.IntegerField(min_value=0)
    turned_out = serializers.IntegerField(min_value=0)
    voted = serializers.IntegerField(min_value=0)
    valid = serializers.IntegerField(min_value=0)
    votes = serializers.DictField(
        child=serializers.IntegerField(min_value=0),
        help_text='Votes by ballot number, the keys being strings: {"1": 14000}.',
    )
    leader = PublishedLeaderSerializer(required=False, allow_null=True)


class PublishedPendingRepeatVoteSerializer(serializers.Serializer):
    station = serializers.CharField()
    round = serializers.IntegerField(min_value=2)
    ordered_at = serializers.DateTimeField(required=False)


class PublishedCertificationSerializer(serializers.Serializer):
    """How an official snapshot was certified (RULES.md section 5)."""

    certifies_version = serializers.IntegerField(
        min_value=1, help_text="The provisional snapshot (version) this certification certifies."
    )
    official_version = serializers.IntegerField(
        min_value=1,
        help_text="1 for the first certification; 2 after a reopening and a new "
        "certification, and so on.",
    )
    proposed_at = serializers.DateTimeField(help_text="When the first member proposed it.")
    certified_at = serializers.DateTimeField(help_text="When the second member confirmed it.")
    certified_by = serializers.ListField(
        child=serializers.CharField(), help_text="The two commission members, by name."
    )


class PublishedProceedingsSerializer(serializers.Serializer):
    """The commission's record behind an official result, as of its certification."""

    decisions = serializers.ListField(
        child=serializers.DictField(),
        help_text="The commission's decisions in the election (corrections, annulments, "
        "drawings of lots, objections decided, reopenings).",
    )
    objections = serializers.ListField(
        child=serializers.DictField(), help_text="The objections filed and how each was decided."
    )


class PublishedResultsSerializer(serializers.Serializer):
    """One published snapshot: the document of docs/results-format.md.

    An official snapshot (``status`` official) also carries ``certified_at``,
    ``certified_by``, ``certification`` and ``proceedings``."""

    election = PublishedElectionDetailSerializer()
    status = serializers.ChoiceField(choices=["provisional", "official"], help_text=STATUS_HELP)
    version = serializers.IntegerField(min_value=1, help_text="Snapshot number, from 1.")
    published_at = serializers.DateTimeField()
    stations = PublishedCountedOfTotalSerializer()
    registered = PublishedCountedOfTotalSerializer()
    turned_out = serializers.IntegerField(min_value=0)
    voted = serializers.IntegerField(
        min_value=0, help_text="Ballots in the box: the threshold base."
    )
    invalid = serializers.IntegerField(min_value=0)
    valid = serializers.IntegerField(min_value=0)
    turnout_percent = serializers.DecimalField(max_digits=5, decimal_places=2)
    threshold_votes = serializers.CharField(help_text='Exact threshold in votes, e.g. "22020.27".')
    threshold_votes_min = serializers.IntegerField(min_value=0)
    settled = serializers.BooleanField(help_text="No outstanding station can change a seat.")
    audit_head = serializers.CharField(help_text="SHA-256 of the audit chain head.")
    lists = PublishedListResultSerializer(many=True)
    municipalities = PublishedMunicipalityResultSerializer(many=True)
    pending_repeat_votes = PublishedPendingRepeatVoteSerializer(many=True, required=False)
    certified_at = serializers.DateTimeField(
        required=False, help_text="Official snapshots only: when the results were certified."
    )
    certified_by = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="Official snapshots only: the two commission members who certified.",
    )
    certification = PublishedCertificationSerializer(
        required=False, help_text="Official snapshots only."
    )
    proceedings = PublishedProceedingsSerializer(
        required=False, help_text="Official snapshots only."
    )


class PublishedMandateListSerializer(serializers.Serializer):
    ballot_number = serializers.IntegerField(min_value=1)
    name = serializers.CharField(help_text="The list's name.")
    seats = serializers.IntegerField(min_value=0)
    mandates = PublishedMandateSerializer(many=True, help_text="In list order.")


class PublishedMandatesSerializer(serializers.Serializer):
    """The councillors of the latest snapshot, by list (its ``lists[].mandates``)."""

    election = serializers.SlugField()
    version = serializers.IntegerField(min_value=1, help_text="The snapshot they come from.")
    status = serializers.ChoiceField(
        choices=["provisional", "official"],
        help_text="official: the elected councillors; provisional: who would take the seats "
        "as the count stands, not yet elected.",
    )
    published_at = serializers.DateTimeField()
    certified_at = serializers.DateTimeField(
        allow_null=True, help_text="When the results were certified; null while provisional."
    )
    certified_by = serializers.ListField(
        child=serializers.CharField(),
        help_text="The two commission members who certified; empty while provisional.",
    )
    lists = PublishedMandateListSerializer(
        many=True, help_text="Each list that won seats, in ballot order."
    )


class PublishedSnapshotSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1)
    status = serializers.ChoiceField(choices=["provisional", "official"])
    published_at = serializers.DateTimeField()
    url = serializers.URLField()


class PublishedFindingSerializer(serializers.Serializer):
    code = serializers.CharField()
    status = serializers.CharField()
    message = serializers.CharField(required=False)
    params = serializers.DictField(required=False)


class PublishedDecisionSerializer(serializers.Serializer):
    kind = serializers.CharField()
    reason = serializers.CharField()
    decided_at = serializers.DateTimeField()


class PublishedStationSerializer(serializers.Serializer):
    """One polling station's counted record, as published beside a snapshot."""

    election = serializers.SlugField()
    version = serializers.IntegerField(min_value=1, help_text="The snapshot the row belongs to.")
    code = serializers.CharField()
    municipality = serializers.CharField()
    number = serializers.IntegerField(min_value=1)
    name = serializers.CharField()
    status = serializers.CharField(help_text="counted, awaiting, held, annulled, ...")
    round = serializers.IntegerField(min_value=1)
    registered = serializers.IntegerField(allow_null=True)
    ballots_received = serializers.IntegerField(allow_null=True)
    ballots_unused = serializers.IntegerField(allow_null=True)
    turned_out = serializers.IntegerField(allow_null=True)
    ballots_in_box = serializers.IntegerField(allow_null=True)
    ballots_invalid = serializers.IntegerField(allow_null=True)
    ballots_valid = serializers.IntegerField(allow_null=True)
    control_sheet_ok = serializers.BooleanField(allow_null=True)
    board_signatures = serializers.IntegerField(allow_null=True)
    votes = serializers.DictField(child=serializers.IntegerField(min_value=0))
    findings = PublishedFindingSerializer(many=True, required=False)
    decisions = PublishedDecisionSerializer(many=True, required=False)


class ApiRootLinksSerializer(serializers.Serializer):
    elections = serializers.URLField(help_text="Every election with published results.")
    election = serializers.CharField(help_text="One election: a URL template, {slug}.")
    results = serializers.CharField(help_text="The latest snapshot of {slug}.")
    snapshots = serializers.CharField(help_text="Every snapshot of {slug}, oldest first.")
    snapshot = serializers.CharField(help_text="Snapshot {version} of {slug}.")
    mandates = serializers.CharField(help_text="The councillors by list, {slug}.")
    station = serializers.CharField(help_text="Station {code} of {slug}, latest snapshot.")
    schema = serializers.URLField(help_text="This API's OpenAPI schema.")
    docs = serializers.URLField(help_text="This API's documentation.")


class ApiRootSerializer(serializers.Serializer):
    """The API's entry point. URLs with {placeholders} are RFC 6570 templates."""

    version = serializers.CharField()
    links = ApiRootLinksSerializer()


class PublishedElectionLinksSerializer(serializers.Serializer):
    results = serializers.URLField()
    snapshots = serializers.URLField()
    mandates = serializers.URLField()
    station = serializers.CharField(help_text="A URL template: put a station's code for {code}.")


class PublishedElectionSummarySerializer(PublishedElectionDetailSerializer):
    """One election: its rules (the ``election`` block of its latest snapshot),
    where the count stands, and links to its results."""

    status = serializers.ChoiceField(choices=["provisional", "official"], help_text=STATUS_HELP)
    version = serializers.IntegerField(min_value=1, help_text="The latest snapshot.")
    published_at = serializers.DateTimeField()
    stations = PublishedCountedOfTotalSerializer()
    links = PublishedElectionLinksSerializer()
