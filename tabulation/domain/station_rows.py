"""The station rows published beside each results document (stations.json,
docs/results-format.md): one row per station, its current round, its
findings and decisions, then ``earlier_rounds``, every annulled round with
its record as it stood, never counted.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from tabulation.domain.codes import CHECKS
from tabulation.domain.record import RECORD_FIELDS, Finding
from tabulation.domain.results_inputs import (
    ANNULLED,
    COUNTED,
    EarlierRound,
    RecordRow,
    StoredFinding,
    TabulationInputs,
)
from tabulation.domain.rounds import WITH_RECORD

OPEN = "open"


def published_findings(inputs: TabulationInputs) -> list[StoredFinding]:
    """The stored findings a station row may publish: all of them for a
    round whose record is accepted (``accepted`` or ``held``) and for an
    annulled round that had an accepted record; for any other round only
    those no clerk's entry raised (tabulation's U2, the commission's own
    grounds). An entry's findings carry what the clerk typed (C1's "actual"
    is the typed number): the count stays secret until it is accepted
    (STYLE.md rule 13; the second entry is blind, RULES.md section 4)."""
    accepted = {
        station.round_id
        for station in inputs.stations
        if station.round_id is not None and station.round_status in WITH_RECORD
    }
    accepted.update(
        item.round_id
        for items in inputs.earlier_rounds.values()
        for item in items
        if item.record is not None
    )
    return [item for item in inputs.findings if not item.from_entry or item.round_id in accepted]


def finding_published(
    *, code: str, status: str, message: str | None, params: dict[str, Any]
) -> dict[str, Any]:
    """A finding as every station row publishes it, whether this run raised
    it or an earlier one stored it, so that its words never change from one
    version to the next: the English template it was raised with (a reader's
    page translates it, then fills in ``params``), or the catalogue's title
    for a row stored before templates were kept."""
    if message is None:
        message = CHECKS[code].title if code in CHECKS else ""
    return {"code": code, "status": status, "message": message, "params": params}


def _findings_by_round(
    inputs: TabulationInputs, raised: list[tuple[int, Finding]]
) -> dict[int, list[dict[str, Any]]]:
    findings: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for item in published_findings(inputs):
        findings[item.round_id].append(
            finding_published(
                code=item.code, status=item.status, message=item.message, params=item.params
            )
        )
    for round_id, finding in raised:
        findings[round_id].append(
            finding_published(
                code=finding.code,
                status=OPEN,
                message=finding.message,
                params=finding.params_dict(),
            )
        )
    return findings


# The columns of a station row without a record: its fields blank, no votes.
_NO_RECORD: dict[str, Any] = dict.fromkeys(RECORD_FIELDS)


def _record_columns(record: RecordRow | None) -> dict[str, Any]:
    """The record's fields, or blanks, in RECORD_FIELDS order either way; then
    its votes (``RecordRow.columns``, worked out once per record)."""
    if record is None:
        return {**_NO_RECORD, "votes": {}}
    return record.columns


def station_rows(
    inputs: TabulationInputs, states: list[str], raised: list[tuple[int, Finding]]
) -> list[dict[str, Any]]:
    """One row per station, in the order of ``inputs.stations``."""
    code_of = {municipality.pk: municipality.code for municipality in inputs.municipalities}
    findings = _findings_by_round(inputs, raised)
    rows = []
    for station, state in zip(inputs.stations, states, strict=True):
        record = inputs.records.get(station.round_id or 0) if state == COUNTED else None
        row: dict[str, Any] = {
            "code": station.code,
            "municipality": code_of.get(station.municipality_id, ""),
            "number": station.number,
            "name": station.name,
            "address": station.address,
            # Known from the start: published for every station, counted or not.
            "registered_in_register": station.registered,
            "status": state,
            "round": station.round_number,
        }
        row.update(_record_columns(record))
        row["findings"] = findings.get(station.round_id, []) if station.round_id else []
        row["decisions"] = inputs.decisions.get(station.id, [])
        row["earlier_rounds"] = [
            _earlier_round_row(item, findings.get(item.round_id, []))
            for item in inputs.earlier_rounds.get(station.id, ())
        ]
        rows.append(row)
    return rows


def _earlier_round_row(item: EarlierRound, findings: list[dict[str, Any]]) -> dict[str, Any]:
    """One annulled round as published: what annulled it, then its record."""
    row: dict[str, Any] = {
        "round": item.number,
        "status": ANNULLED,
        "ground": item.ground,
        "annulled_at": item.annulled_at.isoformat() if item.annulled_at else None,
        "repeat_voting_date": (
            item.repeat_voting_date.isoformat() if item.repeat_voting_date else None
        ),
    }
    row.update(_record_columns(item.record))
    row["findings"] = findings
    return row
