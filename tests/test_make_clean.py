"""`make clean` removes everything `make run`, `make test` and `make bench` leave in the checkout
(issue 16, item 5): whatever .gitignore lists as theirs, anywhere in the tree, and nothing else.
Run on a copy of the Makefile in a folder made to look like a used checkout."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Ignored, but the user's: settings, and the deployment's secrets (deploy/new-secrets.sh).
USERS_OWN = {".env", "secrets"}


def ignored_entries() -> list[str]:
    lines = (ROOT / ".gitignore").read_text().splitlines()
    return [line.strip("/") for line in lines if line and not line.startswith("#")]


def test_make_clean_removes_what_the_targets_made_and_keeps_the_rest(tmp_path: Path) -> None:
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    made = []
    for entry in ignored_entries():
        if entry in USERS_OWN:
            continue
        name = entry.replace("*", "denials")  # *.egg-info: pip install -e's metadata
        for parent in (tmp_path, tmp_path / "domain", tmp_path / "tests" / "web"):
            if entry != "__pycache__" and parent != tmp_path:
                continue  # the others are made at the top only
            path = parent / name
            path.mkdir(parents=True)
            (path / "leftover").write_text("made by a make target\n")
            made.append(path)
    kept = [
        tmp_path / ".env",
        tmp_path / "domain" / "case.py",
        tmp_path / "tests" / "web" / "test_browser.py",
        tmp_path / ".git" / "hooks" / "__pycache__" / "mine",  # git's own folder: not touched
        tmp_path / "docs" / "build.md",
    ]
    for path in kept:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("keep\n")

    result = subprocess.run(
        ["make", "clean"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert [path for path in made if path.exists()] == []
    assert [path for path in kept if not path.exists()] == []
    assert {entry for entry in ignored_entries()} >= {".venv", ".data", "test-artifacts"}
