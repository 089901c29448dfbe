"""The open-data files of one published snapshot (docs/open-data.md).

One place makes their bytes: publishing writes them to PUBLISH_DIR and the
download view serves them from the published document, so a file fetched
from the site and the same file on a CDN never differ. Cells: blank for no
value, booleans as ``true``/``false``, votes in ``list_<ballot number>``.

``stations.csv`` has one row per station, its latest round: its list columns
add up to the totals. An annulled round is never counted, so its figures are
in a file of their own, ``earlier_rounds.csv`` (one row per annulled round),
and in ``stations.json`` under each station's ``earlier_rounds``.

``fingerprint.json`` is the election's fingerprint, counted from the station
rows (tabulation/domain/fingerprint.py, docs/fingerprint.md): the pages draw
it from this file, so they need no database.

``mandates.csv`` has one row per councillor: each list's ``mandates`` from the
document, lists in ballot order, candidates in list order. In an official
snapshot they are the elected councillors; in a provisional one, who would
take the seats as the count stands (the page and the dictionary say so).
"""

import csv
import io
import json
from typing import Any

from tabulation.domain.fingerprint import fingerprint_document
from tabulation.domain.record import RECORD_FIELDS

OPEN_DATA_FILES = (
    "results.json",
    "totals.csv",
    "mandates.csv",
    "municipalities.csv",
    "municipalities.json",
    "stations.csv",
    "stations.json",
    "earlier_rounds.csv",
    "fingerprint.json",
)
STATION_FILES = frozenset(
    {"stations.csv", "stations.json", "earlier_rounds.csv", "fingerprint.json"}
)

TOTALS_COLUMNS = ("ballot_number", "name", "votes", "percent", "seats", "passed_threshold")
MANDATE_COLUMNS = ("ballot_number", "list", "position", "name")
MUNICIPALITY_COLUMNS = (
    "registered",
    "registered_counted",
    "turned_out",
    "voted",
    "invalid",
    "valid",
    "turnout_percent",
)
STATION_COLUMNS = ("code", "municipality", "number", "name", "status", "round")
# The station, then the round and what annulled it; then its record and votes.
EARLIER_ROUND_STATION_COLUMNS = ("code", "municipality", "number", "name")
EARLIER_ROUND_COLUMNS = (
    "round",
    "status",
    "counted",
    "ground",
    "annulled_at",
    "repeat_voting_date",
)


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    return value


def _csv(header: list[str], rows: list[list[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([_cell(value) for value in row] for row in rows)
    return buffer.getvalue().encode("utf-8")


def json_bytes(data: Any) -> bytes:
    """UTF-8 JSON as every published file spells it: compact, letters as they are."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _ballot_keys(document: dict[str, Any]) -> list[str]:
    # Votes are keyed by the ballot number as text (JSON object keys).
    return [str(item["ballot_number"]) for item in document["lists"]]


def _list_columns(document: dict[str, Any]) -> list[str]:
    return [f"list_{key}" for key in _ballot_keys(document)]


def totals_csv(document: dict[str, Any]) -> bytes:
    rows = [[item[column] for column in TOTALS_COLUMNS] for item in document["lists"]]
    return _csv(list(TOTALS_COLUMNS), rows)


def mandates_csv(document: dict[str, Any]) -> bytes:
    """One row per councillor: the list (ballot number, name), then the
    candidate's place on the list and name (RULES.md section 3, rule 8)."""
    rows = [
        [item["ballot_number"], item["name"], mandate["position"], mandate["name"]]
        for item in sorted(document["lists"], key=lambda item: item["ballot_number"])
        for mandate in item.get("mandates") or ()
    ]
    return _csv(list(MANDATE_COLUMNS), rows)


def municipalities_csv(document: dict[str, Any]) -> bytes:
    keys = _ballot_keys(document)
    header = ["code", "name", "stations_counted", "stations_total", *MUNICIPALITY_COLUMNS]
    rows = [
        [
            item["code"],
            item["name"],
            item["stations"]["counted"],
            item["stations"]["total"],
            *(item[column] for column in MUNICIPALITY_COLUMNS),
            *(item["votes"].get(key, 0) for key in keys),
        ]
        for item in document["municipalities"]
    ]
    return _csv([*header, *_list_columns(document)], rows)


def stations_csv(document: dict[str, Any], stations: list[dict[str, Any]]) -> bytes:
    keys = _ballot_keys(document)
    rows = [
        [
            *(row[column] for column in STATION_COLUMNS),
            *(row.get(name) for name in RECORD_FIELDS),
            *((row.get("votes") or {}).get(key) for key in keys),
        ]
        for row in stations
    ]
    return _csv([*STATION_COLUMNS, *RECORD_FIELDS, *_list_columns(document)], rows)


def earlier_rounds_csv(document: dict[str, Any], stations: list[dict[str, Any]]) -> bytes:
    """One row per annulled round, in station then round order; ``counted`` is
    always false: the figures are on the record, in no total."""
    keys = _ballot_keys(document)
    rows = [
        [
            *(row[column] for column in EARLIER_ROUND_STATION_COLUMNS),
            *(
                False if column == "counted" else earlier.get(column)
                for column in EARLIER_ROUND_COLUMNS
            ),
            *(earlier.get(name) for name in RECORD_FIELDS),
            *((earlier.get("votes") or {}).get(key) for key in keys),
        ]
        for row in stations
        # Rows published before rounds were: no key, no earlier round.
        for earlier in row.get("earlier_rounds") or ()
    ]
    header = [
        *EARLIER_ROUND_STATION_COLUMNS,
        *EARLIER_ROUND_COLUMNS,
        *RECORD_FIELDS,
        *_list_columns(document),
    ]
    return _csv(header, rows)


def open_data_file(
    name: str, document: dict[str, Any], stations: list[dict[str, Any]] | None
) -> bytes:
    """One file's bytes; the station files need the snapshot's station rows."""
    if name == "results.json":
        return json_bytes(document)
    if name == "totals.csv":
        return totals_csv(document)
    if name == "mandates.csv":
        return mandates_csv(document)
    if name == "municipalities.json":
        return json_bytes(document["municipalities"])
    if name == "municipalities.csv":
        return municipalities_csv(document)
    if name not in STATION_FILES:
        raise KeyError(name)
    if stations is None:
        raise ValueError(f"{name} needs the snapshot's station rows")
    if name == "earlier_rounds.csv":
        return earlier_rounds_csv(document, stations)
    if name == "fingerprint.json":
        return json_bytes(fingerprint_document(int(document["version"]), stations))
    return json_bytes(stations) if name == "stations.json" else stations_csv(document, stations)


def open_data_files(
    document: dict[str, Any], stations: list[dict[str, Any]] | None
) -> dict[str, bytes]:
    """Every file of one snapshot, by name; the station files only with the rows."""
    return {
        name: open_data_file(name, document, stations)
        for name in OPEN_DATA_FILES
        if stations is not None or name not in STATION_FILES
    }
