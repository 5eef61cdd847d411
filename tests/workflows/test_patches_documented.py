"""Every workflow.patched id the code asks for is in docs/patches.md, which says what it guards
and how it is retired."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PATCH_CALLS = {"patched", "deprecate_patch"}


def patch_ids_in_code() -> dict[str, str]:
    """Patch id -> the module asking for it, from every workflow.patched / deprecate_patch
    call in the workflow code and its interceptors (ids are module constants)."""
    found: dict[str, str] = {}
    for folder in ("workflows", "denials"):
        for path in sorted((ROOT / folder).glob("*.py")):
            module_name = f"{folder}.{path.stem}"
            for node in ast.walk(ast.parse(path.read_text())):
                if not (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr in PATCH_CALLS
                ):
                    continue
                (arg,) = node.args
                assert isinstance(arg, ast.Name), f"{module_name}: patch ids are named constants"
                patch_id = getattr(importlib.import_module(module_name), arg.id)
                found[patch_id] = module_name
    return found


def test_every_patch_in_the_code_has_its_retirement_plan() -> None:
    found = patch_ids_in_code()
    assert {"bounded-run", "local-activities", "sealed-messages"} <= set(found)
    doc = (ROOT / "docs" / "patches.md").read_text()
    undocumented = {pid: where for pid, where in found.items() if f"| `{pid}` |" not in doc}
    assert not undocumented, f"add to docs/patches.md: {undocumented}"
