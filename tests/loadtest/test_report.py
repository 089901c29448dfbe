"""The load test's pure parts (loadtest/report.py, loadtest/machine.py): the
percentiles it reports, the lines it writes and how it writes them into
docs/BENCHMARKS.md. Nothing here runs the load or times anything."""

from pathlib import Path

from loadtest.machine import busy_cores, other_work
from loadtest.report import Figures, percentile, report_lines, section_update


def test_a_percentile_is_the_nearest_rank():
    values = [float(value) for value in range(100, 0, -1)]  # 100 .. 1, unsorted

    assert percentile(values, 0.5) == 50.0
    assert percentile(values, 0.95) == 95.0
    assert percentile(values, 0.99) == 99.0
    assert percentile(values, 1.0) == 100.0
    assert percentile([7.0, 3.0, 5.0], 0.5) == 5.0
    assert percentile([4.0], 0.99) == 4.0


def test_no_values_have_no_percentile():
    assert percentile([], 0.5) is None


def test_a_section_replaces_its_own_lines_and_keeps_the_rest(tmp_path: Path):
    benchmarks = tmp_path / "BENCHMARKS.md"
    benchmarks.write_text(
        "# Benchmarks\n\nWritten by hand.\n\n"
        "<!-- loadtest:begin (written by `make loadtest (old)`; a run replaces it) -->\n"
        "old figures\n"
        "<!-- loadtest:end -->\n\n"
        "<!-- bench:bench_domain:begin (written by `make bench`; a run replaces it) -->\n"
        "domain figures\n"
        "<!-- bench:bench_domain:end -->\n\n"
        "The end, by hand.\n"
    )

    section_update(benchmarks, "loadtest", "make loadtest", ["new figures", "second line"])
    text = benchmarks.read_text()

    assert "old figures" not in text
    assert (
        "<!-- loadtest:begin (written by `make loadtest`; a run replaces it) -->\n"
        "new figures\nsecond line\n<!-- loadtest:end -->"
    ) in text
    assert text.startswith("# Benchmarks\n\nWritten by hand.\n\n<!-- loadtest:begin")
    assert "domain figures\n<!-- bench:bench_domain:end -->\n\nThe end, by hand.\n" in text
    assert text.count("loadtest:begin") == 1


def test_a_section_not_there_yet_is_added_at_the_end_once(tmp_path: Path):
    benchmarks = tmp_path / "BENCHMARKS.md"
    benchmarks.write_text("# Benchmarks\n\nBy hand.\n\n\n")

    section_update(benchmarks, "bench:bench_public", "make bench", ["first"])
    section_update(benchmarks, "bench:bench_public", "make bench", ["second"])
    text = benchmarks.read_text()

    assert text == (
        "# Benchmarks\n\nBy hand.\n\n"
        "<!-- bench:bench_public:begin (written by `make bench`; a run replaces it) -->\n"
        "second\n<!-- bench:bench_public:end -->\n"
    )


def _figures(**changes) -> Figures:
    values = {
        "main": {
            "times": {
                "clerk submit": [100.0] * 94 + [400.0] * 6,
                "reader nginx": [4.0] * 99 + [40.0],
                "reader django": [20.0] * 98 + [200.0] * 2,
            },
            "failures": {"reader django": ["429"], "watcher": []},
            "accepted": 120,
            "freshness": {f"{number:04d}": 0.5 for number in range(120)},
            "not_shown": [],
        },
        "reference": {"times": {"reference nginx": [2.0] * 98 + [10.0] * 2}, "failures": {}},
        "recount": {
            "version": 42,
            "accepted_in_database": 120,
            "held_in_database": 1,
            "counted_published": 120,
            "missing": [],
            "votes_differ": {},
            "votes_counted": 98765,
        },
        "settle_seconds": 1.0,
        "options": {
            "duration": 120,
            "reference": 15,
            "clerks": 50,
            "readers": 500,
            "django_readers": 50,
            "gunicorn_workers": 3,
            "clerk_pace": 10.0,
            "reader_pace": 5.0,
        },
        "load_before": (0.5, 0.4, 0.3),
        "load_during": [1.5, 2.5],
        "busy_cores": 1.9,
        "cpu_seconds": {"gunicorn": 60.0, "locust": 30.0},
        "main_seconds": 120.0,
    }
    values.update(changes)
    return Figures(**values)


def _row(lines: list[str], start: str) -> str:
    return next(line for line in lines if line.startswith(start))


def test_the_report_gives_each_figure_its_ratio_to_the_nginx_reference():
    lines = report_lines(_figures())

    assert _row(lines, "| reader p50 / p99, nginx path") == (
        "| reader p50 / p99, nginx path (100 requests) | 4.0 ms / 4.0 ms | p99 < 50 ms: met "
        "| 2.0x / 0.4x |"
    )
    assert _row(lines, "| reader p50 / p99, Django path") == (
        "| reader p50 / p99, Django path (100 requests) | 20 ms / 200 ms | | 10.0x / 20.0x |"
    )
    assert "| 100 ms / 400 ms | p95 < 300 ms: not met |" in _row(lines, "| clerk submit")
    assert "| 500 ms / 500 ms | p95 < 2 s: met |" in _row(lines, "| freshness")
    assert _row(lines, "| errors") == "| errors | 1 {'reader django': 1} | 0: not met | |"
    assert "| 0 of 120 accepted | 0: met |" in _row(lines, "| records missing")


def test_the_report_says_the_command_and_the_load_the_machine_was_under():
    lines = report_lines(_figures())
    text = "\n".join(lines)

    assert (
        "`python -m loadtest --duration 120 --clerks 50 --readers 500 --django-readers 50 "
        "--clerk-pace 10 --reader-pace 5`"
    ) in text
    assert "Load average (1 min) before the run 0.50, during the load 1.50 to 2.50" in text
    # 90 CPU seconds over 120 s are 0.75 cores of the 1.9 busy: 1.15 were others'.
    assert "other work on the machine (other engineers' test runs) kept about 1.1 cores" in text


def test_a_record_missing_from_the_published_result_is_not_met():
    recount = {
        **_figures().recount,
        "missing": ["01-001"],
        "votes_differ": {3: [1000, 900]},
    }
    lines = report_lines(_figures(recount=recount))

    assert "| 1 of 120 accepted | 0: not met |" in _row(lines, "| records missing")
    assert "lists whose votes differ: {3: [1000, 900]}" in lines[-1]


def test_the_cores_busy_between_two_readings():
    # 300 of 1,000 ticks busy on every core: 0.3 of each core.
    import os

    assert busy_cores((100, 1000), (400, 2000)) == 0.3 * (os.cpu_count() or 1)
    assert busy_cores((5, 10), (5, 10)) == 0.0


def test_other_work_is_named_only_when_it_took_a_fifth_of_a_core():
    assert other_work(1.0, 0.9) == "nothing else of note ran on the machine"
    assert other_work(1.5, 0.5).startswith("other work on the machine")
    assert "about 1.0 cores busy besides" in other_work(1.5, 0.5)
