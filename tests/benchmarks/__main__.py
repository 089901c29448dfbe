"""`make bench`: run every benchmark module (bench_*.py) in this folder.

Benchmarks print figures; they assert nothing about time. Record what they
print, with the command, in docs/BENCHMARKS.md.
"""

import importlib
import os
import pkgutil
import platform
import sys

import django


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commission.settings")
    django.setup()
    print(f"# {platform.node()} · {os.cpu_count()} cores · Python {platform.python_version()}")
    wanted = set(sys.argv[1:])
    package = sys.modules[__package__ or "tests.benchmarks"]
    for module in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if not module.name.startswith("bench_"):
            continue
        if wanted and module.name not in wanted:
            continue
        print(f"\n## {module.name}")
        importlib.import_module(f"{package.__name__}.{module.name}").main()


if __name__ == "__main__":
    main()
