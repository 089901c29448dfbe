"""Tasks call services, never the other way round: the service knows the
task by its name only (services/tabulation.py, ``TABULATE_TASK``)."""

import ast
from pathlib import Path

SERVICES = Path(__file__).resolve().parents[2] / "tabulation" / "services"


def imported_modules(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
    return modules


def test_no_service_imports_the_tasks() -> None:
    importing = [
        path.name
        for path in sorted(SERVICES.glob("*.py"))
        if "tabulation.tasks" in imported_modules(path)
    ]
    assert importing == []


def test_the_task_is_registered_under_the_name_the_service_sends() -> None:
    from tabulation.services.tabulation import TABULATE_TASK
    from tabulation.tasks import tabulate

    assert tabulate.name == TABULATE_TASK == "tabulation.tabulate"
