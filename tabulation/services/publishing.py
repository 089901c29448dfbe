"""Publishing: a stored snapshot goes out to the read side (docs/results-format.md).

The read side is the cache and the files in ``PUBLISH_DIR/<slug>/``; readers
(``selectors/published.py``) never wait on tabulation and never read the
write tables. Every file is written to a temporary name in the same folder
and renamed into place (``os.replace`` is atomic), so a reader sees the old
file or the new one, never half of one.

Publishing writes no rows: the snapshot it publishes was announced in the
audit trail when it was stored. The files of a version (``snapshots/<n>/``)
are a public record, written once and never replaced or removed: publishing
a version again keeps the bytes it first went out with. An older snapshot
never replaces a newer one as "latest".
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache

from tabulation.domain.results import results_build
from tabulation.models import Election, ResultSnapshot
from tabulation.selectors.open_data import STATION_FILES, json_bytes, open_data_files
from tabulation.selectors.tabulation import tabulation_inputs_get


def cache_key(slug: str, what: str) -> str:
    """``results:<slug>:<what>``: the names shared with the selectors."""
    return f"results:{slug}:{what}"


@contextmanager
def _staged(path: Path, content: bytes) -> Iterator[str]:
    """``content`` in a temporary file beside ``path``, removed afterwards
    unless it was moved into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(content)
        os.chmod(temporary, 0o644)
        yield temporary
    finally:
        Path(temporary).unlink(missing_ok=True)


def _write_atomic(path: Path, content: bytes) -> None:
    with _staged(path, content) as temporary:
        os.replace(temporary, path)


def _write_once(path: Path, content: bytes) -> bytes:
    """Put ``content`` at ``path`` unless a file is already there, and return
    the bytes on record. A version's files are a public record: once out,
    they never change, whoever publishes the version again. The temporary
    file is linked into place, which fails rather than replace, so of two
    publishers racing the first one's bytes stay."""
    if not path.exists():
        with _staged(path, content) as temporary, contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    return path.read_bytes()


def _stations_for(snapshot: ResultSnapshot, *, rebuild: bool) -> list[dict[str, Any]] | None:
    """The station rows of ``snapshot`` when its publisher does not hold them:
    those already published with it (the record), else, with ``rebuild``,
    rebuilt from the rows when they still give its inputs hash, else those
    published with another version of the same inputs (an official snapshot
    certifies a provisional one's inputs). None when none of these has them."""
    slug = Election.objects.values_list("slug", flat=True).get(pk=snapshot.election_id)
    folder = Path(settings.PUBLISH_DIR) / slug / "snapshots"
    if (folder / str(snapshot.version) / "stations.json").exists():
        return json.loads((folder / str(snapshot.version) / "stations.json").read_bytes())
    if rebuild:
        inputs = tabulation_inputs_get(election_id=snapshot.election_id)
        built = results_build(inputs, now=snapshot.created_at)
        if built.inputs_hash == snapshot.inputs_hash:
            return built.stations
    for twin in (
        ResultSnapshot.objects.filter(
            election_id=snapshot.election_id, inputs_hash=snapshot.inputs_hash
        )
        .exclude(pk=snapshot.pk)
        .order_by("-version")
        .values_list("version", flat=True)
    ):
        if (folder / str(twin) / "stations.json").exists():
            return json.loads((folder / str(twin) / "stations.json").read_bytes())
    return None


def version_in(path: Path) -> int:
    """The ``version`` a published JSON file names (``results.json``,
    ``version.json``); 0 when the file is missing or names none."""
    try:
        with path.open("rb") as handle:
            return int(json.load(handle).get("version", 0))
    except (FileNotFoundError, ValueError, AttributeError, TypeError):
        return 0


def snapshot_publish(
    *,
    snapshot: ResultSnapshot,
    stations: list[dict[str, Any]] | None = None,
    rebuild: bool = True,
    pages: bool = True,
) -> None:
    """Write ``snapshot`` to the files in PUBLISH_DIR and to the cache.

    ``stations``: its station rows, as the tabulation that stored it built
    them; without them, see ``_stations_for`` (``rebuild``: whether to try
    the rows of the tables). The snapshot's own folder ``snapshots/<version>/``
    is written first and once (``_write_once``): a version published again
    keeps the bytes it went out with. Then the top-level files, copies of
    the folder's, then the cache, so the cache never names a version whose
    files are missing. Then its public pages (services/site_pages.py),
    unless ``pages`` is off: a tabulation run asks for them in a task of
    their own, so that its JSON does not wait on rendering them.
    """
    election = Election.objects.get(pk=snapshot.election_id)
    slug = election.slug
    document = snapshot.payload
    version = snapshot.version
    if stations is None:
        stations = _stations_for(snapshot, rebuild=rebuild)
    folder = Path(settings.PUBLISH_DIR) / slug
    own = folder / "snapshots" / str(version)
    on_record = {
        name: _write_once(own / name, content)
        for name, content in open_data_files(document, stations).items()
    }
    newest = version_in(folder / "results.json")
    is_latest = newest <= version
    if is_latest:
        # results.json last: a reader that sees the new version finds its
        # other files already in place.
        for name in sorted(on_record, key=lambda name: name == "results.json"):
            _write_atomic(folder / name, on_record[name])
        # Station files of an older version must not pass for this one's.
        for name in STATION_FILES - on_record.keys():
            (folder / name).unlink(missing_ok=True)
    _write_atomic(Path(settings.PUBLISH_DIR) / "elections.json", json_bytes(_elections_index()))

    versions = [
        {"version": number, "status": kind, "published_at": payload_time}
        for number, kind, payload_time in _versions_of(election, max(newest, version))
    ]
    entries: dict[str, Any] = {
        cache_key(slug, f"v{version}"): document,
        cache_key(slug, "versions"): versions,
    }
    if "stations.json" in on_record:
        entries[cache_key(slug, f"stations:v{version}")] = json.loads(on_record["stations.json"])
    cached = cache.get(cache_key(slug, "latest"))
    if is_latest and (cached is None or int(cached.get("version", 0)) <= version):
        entries[cache_key(slug, "latest")] = document
    cache.set_many(entries, timeout=None)
    if not pages:
        return
    # The pages last: they are rendered from what is now published, as
    # Django renders them. Imported here, as the pages' module imports the
    # views, which import services that import this module.
    from tabulation.services.site_pages import site_pages_publish

    site_pages_publish(
        document=document,
        stations=_rows(on_record.get("stations.json")),
        versions=versions,
        latest=is_latest,
    )


def _rows(content: bytes | None) -> list[dict[str, Any]] | None:
    """The station rows of a ``stations.json`` (bare, or wrapped with its version)."""
    if content is None:
        return None
    rows = json.loads(content)
    return rows.get("stations") if isinstance(rows, dict) else rows


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
