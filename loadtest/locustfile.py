"""The crowd of the load test (run by ``python -m loadtest``, which sets the
environment below and reads the summary this file writes).

- Clerks (the plan's, loadtest/django_side.py): each follows its part of
  the plan, typing one station's record through the entry
  API with its token, through nginx as in production. Each station is typed
  by its two clerks: the second equal entry accepts it.
- Readers (``LOADTEST_READERS``): poll the latest results as a page or an app
  does, with the ETag they hold (a 304 while nothing changed). Most go
  through nginx, which answers from the published file;
  ``LOADTEST_DJANGO_READERS`` of them ask gunicorn directly, each from its
  own address (X-Forwarded-For, trusted in the load test as behind a
  proxy), as distinct readers are.
- A watcher polls results.json through nginx ten times a second; on each new
  version it reads that version's stations.json and notes when each station's
  record first shows: the freshness of a record is that moment minus the
  moment the clerk's submission that accepted it was answered.

Latencies count from the moment every user has started: while locust starts
users it is busy making their connections, and its own delay would be
counted as the server's. Clerks stop submitting ``LOADTEST_CLERKS_UNTIL``
seconds after the start, a little before the end, so that the watcher sees
every accepted record published while it still watches.

``LOADTEST_PHASE=reference``: the readers only, through nginx: the same
polling of the same file on an otherwise idle machine.
"""

from __future__ import annotations

import itertools
import json
import os
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

from locust import constant_pacing, events, task
from locust.contrib.fasthttp import FastHttpUser

PLAN = json.loads(Path(os.environ["LOADTEST_PLAN"]).read_text(encoding="utf-8"))
SLUG = PLAN["slug"]
NGINX = os.environ["LOADTEST_NGINX"]
DJANGO = os.environ["LOADTEST_DJANGO"]
REFERENCE = os.environ.get("LOADTEST_PHASE") == "reference"
READERS = int(os.environ.get("LOADTEST_READERS", "500"))
DJANGO_READERS = 0 if REFERENCE else int(os.environ.get("LOADTEST_DJANGO_READERS", "50"))
CLERKS = 0 if REFERENCE else len(PLAN["clerks"])
READER_PACE = float(os.environ["LOADTEST_READER_PACE"])
CLERK_PACE = float(os.environ["LOADTEST_CLERK_PACE"])
CLERKS_UNTIL = time.monotonic() + float(os.environ.get("LOADTEST_CLERKS_UNTIL", "inf"))
RESULTS = f"/api/v1/elections/{SLUG}/results/"

# Per request name: response times (ms) and failures; read at the end.
TIMES: dict[str, list[float]] = defaultdict(list)
FAILURES: dict[str, list[str]] = defaultdict(list)
# Station code -> when its record was accepted (the clerk's answer) and when
# it first showed in a published version (monotonic seconds).
ACCEPTED: dict[str, float] = {}
SHOWN: dict[str, float] = {}
_CLERKS = iter(PLAN["clerks"])
_ADDRESSES = itertools.count(1)


@events.request.add_listener
def _record(name: str, response_time: float, exception: Any, **_: Any) -> None:
    if exception is not None:
        FAILURES[name].append(str(exception)[:200])
    else:
        TIMES[name].append(response_time)


@events.spawning_complete.add_listener
def _measure_from_now(**_: Any) -> None:
    TIMES.clear()


class Clerk(FastHttpUser):
    host = NGINX
    fixed_count = CLERKS
    wait_time = constant_pacing(CLERK_PACE)

    def on_start(self) -> None:
        clerk = next(_CLERKS)
        self.headers = {"Authorization": f"Token {clerk['token']}"}
        self.queue = list(clerk["stations"])

    @task
    def submit(self) -> None:
        if not self.queue or time.monotonic() > CLERKS_UNTIL:
            return
        station = self.queue.pop(0)
        with self.client.post(
            f"/api/v1/elections/{SLUG}/stations/{station['code']}/entries/",
            json=station["record"],
            headers={**self.headers, "Idempotency-Key": uuid.uuid4().hex},
            name="clerk submit",
            catch_response=True,
        ) as response:
            if response.status_code not in (200, 201):
                response.failure(f"{response.status_code}: {response.text[:200]}")
                return
            status = response.json()["round"]["status"]
            if status in ("accepted", "held"):
                ACCEPTED.setdefault(station["code"], time.monotonic())


class _Reader(FastHttpUser):
    abstract = True
    wait_time = constant_pacing(READER_PACE)
    label = ""

    def on_start(self) -> None:
        self.etag = ""
        self.headers: dict[str, str] = {}

    @task
    def poll(self) -> None:
        headers = {**self.headers, "If-None-Match": self.etag} if self.etag else self.headers
        with self.client.get(RESULTS, headers=headers, name=self.label, catch_response=True) as r:
            if r.status_code == 200:
                self.etag = r.headers.get("ETag", "")
            elif r.status_code != 304:
                r.failure(f"{r.status_code}")


class NginxReader(_Reader):
    host = NGINX
    fixed_count = READERS - DJANGO_READERS
    label = "reference nginx" if REFERENCE else "reader nginx"


class DjangoReader(_Reader):
    host = DJANGO
    fixed_count = DJANGO_READERS
    label = "reader django"

    def on_start(self) -> None:
        super().on_start()
        number = next(_ADDRESSES)
        self.headers = {
            "X-Forwarded-For": f"10.{number // 65536}.{number // 256 % 256}.{number % 256}"
        }


class Watcher(FastHttpUser):
    host = NGINX
    fixed_count = 0 if REFERENCE else 1
    wait_time = constant_pacing(0.1)

    def on_start(self) -> None:
        self.version = 0

    @task
    def watch(self) -> None:
        response = self.client.get(f"/results/{SLUG}/data/results.json", name="watcher")
        if response.status_code != 200:
            return
        seen = time.monotonic()
        version = int(response.json()["version"])
        if version <= self.version:
            return
        self.version = version
        rows = self.client.get(
            f"/results/{SLUG}/data/v{version}/stations.json", name="watcher stations"
        ).json()
        for row in rows:
            if row["status"] in ("counted", "held"):
                SHOWN.setdefault(row["code"], seen)


@events.quitting.add_listener
def _summary(**_: Any) -> None:
    freshness = {
        code: max(0.0, SHOWN[code] - accepted)
        for code, accepted in ACCEPTED.items()
        if code in SHOWN
    }
    summary = {
        "times": TIMES,
        "failures": FAILURES,
        "accepted": len(ACCEPTED),
        "freshness": freshness,
        "not_shown": sorted(set(ACCEPTED) - set(SHOWN)),
    }
    with open(os.environ["LOADTEST_SUMMARY"], "w", encoding="utf-8") as handle:
        json.dump(summary, handle)
