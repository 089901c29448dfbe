"""`manage.py verify_audit`: prove the audit trail unbroken and unrewritten.

Three checks (docs/audit.md):

1. the chain: every event's HMAC under AUDIT_HMAC_KEY, every link, no gap,
   the head row on the last event;
2. every head a result snapshot published (`audit_count`, `audit_head`) is an
   event of the stored trail with that hash;
3. with ``--heads PATH``, every head an observer saved outside the system.

Exit status 0 and the head hash when all hold; status 1 and one line per
problem otherwise.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tabulation.selectors.audit import (
    PublishedHead,
    audit_chain_verify,
    audit_heads_verify,
    snapshot_heads,
)

# "<sequence> <hash>", then anything (a date, a URL) the observer noted.
HEAD_LINE = re.compile(r"^(\d+)\s+([0-9a-fA-F]{64})(?:\s.*)?$")
# Head problems beyond this many are counted, not listed.
MAX_LISTED = 50
# Published JSON files that carry no head (docs/open-data.md): not even read,
# since a copy of PUBLISH_DIR holds a stations.json for every version.
HEADLESS_FILES = frozenset({"elections.json", "municipalities.json", "stations.json"})


def heads_read(path: Path) -> tuple[list[PublishedHead], list[str]]:
    """The heads saved in `path`, and the lines that could not be read.

    `path` is a text file of ``sequence hash`` lines (blank lines and lines
    starting with ``#`` are skipped), one saved ``results.json``, or a folder:
    every ``*.json`` under it that has ``audit_head`` and ``audit_count`` (a
    copy of PUBLISH_DIR, one election's folder in it, or the documents an
    observer downloaded); the open-data files that carry no head are skipped.
    """
    if path.is_dir():
        heads: list[PublishedHead] = []
        problems: list[str] = []
        for file in sorted(path.rglob("*.json")):
            if file.name in HEADLESS_FILES:
                continue
            document, problem = _json_read(file)
            if problem:
                problems.append(problem)
            elif isinstance(document, dict) and _has_head(document):
                head, problem = _document_head(file, document)
                if head is not None:
                    heads.append(head)
                else:
                    problems.append(problem)
        if not heads and not problems:
            problems.append(f"--heads {path}: no JSON file under it names an audit head")
        return heads, problems
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        return [], [f"--heads {path}: cannot be read ({error})"]
    if text.lstrip().startswith("{"):
        document, problem = _json_read(path)
        if problem:
            return [], [problem]
        if not isinstance(document, dict) or not _has_head(document):
            return [], [f"--heads {path}: the document has no audit_head and audit_count"]
        head, problem = _document_head(path, document)
        return ([head], []) if head is not None else ([], [problem])
    heads, problems = [], []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = HEAD_LINE.match(line)
        if match is None:
            problems.append(f"--heads {path} line {number}: not 'sequence hash': {line[:100]!r}")
            continue
        heads.append(
            PublishedHead(
                count=int(match[1]), head_hash=match[2].lower(), source=f"{path} line {number}"
            )
        )
    if not heads and not problems:
        problems.append(f"--heads {path}: no 'sequence hash' line in it")
    return heads, problems


def _json_read(path: Path) -> tuple[Any, str]:
    try:
        with path.open("rb") as handle:
            return json.load(handle), ""
    except (OSError, ValueError) as error:
        return None, f"--heads {path}: not a JSON document ({error})"


def _has_head(document: dict[str, Any]) -> bool:
    return "audit_head" in document and "audit_count" in document


def _document_head(path: Path, document: dict[str, Any]) -> tuple[PublishedHead | None, str]:
    count, head_hash = document["audit_count"], document["audit_head"]
    if not isinstance(count, int) or isinstance(count, bool) or not isinstance(head_hash, str):
        return None, f"--heads {path}: audit_count and audit_head are not a number and a hash"
    election = document.get("election")
    slug = election.get("slug") if isinstance(election, dict) else None
    label = f"{path} ({slug} v{document.get('version')})" if slug else str(path)
    return PublishedHead(count=count, head_hash=head_hash.lower(), source=label), ""


def _distinct(heads: list[PublishedHead]) -> list[PublishedHead]:
    """One head per (count, hash), named after its first source: a copy of
    PUBLISH_DIR holds every document twice (the latest and its version)."""
    sources: dict[tuple[int, str], list[str]] = {}
    for head in heads:
        sources.setdefault((head.count, head.head_hash), []).append(head.source)
    return [
        PublishedHead(
            count=count,
            head_hash=head_hash,
            source=names[0] + (f" (and {len(names) - 1} more)" if len(names) > 1 else ""),
        )
        for (count, head_hash), names in sources.items()
    ]


def _listed(problems: list[str], what: str) -> list[str]:
    if len(problems) <= MAX_LISTED:
        return problems
    return [*problems[:MAX_LISTED], f"... and {len(problems) - MAX_LISTED} more {what}"]


class Command(BaseCommand):
    help = (
        "Verify the audit trail: the HMAC chain, the heads the result snapshots "
        "published and, with --heads, the heads an observer saved. Exit 1 on any problem."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--heads",
            action="append",
            default=[],
            metavar="PATH",
            type=Path,
            help=(
                "heads saved outside the system: a file of 'sequence hash' lines, a saved "
                "results.json, or a folder of them (a copy of PUBLISH_DIR); may be repeated"
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        problems: list[str] = []
        verification = audit_chain_verify()
        if not verification.ok:
            self.stderr.write(
                f"{verification.count} events verified before the break; "
                f"last good hash {verification.head_hash}"
            )
            problems.append(
                f"Audit chain BROKEN at event {verification.broken_sequence}: "
                f"{verification.problem}"
            )

        published, snapshot_problems = snapshot_heads()
        problems += [f"Snapshot BROKEN: {problem}" for problem in snapshot_problems]
        problems += _listed(
            [f"Published head BROKEN: {problem}" for problem in audit_heads_verify(published)],
            "snapshot heads do not match",
        )

        observed: list[PublishedHead] = []
        for path in options["heads"]:
            heads, read_problems = heads_read(path)
            observed += heads
            problems += [f"Observer's heads unreadable: {problem}" for problem in read_problems]
        observed = _distinct(observed)
        problems += _listed(
            [f"Observer's head BROKEN: {problem}" for problem in audit_heads_verify(observed)],
            "observer's heads do not match",
        )

        if problems:
            raise CommandError("\n".join(problems), returncode=1)
        self.stdout.write(
            self.style.SUCCESS(
                f"Audit chain OK: {verification.count} "
                f"event{'s' if verification.count != 1 else ''}, head {verification.head_hash}"
            )
        )
        if published or observed:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Heads OK: {len(published)} published by result snapshots, "
                    f"{len(observed)} saved by observers; all are events of the trail"
                )
            )
