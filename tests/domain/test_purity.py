"""The domain is pure Python: no Django, DRF, Celery or Redis import anywhere in it."""

import ast
from pathlib import Path

import pytest

DOMAIN = Path(__file__).resolve().parents[2] / "tabulation" / "domain"
FORBIDDEN = {"django", "rest_framework", "celery", "redis", "kombu"}


def imported_roots(source: str) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_the_scan_sees_imports_of_every_form() -> None:
    source = "import django.db\nfrom celery import shared_task\nimport os, redis as r\n"
    assert imported_roots(source) == {"django", "celery", "os", "redis"}


@pytest.mark.parametrize("path", sorted(DOMAIN.rglob("*.py")), ids=lambda path: path.name)
def test_domain_module_imports_no_framework(path: Path) -> None:
    forbidden = imported_roots(path.read_text(encoding="utf-8")) & FORBIDDEN
    assert not forbidden, f"{path.name} imports {sorted(forbidden)}"


def test_the_domain_has_modules_to_scan() -> None:
    assert len(list(DOMAIN.rglob("*.py"))) >= 8
