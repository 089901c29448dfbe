"""`make loadtest`: the whole stack on this machine under election-night load.

Starts gunicorn, nginx (docker/nginx/ config) and two Celery workers against
the local PostgreSQL (its own database, ``loadtest``) and Redis (db 5),
loads the Belgrade demo election, and runs the crowd of
loadtest/locustfile.py: 50 clerks entering records, each station's twice
(double entry), through the entry API and 500 readers polling the results.
Then it waits for the last snapshot, recounts the accepted records with one
SQL GROUP BY against the published files, measures the reference (the same
readers on nginx with the stack idle), prints the figures and
writes them to docs/BENCHMARKS.md.

    python -m loadtest [--duration 75] [--no-write]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from loadtest.machine import (
    busy_cores,
    cpu_ticks,
    group_members,
    load_average,
    process_seconds,
)
from loadtest.nginx import Nginx, free_port
from loadtest.report import LOADTEST_SECTION, Figures, command_line, report_lines, section_update

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DATABASE = os.environ.get("LOADTEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/loadtest")
REDIS = os.environ.get("LOADTEST_REDIS_URL", "redis://127.0.0.1:6379/5")
VAR = ROOT / "var" / "loadtest"
# The clerks stop this many seconds before the end, so that every record they
# got accepted is published while the watcher still watches.
CLERKS_QUIET = 15


def environment() -> dict[str, str]:
    """The application's settings for the run: production-like (DEBUG off),
    on plain HTTP on loopback, behind a proxy that names the client."""
    return {
        **os.environ,
        "DATABASE_URL": DATABASE,
        "REDIS_URL": REDIS,
        "VAR_DIR": str(VAR),
        "PUBLISH_DIR": str(VAR / "published"),
        "DEBUG": "false",
        "SECRET_KEY": "load-test-only-" + "x" * 50,
        "AUDIT_HMAC_KEY": "load-test-only-audit-key",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_COOKIES": "false",
        "SECURE_HSTS_SECONDS": "0",
        "TRUSTED_PROXY_HEADER": "X-Forwarded-For",
        "CELERY_TASK_DEFAULT_QUEUE": "loadtest",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "commission.settings",
        "PYTHONPATH": str(ROOT),
    }


def reset(env: dict[str, str]) -> None:
    """A new empty database, an empty Redis db and no files from a last run."""
    import psycopg
    import redis

    name = DATABASE.rsplit("/", 1)[1]
    if name in ("test", "postgres", "commission"):
        raise SystemExit(f"refusing to drop the database {name!r}")
    try:
        with psycopg.connect(
            DATABASE.rsplit("/", 1)[0] + "/postgres", autocommit=True
        ) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            connection.execute(f'CREATE DATABASE "{name}"')
        redis.Redis.from_url(REDIS).flushdb()
    except (psycopg.OperationalError, redis.ConnectionError) as error:
        raise SystemExit(
            f"loadtest: needs PostgreSQL and Redis (LOADTEST_DATABASE_URL, LOADTEST_REDIS_URL; "
            f"`bash .ci/run` shows how to start them): {error}"
        ) from error
    shutil.rmtree(VAR, ignore_errors=True)
    (VAR / "published").mkdir(parents=True)


@contextmanager
def started(
    command: list[str], env: dict[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """A child in its own process group, ended with its children afterwards."""
    with log.open("wb") as output:
        process = subprocess.Popen(
            command,
            env=env,
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()


def wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def locust(env: dict[str, str], classes: list[str], users: int, seconds: int) -> dict[str, Any]:
    """Run the crowd; its summary, with the CPU seconds locust itself used."""
    summary = VAR / f"summary-{env.get('LOADTEST_PHASE', 'main')}.json"
    command = [
        str(BIN / "locust"),
        "-f",
        str(ROOT / "loadtest" / "locustfile.py"),
        "--headless",
        "--only-summary",
        "--users",
        str(users),
        "--spawn-rate",
        "100",
        "--run-time",
        f"{seconds}s",
        "--stop-timeout",
        "10",
        "--loglevel",
        "WARNING",
        *classes,
    ]
    before = os.times()
    with (VAR / "locust.log").open("ab") as log:
        subprocess.run(
            command,
            env={**env, "LOADTEST_SUMMARY": str(summary)},
            cwd=ROOT,
            check=False,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    after = os.times()
    result: dict[str, Any] = json.loads(summary.read_text())
    result["cpu_seconds"] = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    return result


def recount(env: dict[str, str], slug: str) -> dict[str, Any]:
    output = subprocess.run(
        [sys.executable, "-m", "loadtest.django_side", "recount", str(VAR / "published"), slug],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def stack_seconds(groups: dict[str, tuple[int, ...]]) -> dict[str, float]:
    """CPU seconds so far of each part of the stack, by its process groups."""
    return {
        name: sum(process_seconds(group_members(group)) for group in leaders)
        for name, leaders in groups.items()
    }


def settled(env: dict[str, str], slug: str, seconds: float = 90) -> tuple[dict[str, Any], float]:
    """The recount once the workers have published every accepted record
    (or the last one after ``seconds``), and how long that took."""
    began = time.monotonic()
    while True:
        result = recount(env, slug)
        done = not result["missing"] and not result["votes_differ"]
        if done or time.monotonic() - began > seconds:
            return result, time.monotonic() - began
        time.sleep(1)


def database_backends() -> list[int]:
    """The PostgreSQL processes serving the load test's database now."""
    import psycopg

    name = DATABASE.rsplit("/", 1)[1]
    with psycopg.connect(DATABASE) as connection:
        rows = connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [name],
        ).fetchall()
    return [int(pid) for (pid,) in rows]


