"""Publishing: a stored snapshot goes out to the read side (docs/results-format.md).

The read side is the cache and the files in ``PUBLISH_DIR/<slug>/``; readers
(``selectors/published.py``) never wait on tabulation and never read the
write tables. Every file is written to a temporary name in the same folder
and renamed into place (``os.replace`` is atomic), so a reader sees the old
file or the new one, never half of one.

Publishing writes no rows: the snapshot it publishes was announced in the
audit trail when it was stored. It is idempotent (a snapshot is immutable,
so publishing it twice writes the same bytes), and an older snapshot never
replaces a newer one as "latest".
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache

from tabulation.domain.results import results_build
from tabulation.models import Election, ResultSnapshot
from tabulation.selectors.open_data import json_bytes, open_data_files
from tabulation.selectors.tabulation import tabulation_inputs_get


def cache_key(slug: str, what: str) -> str:
    """``results:<slug>:<what>``: the names shared with the selectors."""
    return f"results:{slug}:{what}"


def _write_atomic(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(content)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _stations_for(snapshot: ResultSnapshot) -> list[dict[str, Any]] | None:
    """The station rows of ``snapshot``, rebuilt from the rows when they still
    give its inputs hash; None when they have moved on (then the next
    snapshot publishes its own)."""
    inputs = tabulation_inputs_get(election_id=snapshot.election_id)
    built = results_build(inputs, now=snapshot.created_at)
    return built.stations if built.inputs_hash == snapshot.inputs_hash else None


def _published_version(folder: Path) -> int:
    try:
        with (folder / "results.json").open("rb") as handle:
            return int(json.load(handle).get("version", 0))
    except (FileNotFoundError, ValueError, AttributeError):
        return 0


def snapshot_publish(
    *, snapshot: ResultSnapshot, stations: list[dict[str, Any]] | None = None
) -> None:
    """Write ``snapshot`` to the files in PUBLISH_DIR and to the cache.

    ``stations``: its station rows, as the tabulation that stored it built
    them; without them they are rebuilt when the rows still match. The
    snapshot's own folder ``snapshots/<version>/`` is written first, then the
    top-level files, then the cache, so the cache never names a version
    whose files are missing.
    """
    election = Election.objects.get(pk=snapshot.election_id)
    slug = election.slug
    document = snapshot.payload
    version = snapshot.version
    if stations is None:
        stations = _stations_for(snapshot)
    files = open_data_files(document, stations)
    folder = Path(settings.PUBLISH_DIR) / slug
    for name, content in files.items():
        _write_atomic(folder / "snapshots" / str(version) / name, content)
    newest = _published_version(folder)
    is_latest = newest <= version
    if is_latest:
        # results.json last: a reader that sees the new version finds its
        # other files already in place.
        for name in sorted(files, key=lambda name: name == "results.json"):
            _write_atomic(folder / name, files[name])
    _write_atomic(Path(settings.PUBLISH_DIR) / "elections.json", json_bytes(_elections_index()))

    versions = [
        {"version": number, "status": kind, "published_at": payload_time}
        for number, kind, payload_time in _versions_of(election, max(newest, version))
    ]
    entries: dict[str, Any] = {
        cache_key(slug, f"v{version}"): document,
        cache_key(slug, "versions"): versions,
    }
    if stations is not None:
        entries[cache_key(slug, f"stations:v{version}")] = stations
    cached = cache.get(cache_key(slug, "latest"))
    if is_latest and (cached is None or int(cached.get("version", 0)) <= version):
        entries[cache_key(slug, "latest")] = document
    cache.set_many(entries, timeout=None)


def _versions_of(election: Election, up_to: int) -> list[tuple[int, str, str]]:
    """Every version up to ``up_to``, oldest first: (version, status, published_at)."""
    return [
        (number, kind, published_at or "")
        for number, kind, published_at in ResultSnapshot.objects.filter(
            election=election, version__lte=up_to
        )
        .order_by("version")
        .values_list("version", "kind", "payload__published_at")
    ]


def _elections_index() -> list[dict[str, Any]]:
    """``elections.json``: every election with a snapshot, newest first."""
    index = []
    for election in Election.objects.filter(snapshots__isnull=False).distinct():
        latest = election.snapshots.order_by("-version").values_list("kind", flat=True).first()
        index.append(
            {
                "slug": election.slug,
                "name": election.name,
                "date": str(election.date),
                "seats": election.seats,
                "status": latest,
            }
        )
    return index
