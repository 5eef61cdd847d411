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
# Crossings allowed for now, each with what it waits for (none left since app/ took the
# settings, the shared dependencies and the composition root: issue 17, item 4).
WAITING: set[tuple[str, str]] = set()


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


# What a route may take from the SQL libraries: the session's type and the errors, never a query.
QUERY_BUILDERS = {
    "select",
    "col",
    "func",
    "text",
    "defer",
    "update",
    "delete",
    "insert",
    "and_",
    "or_",
}
SESSION_CALLS = {"exec", "execute", "get", "scalar", "scalars", "query"}


def own_sql(path: Path) -> list[tuple[int, str]]:
    """Where a module builds or runs a query itself: (line, what)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in (
            "sqlmodel",
            "sqlalchemy",
        ):
            found += [
                (node.lineno, f"imports {alias.name} from {node.module}")
                for alias in node.names
                if alias.name in QUERY_BUILDERS
            ]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in SESSION_CALLS
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "session"
        ):
            found.append((node.lineno, f"calls session.{node.func.attr}"))
    return found


def test_no_route_or_page_runs_its_own_sql() -> None:
    """The JSON API and the pages read and write through services (and the read model's
    queries in db/), so a query and its audit live in one place."""
    found = [
        f"{path.relative_to(ROOT).as_posix()}:{line} {what}"
        for layer in ("api", "web", "app")
        for path in sorted((ROOT / layer).rglob("*.py"))
        for line, what in own_sql(path)
    ]
    assert found == [], "SQL outside services/ and db/:\n" + "\n".join(found)
