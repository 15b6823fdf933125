"""What the code imports is declared in pyproject.toml, and the lock files pin what pyproject.toml asks for."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
RUNTIME = [Requirement(line) for line in PYPROJECT["dependencies"]]
DEV = [Requirement(line) for line in PYPROJECT["optional-dependencies"]["dev"]]
PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^\s;\\]+)", re.MULTILINE)


def pinned(lock: str) -> dict[str, str]:
    text = (ROOT / "requirements" / lock).read_text()
    return {canonicalize_name(name): version for name, version in PIN.findall(text)}


def declared(requirements: list[Requirement]) -> set[str]:
    """The packages asked for by name, and those an extra we ask for brings (litestar[standard] brings Jinja2)."""
    names: set[str] = set()
    for requirement in requirements:
        names.add(canonicalize_name(requirement.name))
        for extra in requirement.extras:
            for line in importlib.metadata.requires(requirement.name) or []:
                brought = Requirement(line)
                if brought.marker and brought.marker.evaluate({"extra": extra}):
                    names.add(canonicalize_name(brought.name))
    return names


def imported_modules(folder: str, *, when_running: bool = True) -> set[str]:
    """The top-level modules the folder's code imports: those it imports when it runs (`when_running`), or those
    only the type checker reads (under `if TYPE_CHECKING:`)."""
    modules: set[str] = set()
    for path in (ROOT / folder).rglob("*.py"):
        for node, for_types in _imports(ast.parse(path.read_text(), filename=str(path)), for_types=False):
            if for_types != when_running:
                if isinstance(node, ast.Import):
                    modules.update(alias.name.split(".")[0] for alias in node.names)
                elif node.module and node.level == 0:
                    modules.add(node.module.split(".")[0])
    return modules


def _imports(node: ast.AST, *, for_types: bool) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
    if isinstance(node, ast.Import | ast.ImportFrom):
        yield node, for_types
    checked = node.body if isinstance(node, ast.If) and ast.unparse(node.test).endswith("TYPE_CHECKING") else []
    for child in ast.iter_child_nodes(node):
        yield from _imports(child, for_types=for_types or child in checked)


def third_party_distributions(folders: list[str], *, when_running: bool = True) -> set[str]:
    local = {path.stem for folder in ("backend", "web", "tests", "bench") for path in (ROOT / folder).iterdir()}
    local |= {"backend", "web", "tests", "bench"}
    owners = importlib.metadata.packages_distributions()
    modules = set().union(*(imported_modules(folder, when_running=when_running) for folder in folders))
    third_party = modules - set(sys.stdlib_module_names) - local - {"__future__"}
    return {canonicalize_name(owners[module][0]) for module in third_party}


def test_every_package_the_application_imports_is_a_runtime_dependency():
    assert third_party_distributions(["backend", "web", "migrations"]) - declared(RUNTIME) == set()


def test_what_the_application_imports_for_its_type_checks_only_is_a_development_dependency():
    assert (
        third_party_distributions(["backend", "web", "migrations"], when_running=False) - declared(RUNTIME + DEV)
        == set()
    )


def test_every_package_the_tests_and_benchmarks_import_is_declared():
    folders = ["tests", "bench"]
    used = third_party_distributions(folders) | third_party_distributions(folders, when_running=False)
    assert used - declared(RUNTIME + DEV) == set()


@pytest.mark.parametrize(("lock", "requirements"), [("app.lock", RUNTIME), ("dev.lock", RUNTIME + DEV)])
def test_the_lock_files_pin_what_pyproject_asks_for(lock, requirements):
    versions = pinned(lock)
    for requirement in requirements:
        name = canonicalize_name(requirement.name)
        assert name in versions, f"{name} is missing from {lock}: run `make lock`"
        assert requirement.specifier.contains(versions[name], prereleases=True), (
            f"{lock} pins {name}=={versions[name]}, outside {requirement.specifier}: run `make lock`"
        )


def test_the_runtime_lock_leaves_out_the_test_tools():
    assert {"pytest", "playwright", "schemathesis"} & set(pinned("app.lock")) == set()
