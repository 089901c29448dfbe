"""The public read path under a crowd: results JSON from Django beside nginx.

Publishes a Belgrade-sized snapshot (17 municipalities, 12 lists) to the read
side of the current settings, serves it from gunicorn (the read API,
``/api/v1/elections/<slug>/results/``) and the same bytes as a static file
from nginx with a private config, and drives both with ``wrk`` at 100
concurrent connections on 127.0.0.1. Prints requests per second, p50/p99
latency and the Django/nginx ratio; asserts nothing about time.

Every request carries its own X-Forwarded-For from a pool of 50,000
addresses: the per-client throttle then counts a crowd of readers, as it
would in production, instead of refusing one address that sends 1,000
requests a second.

Needs ``nginx`` and ``wrk`` (``apt-get install -y nginx wrk``). Run, with
the cache and the read side you want measured, e.g.::

    VAR_DIR=/tmp/var-bench REDIS_URL=redis://127.0.0.1:6379/3 \\
        .venv/bin/python -m tests.benchmarks bench_public
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from copy import deepcopy
from pathlib import Path
from typing import Any

from django.conf import settings

from tests.published import publish, small_election

CONNECTIONS = 100
DURATION = "15s"
WARM_UP = "3s"
# Overridable to compare setups: BENCH_WORKERS=3 BENCH_THREADS=4 ...
GUNICORN_WORKERS = int(os.environ.get("BENCH_WORKERS", "4"))
GUNICORN_THREADS = int(os.environ.get("BENCH_THREADS", "8"))
GUNICORN_CLASS = os.environ.get("BENCH_WORKER_CLASS", "gthread")
SLUG = "beograd-bench"

WRK_SCRIPT = """
math.randomseed(os.time())
request = function()
  local a, b, c = math.random(0, 255), math.random(0, 195), math.random(1, 254)
  wrk.headers["X-Forwarded-For"] = "10." .. a .. "." .. b .. "." .. c
  {etag_line}
  return wrk.format("GET")
end
"""

NGINX_CONFIG = """
worker_processes 2;
daemon off;
pid {folder}/nginx.pid;
error_log {folder}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000;
  client_body_temp_path {folder}/client-body;
  proxy_temp_path {folder}/proxy;
  fastcgi_temp_path {folder}/fastcgi;
  uwsgi_temp_path {folder}/uwsgi;
  scgi_temp_path {folder}/scgi;
  types {{ application/json json; }}
  server {{
    listen 127.0.0.1:{port};
    root {root};
    add_header Cache-Control "public, max-age=5";
  }}
}}
"""


def belgrade_sized() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The small test election grown to Belgrade's shape: 17 municipalities,
    12 lists. Only the size matters here, not the arithmetic."""
    document, stations = small_election(1)
    document = deepcopy(document)
    document["election"]["slug"] = SLUG
    document["election"]["name"] = "Skupština grada Beograda"
    document["election"]["seats"] = 110
    base_lists = document["lists"]
    document["lists"] = [
        {**base_lists[index % 4], "ballot_number": index + 1, "name": f"Lista broj {index + 1}"}
        for index in range(12)
    ]
    base_municipalities = document["municipalities"]
    document["municipalities"] = []
    for index in range(17):
        item = deepcopy(base_municipalities[index % 3])
        item["code"] = f"opstina-{index + 1}"
        item["name"] = f"Opština {index + 1}"
        item["votes"] = {str(number): 1000 * number + index for number in range(1, 13)}
        document["municipalities"].append(item)
    return document, stations


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.2)


def wrk(url: str, script: Path, duration: str) -> dict[str, Any]:
    output = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{CONNECTIONS}",
            f"-d{duration}",
            "--latency",
            "-s",
            str(script),
            url,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout

    def milliseconds(label: str) -> float:
        match = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
        if not match:
            return float("nan")
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket_errors = re.search(r"Socket errors: (.*)", output)
    return {
        "rps": float(rate.group(1)) if rate else float("nan"),
        "p50": milliseconds("50"),
        "p99": milliseconds("99"),
        "non_2xx": int(errors.group(1)) if errors else 0,
        "socket_errors": socket_errors.group(1) if socket_errors else "none",
    }


