"""What the load test asks of the application, in its own process:

``python -m loadtest.django_side prepare PLAN CLERKS``: collect the static
files, migrate the load test's own database, load the Belgrade demo
election, make the clerks in pairs (each pair types its own run of
stations, both clerks each record) with their tokens from ``manage.py
issue_token``, and write the plan the clerks follow (tokens, stations, the
records from the demo's ``results.csv``) to PLAN.

``python -m loadtest.django_side recount PUBLISHED SLUG``: the independent
recount, printed as JSON: one SQL GROUP BY over the accepted records of the
database against the published ``results.json`` and ``stations.json`` in
the folder PUBLISHED.

Run with the environment the load test sets (its database, its Redis).
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import django


def _records(results_csv: Path) -> dict[str, dict[str, Any]]:
    """Each station's true record, from the demo's figures, as the entry API
    takes it."""
    from tabulation.demo.plan import read_figures

    papers, _ = read_figures(results_csv)
    return {
        code: {
            **paper.values,
            "votes": [
                {"ballot_number": number, "votes": votes} for number, votes in paper.votes.items()
            ],
        }
        for code, paper in papers.items()
    }


def station_shares(stations: list[Any], pairs: int) -> list[list[Any]]:
    """The stations, in order, cut into ``pairs`` runs of nearly equal length:
    each pair of clerks types one run."""
    size, extra = divmod(len(stations), pairs)
    shares, start = [], 0
    for number in range(pairs):
        end = start + size + (1 if number < extra else 0)
        shares.append(stations[start:end])
        start = end
    return shares


def prepare(plan_path: Path, clerks: int) -> None:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from tabulation.demo.load import DEMO_DIRECTORY, demo_election_load
    from tabulation.models import Election, PollingStation
    from tabulation.services.roles import clerk_assign
    from tabulation.tasks import tabulate

    # As the image does when it is built: with DEBUG off the pages name the
    # static files by their hashed names, from the manifest this writes.
    call_command("collectstatic", interactive=False, verbosity=0)
    call_command("migrate", verbosity=0)
    slug = demo_election_load().result.slug
    election = Election.objects.get(slug=slug)
    stations = list(
        PollingStation.objects.filter(election=election)
        .select_related("municipality")
        .order_by("municipality__code", "number")
    )
    records = _records(DEMO_DIRECTORY / "results.csv")
    users = get_user_model().objects
    plan: dict[str, Any] = {"slug": slug, "clerks": []}
    for pair, share in enumerate(station_shares(stations, clerks // 2)):
        for seat in (1, 2):
            user, _ = users.get_or_create(username=f"load-clerk-{pair + 1:02d}-{seat}")
            # A clerk is assigned the municipalities its run touches, as the
            # commission assigns clerks: one audited assignment each, not one
            # per station (2,360 of those took three minutes to set up).
            for municipality in dict.fromkeys(station.municipality for station in share):
                clerk_assign(actor=None, user=user, election=election, municipality=municipality)
            output = io.StringIO()
            call_command("issue_token", user.username, reason="load test", stdout=output)
            plan["clerks"].append(
                {
                    "username": user.username,
                    "token": output.getvalue().strip(),
                    "stations": [{"code": s.code, "record": records[s.code]} for s in share],
                }
            )
    # The commission publishes "0 of 1,180 counted" when the polls close, so
    # readers find a document from the first second, as on the night.
    tabulate(election.pk)
    plan_path.write_text(json.dumps(plan))


RECOUNT_SQL = """
SELECT electoral_list.ballot_number, SUM(vote.votes)
FROM tabulation_acceptedvote vote
JOIN tabulation_acceptedrecord record ON record.id = vote.accepted_record_id
JOIN tabulation_stationround station_round ON station_round.id = record.round_id
JOIN tabulation_electorallist electoral_list ON electoral_list.id = vote.electoral_list_id
WHERE record.superseded_at IS NULL AND station_round.status = 'accepted'
  AND electoral_list.election_id = %s
GROUP BY electoral_list.ballot_number
"""

ACCEPTED_SQL = """
SELECT station.code, station_round.status
FROM tabulation_stationround station_round
JOIN tabulation_pollingstation station ON station.id = station_round.station_id
WHERE station.election_id = %s AND station_round.status IN ('accepted', 'held')
"""


def recount(published: Path, slug: str) -> dict[str, Any]:
    """The database's accepted records against what is published, counted
    apart from tabulation: no station missing, no vote different."""
    from django.db import connection

    from tabulation.models import Election

    election_id = Election.objects.values_list("pk", flat=True).get(slug=slug)
    with connection.cursor() as cursor:
        cursor.execute(RECOUNT_SQL, [election_id])
        votes = {int(ballot): int(total) for ballot, total in cursor.fetchall()}
        cursor.execute(ACCEPTED_SQL, [election_id])
        accepted = dict(cursor.fetchall())
    document = json.loads((published / slug / "results.json").read_bytes())
    rows = json.loads((published / slug / "stations.json").read_bytes())
    shown = {row["code"]: row["status"] for row in rows}
    published_votes = {int(item["ballot_number"]): int(item["votes"]) for item in document["lists"]}
    counted = {code for code, status in accepted.items() if status == "accepted"}
    return {
        "version": document["version"],
        "accepted_in_database": len(counted),
        "held_in_database": len(accepted) - len(counted),
        "counted_published": sum(1 for status in shown.values() if status == "counted"),
        "missing": sorted(code for code in counted if shown.get(code) != "counted"),
        "held_not_shown_held": sorted(
            code for code, status in accepted.items() if status == "held" and shown[code] != "held"
        ),
        "votes_differ": {
            ballot: [votes.get(ballot, 0), published_votes.get(ballot, 0)]
            for ballot in sorted(set(votes) | set(published_votes))
            if votes.get(ballot, 0) != published_votes.get(ballot, 0)
        },
        "votes_counted": sum(votes.values()),
    }


def main(arguments: list[str]) -> None:
    django.setup()
    command, path = arguments[0], Path(arguments[1])
    if command == "prepare":
        prepare(path, clerks=int(arguments[2]))
    elif command == "recount":
        print(json.dumps(recount(path, arguments[2])))
    else:
        raise SystemExit(f"unknown command {command!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
