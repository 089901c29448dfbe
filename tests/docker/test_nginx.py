"""docker/nginx/: the config parses, and a real nginx over a published folder
serves the published files with their caching headers (304 included) and
passes everything else to the server behind it."""

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.test import Client

from loadtest.nginx import Nginx, free_port, nginx_binary
from tests.conftest import missing_service
from tests.published import (  # noqa: F401 - fixtures
    novi_grad_fixture,
    publish_dir_fixture,
    published_fixture,
)

# Two tests serve the pages publishing writes as files.
pytestmark = pytest.mark.site_pages

SLUG = "grad-2099"


@pytest.fixture(autouse=True)
def _nginx_installed() -> None:
    if nginx_binary() is None:
        missing_service("nginx (Debian package) is not installed")


class _StubDjango(BaseHTTPRequestHandler):
    """Stands in for gunicorn: says it answered, and what it was asked."""

    def _answer(self) -> None:
        body = json.dumps({"django": self.path, "method": self.command}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Seen-Forwarded-For", self.headers.get("X-Forwarded-For", ""))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(name="stub_django")
def stub_django_fixture() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _StubDjango)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _serve(tmp_path: Path, publish_root: Path, upstream: str) -> Iterator[Nginx]:
    nginx = Nginx(tmp_path / "nginx", free_port(), publish_root, upstream)
    process = nginx.start()
    try:
        yield nginx
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(name="folder")
def folder_fixture(tmp_path: Path) -> Path:
    """A published folder as publishing lays it out (docs/results-format.md)."""
    root = tmp_path / "published"
    (root / SLUG / "snapshots" / "3").mkdir(parents=True)
    (root / SLUG / "results.json").write_bytes(b'{"version":4}')
    (root / SLUG / "totals.csv").write_bytes(b"ballot_number,name\n1,Lista\n")
    (root / SLUG / "snapshots" / "3" / "results.json").write_bytes(b'{"version":3}')
    (root / "elections.json").write_bytes(b'[{"slug":"grad-2099"}]')
    (root / "site" / "en" / "results" / SLUG).mkdir(parents=True)
    (root / "site" / "en" / "results" / SLUG / "index.html").write_bytes(b"<p>page</p>")
    return root


@pytest.fixture(name="nginx")
def nginx_fixture(tmp_path: Path, folder: Path, stub_django: str) -> Iterator[Nginx]:
    yield from _serve(tmp_path, folder, stub_django)


def fetch(url: str, headers: dict[str, str] | None = None, data: bytes | None = None):
    request = urllib.request.Request(url, headers=headers or {}, data=data)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def test_the_config_passes_nginx_t(tmp_path):
    result = Nginx(tmp_path / "nginx", free_port(), tmp_path, "127.0.0.1:8000").test()

    assert result.returncode == 0, result.stderr
    assert "[warn]" not in result.stderr and "[emerg]" not in result.stderr, result.stderr


def test_a_published_file_is_served_with_its_caching_headers_then_304(nginx):
    status, headers, body = fetch(f"{nginx.url}/results/{SLUG}/data/results.json")

    assert (status, body) == (200, b'{"version":4}')
    assert headers["Cache-Control"] == "public, max-age=5"
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert headers["Access-Control-Allow-Origin"] == "*"
    etag, last_modified = headers["ETag"], headers["Last-Modified"]
    assert etag and last_modified

    by_etag = fetch(f"{nginx.url}/results/{SLUG}/data/results.json", {"If-None-Match": etag})
    by_date = fetch(
        f"{nginx.url}/results/{SLUG}/data/results.json", {"If-Modified-Since": last_modified}
    )

    assert (by_etag[0], by_etag[2]) == (304, b"")
    assert (by_date[0], by_date[2]) == (304, b"")
    assert by_etag[1]["ETag"] == etag


def test_the_api_documents_and_a_version_come_from_their_files(nginx):
    latest = fetch(f"{nginx.url}/api/v1/elections/{SLUG}/results/")
    version = fetch(f"{nginx.url}/api/v1/elections/{SLUG}/snapshots/3/")
    version_file = fetch(f"{nginx.url}/results/{SLUG}/data/v3/results.json")
    elections = fetch(f"{nginx.url}/api/v1/elections/")
    csv = fetch(f"{nginx.url}/results/{SLUG}/data/totals.csv")

    assert latest[2] == b'{"version":4}'
    assert version[2] == version_file[2] == b'{"version":3}'
    assert version[1]["Cache-Control"] == "public, max-age=3600"
    assert elections[2] == b'[{"slug":"grad-2099"}]'
    assert csv[1]["Content-Type"] == "text/csv; charset=utf-8"