def stop(process: subprocess.Popen[bytes] | None) -> None:
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def main() -> None:
    missing = [tool for tool in ("nginx", "wrk") if not shutil.which(tool)]
    if missing:
        print(f"skipped: {', '.join(missing)} not installed (apt-get install -y nginx wrk)")
        return
    document, stations = belgrade_sized()
    publish(document, stations)
    results_file = Path(settings.PUBLISH_DIR) / SLUG / "results.json"
    size = results_file.stat().st_size
    cache_name = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    print(f"document: {size} bytes; cache: {cache_name}; {CONNECTIONS} connections, {DURATION}")
    print(
        f"gunicorn: {GUNICORN_WORKERS} workers, {GUNICORN_CLASS}"
        + (f", {GUNICORN_THREADS} threads" if GUNICORN_CLASS == "gthread" else "")
    )

    folder = Path(tempfile.mkdtemp(prefix="bench-public-"))
    script = folder / "crowd.lua"
    script.write_text(WRK_SCRIPT.format(etag_line=""))
    django_port, nginx_port = free_port(), free_port()
    environment = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": os.environ.get("SECRET_KEY", "benchmark-only-not-secret"),
        "AUDIT_HMAC_KEY": os.environ.get("AUDIT_HMAC_KEY", "benchmark-only-not-secret"),
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
        # Plain HTTP on 127.0.0.1, as behind a proxy that ends TLS; the
        # throttle counts each request's X-Forwarded-For as its client.
        "SECURE_SSL_REDIRECT": "false",
        "TRUSTED_PROXY_HEADER": "X-Forwarded-For",
    }
    gunicorn = nginx = None
    try:
        gunicorn = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "commission.wsgi",
                f"--workers={GUNICORN_WORKERS}",
                f"--worker-class={GUNICORN_CLASS}",
                f"--threads={GUNICORN_THREADS}",
                f"--bind=127.0.0.1:{django_port}",
                "--backlog=2048",
                "--log-level=warning",
            ],
            cwd=settings.BASE_DIR,
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=(folder / "gunicorn.log").open("wb"),
        )
        (folder / "nginx.conf").write_text(
            NGINX_CONFIG.format(folder=folder, port=nginx_port, root=results_file.parent)
        )
        nginx = subprocess.Popen(
            ["nginx", "-c", str(folder / "nginx.conf"), "-p", str(folder)],
            stdout=subprocess.DEVNULL,
            stderr=(folder / "nginx.log").open("wb"),
        )
        django_url = f"http://127.0.0.1:{django_port}/api/v1/elections/{SLUG}/results/"
        nginx_url = f"http://127.0.0.1:{nginx_port}/results.json"
        wait_for(django_url)
        wait_for(nginx_url)
        with urllib.request.urlopen(django_url) as one, urllib.request.urlopen(nginx_url) as two:
            same = json.loads(one.read()) == json.loads(two.read())
        print(f"same document from both: {same}")

        with urllib.request.urlopen(django_url) as response:
            etag = response.headers["ETag"]
        polling = folder / "polling.lua"
        polling.write_text(
            WRK_SCRIPT.format(etag_line=f'wrk.headers["If-None-Match"] = {json.dumps(etag)}')
        )

        figures = {}
        for name, url, crowd in (
            ("django", django_url, script),
            ("nginx", nginx_url, script),
            # Readers polling with the ETag they hold: 304, no body.
            ("django 304", django_url, polling),
        ):
            wrk(url, crowd, WARM_UP)
            figures[name] = wrk(url, crowd, DURATION)
        for name, item in figures.items():
            print(
                f"{name:>10}: {item['rps']:>9.0f} req/s   p50 {item['p50']:7.2f} ms   "
                f"p99 {item['p99']:7.2f} ms   non-2xx/3xx {item['non_2xx']}   "
                f"socket errors {item['socket_errors']}"
            )
        ratio = figures["django"]["rps"] / figures["nginx"]["rps"]
        print(f"django/nginx throughput ratio: {ratio:.3f} (1 : {1 / ratio:.1f})")
        met = figures["django"]["rps"] >= 1000 and figures["django"]["p99"] < 100
        print(f"goal >= 1000 req/s with p99 < 100 ms from Django: {'met' if met else 'NOT met'}")
    finally:
        stop(nginx)
        stop(gunicorn)
        shutil.rmtree(folder, ignore_errors=True)
