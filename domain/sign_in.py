"""Sign-in rules: how many failed attempts lock an account or a client address out, for how
long, and which passwords are too weak to set.

Weak passwords are judged by zxcvbn (a maintained port of Dropbox's estimator), which ships its
dictionaries offline: the most common passwords of public breach corpora, plus common words
and names. Nothing is looked up over the network.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 200
# zxcvbn's scale: 3 is "safely unguessable" against an online attack of ~10^8 guesses;
# anything below it is a common or breached password, a word plus digits, a keyboard walk...
_MIN_STRENGTH = 3
# zxcvbn refuses longer input (its time grows fast with the length); a password whose first
# 72 characters are hard to guess is not made easier by what follows.
_JUDGED_LENGTH = 72
_ADVICE = "choose a longer passphrase of uncommon words"


@dataclass(frozen=True)
class ThrottleRule:
    """After `account_limit` failures for one user id, or `address_limit` from one client
    address, within `window`, sign-in is refused for `lockout` (even with the right password)."""

    account_limit: int = 5
    address_limit: int = 20
    window: timedelta = timedelta(minutes=15)
    lockout: timedelta = timedelta(minutes=15)


def retry_after(failures: Sequence[datetime], limit: int, rule: ThrottleRule, now: datetime) -> int:
    """Seconds until signing in is allowed again (0: allowed now), given the failures counted
    against one account or one address. A lockout starts at the failure that brings `limit` of
    them within one window and lasts `lockout` from there, whatever the window; refusals
    while locked out are not failures, so hammering a lock does not extend it."""
    ordered = sorted(at for at in failures if at > now - lookback(rule))
    locked_at = None
    for index in range(limit - 1, len(ordered)):
        if ordered[index] - ordered[index - limit + 1] <= rule.window:
            locked_at = ordered[index]
    if locked_at is None:
        return 0
    return max(0, math.ceil((locked_at + rule.lockout - now).total_seconds()))


def throttled_address(client_ip: str) -> str:
    """The address failures are counted against: an IPv6 client is one /64 network (a host is
    given a whole /64 and may pick any address in it at will); IPv4 as it is."""
    try:
        address = ipaddress.ip_address(client_ip)
    except ValueError:
        return client_ip  # no address known (a test client, a unix socket): counted as given
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def lookback(rule: ThrottleRule) -> timedelta:
    """How far back failures matter: a window's worth before the lockout that may still run."""
    return rule.window + rule.lockout


def password_problem(password: str, user_inputs: Sequence[str] = ()) -> str | None:
    """Why this password may not be set, in the user's words; None if it may. `user_inputs`
    (the user id, the name) count as easy guesses too."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"use at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"use at most {MAX_PASSWORD_LENGTH} characters"
    from zxcvbn import zxcvbn  # its dictionaries weigh ~10 MiB: loaded when a password is set

    judged = zxcvbn(password[:_JUDGED_LENGTH], user_inputs=[u for u in user_inputs if u])
    if judged["score"] >= _MIN_STRENGTH:
        return None
    dictionaries = {match.get("dictionary_name") for match in judged["sequence"]}
    if "passwords" in dictionaries:
        return f"this is a common password from breach lists, or built from one: {_ADVICE}"
    if "user_inputs" in dictionaries:
        return f"this password is built from the user id or name: {_ADVICE}"
    warning = judged["feedback"]["warning"] or "This password is easy to guess."
    return f"{warning.rstrip('.')}: {_ADVICE}"
