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


class PublishedResultsSerializer(serializers.Serializer):
    """One published snapshot: the document of docs/results-format.md."""

    election = PublishedElectionDetailSerializer()
    status = serializers.ChoiceField(choices=["provisional", "official"])
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