def test_a_page_file_is_served_in_its_language_and_a_missing_one_by_django(nginx):
    status, headers, body = fetch(f"{nginx.url}/en/results/{SLUG}/")
    missing = fetch(f"{nginx.url}/sr/results/{SLUG}/")

    assert (status, body) == (200, b"<p>page</p>")
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert headers["Content-Language"] == "en"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert "Access-Control-Allow-Origin" not in headers
    assert json.loads(missing[2]) == {"django": f"/sr/results/{SLUG}/", "method": "GET"}


@pytest.mark.parametrize(
    "path",
    [
        f"/en/results/{SLUG}/?page=2",  # a query string: Django's answer, not the file's
        f"/results/{SLUG}/data/stations.csv",  # not published: Django says so
        f"/results/{SLUG}/data/.results.json.x.tmp",  # a file publishing is writing
        f"/results/{SLUG}/data/../../elections.json",
        "/api/v1/entry/records/",
        "/commission/",
    ],
)
def test_anything_else_is_passed_to_django(nginx, path):
    status, headers, body = fetch(f"{nginx.url}{path}")

    assert status == 200
    assert json.loads(body)["django"].startswith(("/en/", "/results/", "/api/", "/commission/"))
    assert headers["X-Seen-Forwarded-For"] == "127.0.0.1"
    assert "Access-Control-Allow-Origin" not in headers


def test_a_post_reaches_django_with_its_body(nginx):
    status, _, body = fetch(f"{nginx.url}/api/v1/elections/{SLUG}/results/", data=b"{}")

    assert status == 200
    assert json.loads(body) == {
        "django": f"/api/v1/elections/{SLUG}/results/",
        "method": "POST",
    }


def test_what_nginx_serves_is_byte_for_byte_what_django_answers(
    tmp_path, published, publish_dir, stub_django
):
    """The application's own published snapshot: each address nginx serves
    from a file gives the same bytes as Django at that address."""
    document, _ = published
    slug = document["election"]["slug"]
    addresses = [
        f"/results/{slug}/data/{name}"
        for name in ("results.json", "totals.csv", "stations.csv", "stations.json")
    ] + [
        f"/results/{slug}/data/v{document['version']}/municipalities.csv",
        f"/api/v1/elections/{slug}/results/",
        f"/api/v1/elections/{slug}/snapshots/{document['version']}/",
        "/api/v1/elections/",
    ]
    client = Client()
    for nginx in _serve(tmp_path, publish_dir, stub_django):
        for address in addresses:
            from_django = client.get(address)
            status, _, body = fetch(f"{nginx.url}{address}")

            assert from_django.status_code == status == 200, address
            assert body == from_django.content, address


@pytest.mark.parametrize("prefix", ["", "/sr", "/en"])
def test_the_pages_in_each_language_are_served_with_django_stopped(
    tmp_path, published, publish_dir, prefix
):
    """Publishing's own pages (services/site_pages.py), with nothing behind
    nginx: each is the bytes Django answered at its address while it ran,
    in its language, and a repeated request gets a 304."""
    document, stations = published
    slug = document["election"]["slug"]
    municipality = document["municipalities"][0]["code"]
    base = f"{prefix}/results/{slug}"
    addresses = [
        f"{base}/",
        f"{base}/live/",
        f"{base}/version/",
        f"{base}/municipalities/{municipality}/",
        f"{base}/stations/{stations[0]['code']}/",
        f"{base}/v{document['version']}/",
    ]
    client = Client()
    from_django = {address: client.get(address).content for address in addresses}
    stopped = f"127.0.0.1:{free_port()}"  # nothing listens there
    for nginx in _serve(tmp_path, publish_dir, stopped):
        for address in addresses:
            status, headers, body = fetch(f"{nginx.url}{address}")

            assert (status, body) == (200, from_django[address]), address
            again = fetch(f"{nginx.url}{address}", {"If-None-Match": headers["ETag"]})
            assert (again[0], again[2]) == (304, b""), address
        _, headers, _ = fetch(f"{nginx.url}{base}/")
        assert headers["Content-Language"] == {"": "sr-latn", "/sr": "sr", "/en": "en"}[prefix]
        assert headers["Content-Type"] == "text/html; charset=utf-8"
        _, headers, _ = fetch(f"{nginx.url}{base}/v{document['version']}/")
        assert headers["Cache-Control"] == "public, max-age=3600"
        # A page not published (the snapshots' index) needs Django: 502.
        assert fetch(f"{nginx.url}{base}/snapshots/")[0] == 502