class LoadSampler:
    """The 1-minute load average every few seconds, in a thread, while the
    crowd runs: other engineers' work on the machine shows there."""

    def __init__(self, every: float = 5.0) -> None:
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(every,), daemon=True)

    def _run(self, every: float) -> None:
        while not self._stop.wait(every):
            self.samples.append(load_average()[0])

    def __enter__(self) -> LoadSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=75, help="seconds of load")
    parser.add_argument("--reference", type=int, default=15, help="seconds of the reference")
    parser.add_argument("--clerks", type=int, default=50)
    parser.add_argument("--readers", type=int, default=500)
    parser.add_argument("--django-readers", type=int, default=50)
    parser.add_argument("--gunicorn-workers", type=int, default=3)
    # 50 clerks at one record each 6 s are 30,000 entries an hour: the whole
    # Belgrade night (2,360 entries) twelve times over, a peak no night has.
    parser.add_argument(
        "--clerk-pace", type=float, default=6.0, help="seconds between a clerk's submissions"
    )
    # The results page polls every 5 s (tabulation/static/js/results.js).
    parser.add_argument(
        "--reader-pace", type=float, default=5.0, help="seconds between a reader's polls"
    )
    parser.add_argument("--no-write", action="store_true", help="do not touch docs/BENCHMARKS.md")
    options = parser.parse_args()

    if options.duration <= 2 * CLERKS_QUIET:
        parser.error(f"--duration must be more than {2 * CLERKS_QUIET} s")
    load_before = load_average()
    env = environment()
    print(f"loadtest: resetting {DATABASE}, {REDIS} and {VAR}", flush=True)
    reset(env)
    print("loadtest: migrating, loading the demo election, making the clerks", flush=True)
    plan = VAR / "plan.json"
    subprocess.run(
        [sys.executable, "-m", "loadtest.django_side", "prepare", str(plan), str(options.clerks)],
        env=env,
        cwd=ROOT,
        check=True,
    )
    slug = json.loads(plan.read_text())["slug"]
    django_port, nginx_port = free_port(), free_port()
    nginx = Nginx(VAR / "nginx", nginx_port, VAR / "published", f"127.0.0.1:{django_port}", 2)
    nginx.write()
    env.update(
        LOADTEST_PLAN=str(plan),
        LOADTEST_NGINX=nginx.url,
        LOADTEST_DJANGO=f"http://127.0.0.1:{django_port}",
        LOADTEST_READERS=str(options.readers),
        LOADTEST_DJANGO_READERS=str(options.django_readers),
        LOADTEST_CLERK_PACE=str(options.clerk_pace),
        LOADTEST_READER_PACE=str(options.reader_pace),
        LOADTEST_CLERKS_UNTIL=str(options.duration - CLERKS_QUIET),
    )
    gunicorn = [
        str(BIN / "gunicorn"),
        "commission.wsgi:application",
        "--bind",
        f"127.0.0.1:{django_port}",
        "--workers",
        str(options.gunicorn_workers),
    ]

    def worker(number: int) -> list[str]:
        return [
            str(BIN / "celery"),
            "-A",
            "commission",
            "worker",
            "--concurrency",
            "1",
            "--hostname",
            f"loadtest{number}@%h",
            "--loglevel",
            "WARNING",
        ]

    with (
        started(gunicorn, env, VAR / "gunicorn.log") as gunicorn_process,
        started(worker(1), env, VAR / "worker1.log") as worker1,
        started(worker(2), env, VAR / "worker2.log") as worker2,
        started(nginx.command(), env, VAR / "nginx.log") as nginx_process,
    ):
        wait_for(f"http://127.0.0.1:{django_port}/health/")
        wait_for(f"{nginx.url}/nginx-health")
        users = options.clerks // 2 * 2 + options.readers + 1
        print(f"loadtest: {users} users for {options.duration} s", flush=True)
        groups = {
            "gunicorn": (gunicorn_process.pid,),
            "Celery workers": (worker1.pid, worker2.pid),
            "nginx": (nginx_process.pid,),
        }
        began = time.monotonic()
        ticks = cpu_ticks()
        cpu_before = stack_seconds(groups)
        with LoadSampler() as sampler:
            main_run = locust(
                env, ["Clerk", "NginxReader", "DjangoReader", "Watcher"], users, options.duration
            )
        busy = busy_cores(ticks, cpu_ticks())
        main_seconds = time.monotonic() - began
        cpu_after = stack_seconds(groups)
        cpu = {name: cpu_after[name] - cpu_before[name] for name in cpu_after}
        cpu["PostgreSQL (the database's backends at the end)"] = process_seconds(
            database_backends()
        )
        cpu["locust"] = main_run["cpu_seconds"]
        print(f"loadtest: done after {main_seconds:.0f} s; waiting for the last snapshot")
        result, settle = settled(env, slug)
        print("loadtest: the reference: the same readers on nginx, nothing else", flush=True)
        reference = locust(
            {**env, "LOADTEST_PHASE": "reference"},
            ["NginxReader"],
            options.readers,
            options.reference,
        )

    figures = Figures(
        main=main_run,
        reference=reference,
        recount=result,
        settle_seconds=settle,
        options=vars(options),
        load_before=load_before,
        load_during=sampler.samples,
        busy_cores=busy,
        cpu_seconds=cpu,
        main_seconds=main_seconds,
    )
    lines = report_lines(figures)
    print("\n".join(lines))
    if not options.no_write:
        section_update(
            ROOT / "docs" / "BENCHMARKS.md",
            LOADTEST_SECTION,
            f"make loadtest ({command_line(vars(options))})",
            lines,
        )
        print("loadtest: written to docs/BENCHMARKS.md")
    if result["missing"] or result["votes_differ"]:
        raise SystemExit("loadtest: the recount does not match what is published")


if __name__ == "__main__":
    main()
