import pytest
from django.db import connection


def test_under_ci_the_database_is_postgresql(require_postgresql):
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        (version,) = cursor.fetchone()

    assert version.startswith("PostgreSQL")


@pytest.mark.django_db
def test_the_health_page_answers_from_the_database(client):
    response = client.get("/health/")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": connection.vendor}
