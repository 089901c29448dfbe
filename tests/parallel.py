"""Each pytest-xdist worker gets a Redis database and a VAR_DIR of its own.

Loaded with ``-p tests.parallel`` (pyproject.toml), so that it runs before
pytest-django reads the settings. pytest-django already gives each worker
its own test database. Redis and the files under VAR_DIR would otherwise be
shared: one worker's ``cache.clear()`` (a FLUSHDB) would empty the other's
cache and broker queues, and both would publish into one folder. Worker
processes that a test starts inherit the environment, so they use the same
Redis database and folder as that test.
"""

import os
from pathlib import Path

WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")  # "gw0", "gw1"... under xdist


def _worker_redis(url: str, number: int) -> str:
    """``url`` with database 1 + ``number`` (database 0 stays the serial run's)."""
    base, _, database = url.rstrip("/").rpartition("/")
    if not database.isdigit():  # no database in the URL
        base = url.rstrip("/")
    return f"{base}/{1 + number}"


if WORKER.startswith("gw"):
    number = int(WORKER[2:])
    if os.environ.get("REDIS_URL"):
        os.environ["REDIS_URL"] = _worker_redis(os.environ["REDIS_URL"], number)
    var_dir = Path(os.environ.get("VAR_DIR", Path(__file__).resolve().parent.parent / "var"))
    os.environ["VAR_DIR"] = str(var_dir / f"xdist-{WORKER}")
