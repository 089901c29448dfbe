import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from tabulation.models import ImmutableRowError, ResultSnapshot
from tests.factories import ResultSnapshotFactory

pytestmark = pytest.mark.django_db


def test_a_snapshot_cannot_be_updated_by_save() -> None:
    snapshot = ResultSnapshotFactory()
    snapshot.payload = {"seats": {"1": 65}}

    with pytest.raises(ImmutableRowError):
        snapshot.save()
    snapshot.refresh_from_db()
    assert snapshot.payload == {"seats": {"1": 64}}


def test_a_snapshot_cannot_be_deleted_or_bulk_updated() -> None:
    snapshot = ResultSnapshotFactory()

    with pytest.raises(ImmutableRowError):
        snapshot.delete()
    with pytest.raises(ImmutableRowError):
        ResultSnapshot.objects.filter(pk=snapshot.pk).update(kind="official")
    with pytest.raises(ImmutableRowError):
        ResultSnapshot.objects.all().delete()


def test_versions_are_unique_per_election() -> None:
    first = ResultSnapshotFactory(version=1)

    with pytest.raises(IntegrityError), transaction.atomic():
        ResultSnapshotFactory(election=first.election, version=1)


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE tabulation_resultsnapshot SET kind = 'official'",
        "DELETE FROM tabulation_resultsnapshot",
    ],
)
def test_postgresql_trigger_refuses_raw_changes(require_postgresql, sql: str) -> None:
    ResultSnapshotFactory()

    with (
        pytest.raises(DatabaseError, match="tabulation_resultsnapshot is append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)
    assert ResultSnapshot.objects.get().kind == "provisional"
