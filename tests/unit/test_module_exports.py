"""Every module of the project's packages says what it exports, and says it exactly.

The packages are api, service, models, workers, web, certify and cli, with their subpackages
(only Python modules; the Alembic scripts under models/migrations are not modules one
imports, so they are left out). One test per module, so each stale list is its own
failure.

The rule, for an ordinary module: `__all__` exists, names no name twice, and as a set
equals the module's public definitions. Its public definitions are found by parsing the
module's source with `ast`, not by looking at the imported module, so that a name
imported from elsewhere never counts:

- the names of top-level `def`, `async def` and `class` statements;
- the names bound by top-level assignments (`X = ...`, `X: T = ...`, `X: T`, `A, B = ...`)
  and `type X = ...` aliases (Python 3.12);
- statements nested in top-level `if` / `try` / `with` blocks count as top-level
  (never those inside a function or a class);
- a name is public when it does not start with `_` (so `__all__` and dunders never count);
- the module's logger (`log = logging.getLogger(__name__)`, any name bound to a call of
  `getLogger`) is not an export: loggers are found by their dotted name, not imported.

Imports (`import x`, `from x import y`), even of public names, are not definitions. A
module that wants to re-export something is a package `__init__.py`:

For a package `__init__.py` the rule is looser, because re-exporting is its purpose:
`__all__` exists (an empty list for a package that only holds submodules), names no name
twice, every name in it is an attribute of the imported package (so `from pkg import *`
works), and every public name the `__init__.py` itself defines (by the rule above) is in
it. Submodules imported for their side effect or as namespaces (`from . import changes`)
need not be listed.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

PACKAGES = ("api", "service", "models", "workers", "web", "certify", "cli")
EXCLUDED = ("models/migrations",)
"""Folders of scripts run by tools (Alembic), not modules one imports."""


def _module_files() -> list[Path]:
    files = []
    for package in PACKAGES:
        for path in sorted((REPO_ROOT / package).rglob("*.py")):
            relative = path.relative_to(REPO_ROOT).as_posix()
            if any(relative.startswith(folder + "/") for folder in EXCLUDED):
                continue
            files.append(path)
    return files


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO_ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _bound_names(target: ast.expr) -> list[str]:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [name for element in target.elts for name in _bound_names(element)]
    if isinstance(target, ast.Starred):
        return _bound_names(target.value)
    return []  # attribute or subscript assignments bind no module name


def _is_logger(value: ast.expr) -> bool:
    if not isinstance(value, ast.Call):
        return False
    called = value.func
    return (isinstance(called, ast.Attribute) and called.attr == "getLogger") or (
        isinstance(called, ast.Name) and called.id == "getLogger"
    )


def _top_level(statements: list[ast.stmt]) -> list[str]:
    names: list[str] = []
    for node in statements:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, ast.Assign) and not _is_logger(node.value):
            for target in node.targets:
                names.extend(_bound_names(target))
        elif isinstance(node, ast.AnnAssign):
            names.extend(_bound_names(node.target))
        elif type(node).__name__ == "TypeAlias":  # `type X = ...`, Python 3.12+
            names.extend(_bound_names(node.name))
        elif isinstance(node, ast.If):
            names.extend(_top_level(node.body) + _top_level(node.orelse))
        elif isinstance(node, ast.Try):
            blocks = [node.body, node.orelse, node.finalbody, *(h.body for h in node.handlers)]
            for block in blocks:
                names.extend(_top_level(block))
        elif isinstance(node, ast.With):
            names.extend(_top_level(node.body))
    return names


def public_definitions(source: str) -> set[str]:
    """The public names a module's source defines, by the rule of this file's docstring."""
    return {name for name in _top_level(ast.parse(source).body) if not name.startswith("_")}


MODULES = [pytest.param(path, id=_module_name(path)) for path in _module_files()]


@pytest.mark.parametrize("path", MODULES)
def test_all_names_exactly_the_public_definitions(path: Path) -> None:
    module = importlib.import_module(_module_name(path))
    assert hasattr(module, "__all__"), f"{path.name} has no __all__"
    exported = list(module.__all__)
    assert len(exported) == len(set(exported)), f"__all__ names a name twice: {sorted(exported)}"
    defined = public_definitions(path.read_text(encoding="utf-8"))
    if path.name == "__init__.py":
        missing = sorted(name for name in exported if not hasattr(module, name))
        assert not missing, f"__all__ names what the package does not have: {missing}"
        unlisted = sorted(defined - set(exported))
        assert not unlisted, f"defined here but not in __all__: {unlisted}"
        return
    assert set(exported) == defined, (
        f"not in __all__: {sorted(defined - set(exported))}; "
        f"in __all__ but not defined here: {sorted(set(exported) - defined)}"
    )


def test_the_rule_counts_definitions_and_not_imports() -> None:
    source = '''
from os import path
import sys
from typing import TYPE_CHECKING
if TYPE_CHECKING:
    from collections.abc import Iterator
import logging
log = logging.getLogger(__name__)
LIMIT = 3
"""Documented constant."""
A, (B, *C) = 1, (2, 3)
ANNOTATED: int = 4
_PRIVATE = 5
def function(): LOCAL = 1
async def coroutine(): ...
class Thing:
    ATTRIBUTE = 1
try:
    FAST = True
except ImportError:
    FALLBACK = True
__all__ = ["x"]
'''
    assert public_definitions(source) == {
        "LIMIT", "A", "B", "C", "ANNOTATED", "function", "coroutine", "Thing", "FAST", "FALLBACK",
    }
