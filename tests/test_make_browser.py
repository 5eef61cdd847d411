"""`make test` gets the browser tests their Chromium or says what to do (issue 16, item 2):
never a silent skip. Run on a copy of the Makefile's `browser` target with a PATH made for each
case: fake `apt-get`, `sudo` and `id` record what they were asked and stand for the system."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAKE = shutil.which("make")


def fake(bin_dir: Path, name: str, body: str) -> None:
    path = bin_dir / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    (tmp_path / "bin").mkdir()
    return tmp_path


def make_browser(checkout: Path, uid: int, **env: str) -> subprocess.CompletedProcess[str]:
    fake(checkout / "bin", "id", f"echo {uid}")
    assert MAKE is not None
    return subprocess.run(
        [MAKE, "--no-print-directory", "browser"],
        cwd=checkout,
        env={"PATH": str(checkout / "bin"), "HOME": str(checkout), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_browser_in_place_installs_nothing(checkout: Path) -> None:
    browser = checkout / "chrome"
    fake(checkout, "chrome", "exit 0")
    fake(checkout / "bin", "apt-get", f"echo apt-get >> {checkout}/calls")
    result = make_browser(checkout, 1000, DENIALS_TEST_CHROMIUM=str(browser))
    assert result.returncode == 0, result.stderr
    assert not (checkout / "calls").exists()


def test_a_wrong_browser_path_is_named(checkout: Path) -> None:
    result = make_browser(checkout, 0, DENIALS_TEST_CHROMIUM="/nowhere/chromium")
    assert result.returncode != 0
    assert "DENIALS_TEST_CHROMIUM=/nowhere/chromium is not an executable browser" in result.stderr


def _default_missing(checkout: Path) -> None:
    """The copy's default browser path points at nothing (this machine has Chromium)."""
    makefile = checkout / "Makefile"
    makefile.write_text(makefile.read_text().replace(",/usr/bin/chromium)", ",/nowhere/chromium)"))


def test_without_apt_get_it_says_what_to_install_and_set(checkout: Path) -> None:
    _default_missing(checkout)
    result = make_browser(checkout, 1000)
    assert result.returncode != 0
    assert "no apt-get to install it" in result.stderr
    assert "set DENIALS_TEST_CHROMIUM to its path" in result.stderr


def test_debian_without_root_or_sudo_says_it_needs_root(checkout: Path) -> None:
    _default_missing(checkout)
    fake(checkout / "bin", "apt-get", f"echo apt-get >> {checkout}/calls")
    result = make_browser(checkout, 1000)
    assert result.returncode != 0
    assert "needs root" in result.stderr
    assert not (checkout / "calls").exists()


def test_debian_installs_chromium_through_sudo(checkout: Path) -> None:
    _default_missing(checkout)
    fake(checkout / "bin", "sudo", f'echo "sudo $*" >> {checkout}/calls')
    fake(checkout / "bin", "apt-get", "exit 0")
    result = make_browser(checkout, 1000)
    assert result.returncode == 0, result.stderr
    assert "Installing Debian's chromium package" in result.stdout
    calls = (checkout / "calls").read_text().splitlines()
    assert calls == [
        "sudo apt-get update -qq",
        "sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium",
    ]


def test_debian_as_root_installs_chromium_without_sudo(checkout: Path) -> None:
    _default_missing(checkout)
    fake(checkout / "bin", "apt-get", f'echo "apt-get $*" >> {checkout}/calls')
    fake(checkout / "bin", "env", 'shift; "$@"')  # env VAR=value cmd...: run cmd
    result = make_browser(checkout, 0)
    assert result.returncode == 0, result.stderr
    assert (checkout / "calls").read_text().splitlines() == [
        "apt-get update -qq",
        "apt-get install -y -qq chromium",
    ]
