"""DESIGN.md's dependency rule: events/ and models/ know nothing of server/ or each other."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {"events": {"server", "models"}, "models": {"server", "events"}}


def imported_packages(tree: ast.AST) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name.split(".")[0]) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module.split(".")[0]))
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_nothing_it_must_not(package: str) -> None:
    offences = []
    for path in sorted((ROOT / package).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for line, name in imported_packages(tree):
            if name in FORBIDDEN[package]:
                offences.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    assert not offences, "layering broken:\n" + "\n".join(offences)


def test_the_checker_sees_an_offence() -> None:
    tree = ast.parse("import os\nfrom server.app import create_app\n")
    assert (2, "server") in imported_packages(tree)
