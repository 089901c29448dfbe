"""factory_boy factories: the shared cast of an election (house rule 8)."""

from decimal import Decimal
from typing import Any

import factory
from django.contrib.auth import get_user_model

from tabulation import models


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Petar"
    last_name = "Petrović"
    # Tests that log in set a password themselves.
    password = "!unusable"


class ElectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Election

    name = factory.Sequence(lambda n: f"City Assembly {n}")
    slug = factory.Sequence(lambda n: f"election-{n}")
    date = factory.Faker("date_object")
    seats = 110
    threshold_percent = Decimal("3.00")
    minority_bonus_percent = Decimal("35.00")
    entry_mode = models.Election.EntryMode.DOUBLE


class MunicipalityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Municipality

    election = factory.SubFactory(ElectionFactory)
    code = factory.Sequence(lambda n: f"municipality-{n}")
    name = factory.Sequence(lambda n: f"Opština {n}")
    registered = 10_000


class PollingStationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.PollingStation

    municipality = factory.SubFactory(MunicipalityFactory)
    election = factory.SelfAttribute("municipality.election")
    code = factory.Sequence(lambda n: f"station-{n}")
    number = factory.Sequence(lambda n: n + 1)
    name = factory.Sequence(lambda n: f"OŠ „Vuk Karadžić“ {n}")
    address = "Njegoševa 1"
    registered = 1_000


class StationRoundFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.StationRound

    station = factory.SubFactory(PollingStationFactory)
    number = 1


class ElectoralListFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.ElectoralList

    election = factory.SubFactory(ElectionFactory)
    ballot_number = factory.Sequence(lambda n: n + 1)
    name = factory.Sequence(lambda n: f"Lista {n}")
    ballot_carrier = "Ana Jovanović"


class CandidateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Candidate

    electoral_list = factory.SubFactory(ElectoralListFactory)
    position = factory.Sequence(lambda n: n + 1)
    name = "Marko Marković"


def record_values(**overrides: Any) -> dict[str, Any]:
    """A consistent record of a 1,000-voter station."""
    values = {
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
    return values | overrides


class RecordEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.RecordEntry

    round = factory.SubFactory(StationRoundFactory)
    entry_number = 1
    clerk = factory.SubFactory(UserFactory)
    idempotency_key = factory.Faker("uuid4")
    registered = 1000
    ballots_received = 1010
    ballots_unused = 410
    turned_out = 601
    ballots_in_box = 600
    ballots_invalid = 12
    ballots_valid = 588
    control_sheet_ok = True
    board_signatures = 5


class DecisionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Decision

    election = factory.SubFactory(ElectionFactory)
    kind = models.Decision.Kind.DRAWING_OF_LOTS
    decided_by = factory.SubFactory(UserFactory)
    reason = "Equal quotients and equal votes for the last seat."


class ResultSnapshotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.ResultSnapshot

    election = factory.SubFactory(ElectionFactory)
    version = factory.Sequence(lambda n: n + 1)
    kind = models.ResultSnapshot.Kind.PROVISIONAL
    inputs_hash = "a" * 64
    payload = factory.LazyFunction(lambda: {"seats": {"1": 64}})
    audit_head = "0" * 64
