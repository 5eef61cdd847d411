"""The layers import only what docs/architecture.md allows them (issue 17): a rule written
into a layer that must not know it fails here, named by file and line. Every import counts,
inside functions too.

What still crosses a boundary is listed in WAITING, each with what it waits for; the list can
only shrink: an entry no longer found fails too, so it is struck when its import goes."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OURS = (
    "domain",
    "edi",
    "workflows",
    "activities",
    "db",
    "services",
    "api",
    "web",
    "app",
    "denials",
)
# What each layer must not import (of ours). `app` assembles the HTTP application (settings,
# shared dependencies, the payload codec, the composition root); `denials` is the command line.
FORBIDDEN: dict[str, set[str]] = {
    "domain": set(OURS) - {"domain"},
    "edi": set(OURS) - {"domain", "edi"},
    "workflows": {"edi", "db", "services", "api", "web", "app", "denials"},
    "db": {"workflows", "activities", "services", "api", "web", "app", "denials"},
    "activities": {"api", "web", "app", "denials"},
    "services": {"api", "web", "app", "denials"},
    # The JSON API and the pages share what they need from app/ (settings, dependencies, the
    # codec) and never each other; only app/http.py, the composition root, mounts both.
    "api": {"web", "denials", "app.http"},
    "web": {"api", "denials", "app.http"},
    "app": {"denials"},
    # Benchmarks share synthetic data and process helpers with the tests through testkit/,
    # never the test suite itself; testkit needs nothing of the tests either.
    "bench": {"tests"},
    "testkit": {"tests", "bench"},
}
# Nothing the product ships imports what only the tests and benchmarks use.
for _layer in OURS:
    FORBIDDEN[_layer] = FORBIDDEN.get(_layer, set()) | {"tests", "testkit", "bench"}
# Crossings left until one HTTP composition module mounts the API and the pages over shared
# dependencies, with the settings out of the command-line package (issue 17, item 4).
WAITING = {
    ("api/main.py", "web"),
    ("api/main.py", "web.error_pages"),
    ("api/main.py", "web.routes"),
    ("api/main.py", "web.session"),
    ("api/main.py", "web.templating"),
    ("api/main.py", "web.wording"),
}


def imports_of(path: Path) -> list[tuple[int, str]]:
    """Every absolute import in the file: (line, module)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def crossings() -> list[tuple[str, int, str]]:
    """(file, line, module) for each import a layer must not make."""
    found = []
    for layer, forbidden in FORBIDDEN.items():
        for path in sorted((ROOT / layer).rglob("*.py")):
            for line, module in imports_of(path):
                if any(module == name or module.startswith(name + ".") for name in forbidden):
                    found.append((path.relative_to(ROOT).as_posix(), line, module))
    return found


def test_no_layer_imports_what_it_must_not() -> None:
    new = [
        f"{file}:{line} imports {module}"
        for file, line, module in crossings()
        if (file, module) not in WAITING
    ]
    assert new == [], "imports across a layer boundary (docs/architecture.md):\n" + "\n".join(new)


def test_the_waiting_list_only_shrinks() -> None:
    still = {(file, module) for file, _, module in crossings()}
    gone = sorted(WAITING - still)
    assert gone == [], f"no longer imported, strike from WAITING: {gone}"


def test_the_scan_sees_imports_inside_functions(tmp_path: Path) -> None:
    module = tmp_path / "late.py"
    module.write_text("def f():\n    from services.cases import CaseService\n")
    assert imports_of(module) == [(2, "services.cases")]
