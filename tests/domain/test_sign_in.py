"""Sign-in rules: when failures lock an account or address out and for how long, and which
passwords may not be set (domain.sign_in)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.sign_in import ThrottleRule, password_problem, retry_after, throttled_address

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
RULE = ThrottleRule(account_limit=5, address_limit=20, window=timedelta(minutes=15))


def ago(*seconds: int) -> list[datetime]:
    return [NOW - timedelta(seconds=s) for s in seconds]


def test_fewer_failures_than_the_limit_do_not_lock() -> None:
    assert retry_after(ago(50, 40, 30, 20), 5, RULE, NOW) == 0


def test_the_limit_locks_for_the_lockout_from_the_last_failure() -> None:
    """Five failures, the last 10 s ago: 15 minutes less those 10 s to wait."""
    assert retry_after(ago(50, 40, 30, 20, 10), 5, RULE, NOW) == 15 * 60 - 10


def test_failures_older_than_the_window_do_not_count() -> None:
    assert retry_after(ago(16 * 60, 40, 30, 20, 10), 5, RULE, NOW) == 0


def test_the_lockout_ends() -> None:
    short = ThrottleRule(window=timedelta(minutes=15), lockout=timedelta(minutes=5))
    assert retry_after(ago(400, 350, 330, 320, 301), 5, short, NOW) == 0
    assert retry_after(ago(400, 350, 330, 320, 299), 5, short, NOW) == 1


def test_a_lockout_lasts_its_length_from_the_failure_that_started_it() -> None:
    """Failures spread over four minutes: the lock runs 15 minutes from the fifth, even once
    the first has left the window; with a lockout longer than the window, it runs its length."""
    spread = [NOW + timedelta(minutes=minute) for minute in range(5)]  # 12:00 .. 12:04
    at_12_15 = NOW + timedelta(minutes=15, seconds=1)
    assert retry_after(spread, 5, RULE, at_12_15) == 4 * 60 - 1  # until 12:19
    long = ThrottleRule(window=timedelta(minutes=5), lockout=timedelta(minutes=60))
    an_hour_on = NOW + timedelta(minutes=30)
    assert retry_after(spread, 5, long, an_hour_on) == 34 * 60  # until 13:04


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("x" * 11, "use at least 12 characters"),
        ("x" * 201, "use at most 200 characters"),
        ("password1234", "common password from breach lists"),
        ("qwertyuiop123", "common password from breach lists"),
        ("P@ssw0rd1234", "common password from breach lists"),
        ("abcdefghijkl", 'Sequences like "abc"'),
        ("aaaaaaaaaaaa", 'Repeats like "aaa"'),
    ],
)
def test_weak_passwords_are_refused_saying_why(password: str, problem: str) -> None:
    found = password_problem(password)
    assert found is not None and problem in found


def test_the_users_own_id_and_name_count_as_guessable() -> None:
    assert password_problem("zqkfmbrwtplx1") is None
    assert password_problem("zqkfmbrwtplx1", ["zqkfmbrwtplx", "Zq Kf"]) == (
        "this password is built from the user id or name: "
        "choose a longer passphrase of uncommon words"
    )


@pytest.mark.parametrize(
    "password", ["correct horse battery", "jT9#kq2!vLz0w", "jT9#kq2!vLz0w" + "é" * 187]
)
def test_strong_passwords_are_allowed(password: str) -> None:
    assert password_problem(password) is None


@pytest.mark.parametrize(
    ("client_ip", "counted_as"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),  # same host, new address
        ("2001:db8:1:3::1", "2001:db8:1:3::/64"),
        ("::ffff:203.0.113.7", "203.0.113.7"),  # IPv4 seen through an IPv6 socket
        ("testclient", "testclient"),
    ],
)
def test_failures_count_against_an_ipv6_clients_whole_64(client_ip: str, counted_as: str) -> None:
    assert throttled_address(client_ip) == counted_as
