"""The load test's figures as the lines of docs/BENCHMARKS.md's section."""

from __future__ import annotations

import datetime
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loadtest.machine import machine_description, other_work

LOADTEST_SECTION = "loadtest"


@dataclass
class Figures:
    main: dict[str, Any]
    reference: dict[str, Any]
    recount: dict[str, Any]
    settle_seconds: float
    options: dict[str, Any]
    load_before: tuple[float, float, float]
    # While the load ran: the 1-minute load average sampled every few
    # seconds, the machine's busy cores on average, and the CPU seconds each
    # part of the stack used.
    load_during: list[float]
    busy_cores: float
    cpu_seconds: dict[str, float]
    main_seconds: float


def percentile(values: list[float], share: float) -> float | None:
    """Nearest rank: the smallest value with at least ``share`` of them at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f} ms" if value >= 10 else f"{value:.1f} ms"


def _ratio(value: float | None, reference: float | None) -> str:
    if value is None or not reference:
        return "—"
    return f"{value / reference:.1f}x"


def _met(value: float | None, aim: float) -> str:
    if value is None:
        return "not measured"
    return "met" if value < aim else "not met"


def _loaded(value: float) -> str:
    return f"{value:.2f}"


def command_line(options: dict[str, Any]) -> str:
    return (
        f"python -m loadtest --duration {options['duration']} --clerks {options['clerks']} "
        f"--readers {options['readers']} --django-readers {options['django_readers']} "
        f"--clerk-pace {options['clerk_pace']:g} --reader-pace {options['reader_pace']:g}"
    )


def context_line(figures: Figures) -> str:
    """The machine, and how much of it other work took while the load ran:
    on a shared machine the figures mean little without it."""
    ours = sum(figures.cpu_seconds.values())
    seconds = figures.main_seconds
    parts = ", ".join(f"{name} {value:.0f} s" for name, value in figures.cpu_seconds.items())
    during = figures.load_during or [0.0]
    return (
        f"Machine: {machine_description()}. Load average (1 min) before the run "
        f"{_loaded(figures.load_before[0])}, during the load {_loaded(min(during))} to "
        f"{_loaded(max(during))}; the cores were {figures.busy_cores:.1f} busy on average "
        f"while it ran, the load test's own processes using {ours / seconds:.1f} of them "
        f"(CPU seconds over its {seconds:.0f} s: {parts}); "
        f"{other_work(figures.busy_cores, ours / seconds)}."
    )


def report_lines(figures: Figures) -> list[str]:
    """The section's lines (markers excluded): setting, figures, recount."""
    times, failures = figures.main["times"], figures.main["failures"]
    clerk = times.get("clerk submit", [])
    nginx = times.get("reader nginx", [])
    django = times.get("reader django", [])
    reference = figures.reference["times"].get("reference nginx", [])
    fresh = [seconds * 1000 for seconds in figures.main["freshness"].values()]
    ref50, ref99 = percentile(reference, 0.5), percentile(reference, 0.99)
    options = figures.options
    recount = figures.recount
    errors = {name: len(items) for name, items in failures.items() if items}
    for name, items in figures.reference["failures"].items():
        if items:
            errors[name] = len(items)
    error_total = sum(errors.values())
    nginx99, django99 = percentile(nginx, 0.99), percentile(django, 0.99)
    complete = not recount["missing"] and not recount["votes_differ"]
    return [
        "## The load test (issue 15): `make loadtest`",
        "",
        f"Command: `make loadtest` (`{command_line(options)}`). "
        f"Date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC. " + context_line(figures),
        "",
        f"Stack, all on this machine: gunicorn ({options['gunicorn_workers']} sync workers) "
        "behind nginx (2 workers, docker/nginx/commission.conf.template), two Celery workers "
        "(concurrency 1 each), PostgreSQL (database `loadtest`), Redis (db 5), DEBUG off; "
        "locust on the same cores. The Belgrade demo election (1,180 stations, 14 lists). "
        f"{options['clerks'] // 2 * 2} clerks in pairs, each pair typing its own run of "
        "stations, both clerks each record (double entry), through nginx to the entry API "
        "with tokens from `manage.py issue_token`, "
        f"one submission every {options['clerk_pace']:g} s per clerk; "
        f"{options['readers']} readers polling the results document every "
        f"{options['reader_pace']:g} s (as the results page does) with the ETag they hold, "
        f"{options['readers'] - options['django_readers']} through nginx "
        f"(the published file) and {options['django_readers']} straight to gunicorn "
        "(each from its own address, so the public read limit of 600 a minute per "
        "client applies as to real readers); a watcher reading each new version's "
        f"stations.json through nginx. {options['duration']} s of load, latencies "
        "counted once every user had started; the clerks stop 15 s before the end. "
        f"The reference: the same {options['readers']} readers through nginx for "
        f"{options['reference']} s right after, the stack idle.",
        "",
        "| figure | measured | aim | ratio to the reference |",
        "| --- | --- | --- | --- |",
        f"| clerk submit p50 / p95 ({len(clerk)} submissions) | {_ms(percentile(clerk, 0.5))} / "
        f"{_ms(percentile(clerk, 0.95))} | p95 < 300 ms: "
        f"{_met(percentile(clerk, 0.95), 300)} | "
        f"{_ratio(percentile(clerk, 0.5), ref50)} / {_ratio(percentile(clerk, 0.95), ref99)} "
        "(to p50 / p99) |",
        f"| reader p50 / p99, nginx path ({len(nginx)} requests) | {_ms(percentile(nginx, 0.5))} / "
        f"{_ms(nginx99)} | p99 < 50 ms: {_met(nginx99, 50)} | "
        f"{_ratio(percentile(nginx, 0.5), ref50)} / {_ratio(nginx99, ref99)} |",
        f"| reader p50 / p99, Django path ({len(django)} requests) | "
        f"{_ms(percentile(django, 0.5))} / {_ms(django99)} | | "
        f"{_ratio(percentile(django, 0.5), ref50)} / {_ratio(django99, ref99)} |",
        f"| reference: nginx serving the published file, stack idle ({len(reference)} "
        f"requests) | {_ms(ref50)} / {_ms(ref99)} | | 1 |",
        f"| freshness p50 / p95 ({len(fresh)} records; accepted -> in the public JSON) | "
        f"{_ms(percentile(fresh, 0.5))} / {_ms(percentile(fresh, 0.95))} | p95 < 2 s: "
        f"{_met(percentile(fresh, 0.95), 2000)} | |",
        f"| errors | {error_total} {errors or ''} | 0: {_met(error_total, 1)} | |",
        f"| records missing in the recount | {len(recount['missing'])} of "
        f"{recount['accepted_in_database']} accepted | 0: "
        f"{'met' if complete else 'not met'} | |",
        "",
        f"Recount (SQL GROUP BY over the accepted records against the published results.json "
        f"and stations.json, version {recount['version']}): "
        f"{recount['accepted_in_database']} records counted and "
        f"{recount['held_in_database']} held in the database, "
        f"{recount['counted_published']} counted in the published files, "
        f"{recount['votes_counted']} votes; lists whose votes differ: "
        f"{recount['votes_differ'] or 'none'}. "
        f"The clerks saw {figures.main['accepted']} records accepted; "
        f"{len(figures.main['not_shown'])} of them were not yet shown when the load stopped; "
        f"the last snapshot was out {figures.settle_seconds:.0f} s after the load stopped.",
    ]


def section_update(path: Path, key: str, command: str, lines: list[str]) -> None:
    """Put ``lines`` in ``path`` between the markers of section ``key``:
    in place of that section when it is there, else at the end. The rest of
    the file stays as it is (the figures written by hand, other sections)."""
    begin = f"<!-- {key}:begin (written by `{command}`; a run replaces it) -->"
    end = f"<!-- {key}:end -->"
    section = "\n".join([begin, *lines, end])
    text = path.read_text(encoding="utf-8")
    pattern = re.compile(
        re.escape(f"<!-- {key}:begin") + r"[^\n]*\n.*?" + re.escape(end), re.DOTALL
    )
    if pattern.search(text):
        text = pattern.sub(lambda _: section, text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text, encoding="utf-8")
