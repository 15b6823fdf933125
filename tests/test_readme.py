"""The README a newcomer follows: the files it names are in this repository, and its commands work as written."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.conftest import ROOT

README = (ROOT / "README.md").read_text()
# Where a path the README gives without its folder is read from (it names `orders/placement.py` inside backend/).
SOURCE_ROOTS = (ROOT, ROOT / "backend", ROOT / "web", ROOT / "tests")
# What the tests write when they run: not in a fresh checkout, said so where the README names it.
WRITTEN_BY_TESTS = ("test-artifacts/", "var/")


def _named_paths() -> list[str]:
    """Backticked names and link targets that look like files or folders (not URLs, not the app's routes)."""
    names = []
    for match in re.finditer(r"`([^`\s]+)`|\]\(([^)\s]+)\)", README):
        name = match.group(1) or match.group(2)
        if name.startswith(("/", "http", "$", "-", "…")) or "://" in name or "{" in name:
            continue
        if re.search(r"\.[a-z]{2,12}$|/$", name) and ("/" in name or name.endswith(".md")):
            names.append(name.split("#")[0])
    return names


def test_the_readme_points_to_no_file_outside_the_repository():
    names = _named_paths()
    assert names, "the README names files of the repository"
    outside = [name for name in names if name.startswith("..") or "/../" in name]
    missing = [
        name
        for name in names
        if not name.startswith(WRITTEN_BY_TESTS)
        and not any((root / name).exists() for root in SOURCE_ROOTS)
        and not (name.endswith(".md") and any(ROOT.rglob(name)))
    ]
    assert outside == [] and missing == [], f"outside the repository: {outside}; not in it: {missing}"
    assert "../" not in README and "shared folder" not in README


def test_the_readme_says_how_to_serve_on_another_port_with_a_command_that_takes_it():
    commands = re.findall(r"^.*-m backend serve.*--port (\d+).*$", README, re.M)
    assert commands, "the README gives a serve command with --port"
    assert re.search(r"make run PORT=\d+", README), "and says how `make run` takes another port"

    usage = subprocess.run(
        [sys.executable, "-m", "backend", "serve", "--help"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert "--port" in usage and "--host" in usage
    makefile = (ROOT / "Makefile").read_text()
    assert "--port $(PORT)" in makefile
