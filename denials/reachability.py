"""Is the Temporal server there? Asked by a command that needs one before it does anything
else, so a user without one is told what to do at once. The client's own error comes only after
its retries (6-10 s), as a raw transport error naming no setting.

Kept light (no import of the app): the answer is due within a second or two of the command
starting.
"""

from __future__ import annotations

import asyncio
import socket
from urllib.parse import urlsplit

from app.settings import Settings

CONNECT_SECONDS = 1.0
# A Temporal server answers its system-info call in milliseconds: anything silent this long is
# not one (or cannot serve the many calls an ingest makes).
ANSWER_SECONDS = 1.5


def host_and_port(address: str) -> tuple[str, int]:
    """`host:port` (IPv6 as `[::1]:7233`), or ValueError saying what is wrong."""
    try:
        parts = urlsplit(f"//{address}")
        host, port = parts.hostname, parts.port
    except ValueError:
        host, port = None, None
    if not host or port is None:
        raise ValueError(f"'{address}' is not host:port (e.g. 127.0.0.1:7233)")
    return host, port


def unreachable_message(settings: Settings, reason: str) -> str:
    """What failed and what to do, naming the setting in play."""
    if settings.temporal_address:
        where = f"{settings.temporal_address} (TEMPORAL_ADDRESS)"
        fix = (
            "check that this server runs and is reachable from here, or unset TEMPORAL_ADDRESS "
            "to use the server that `make run` (denials up) starts"
        )
    else:
        where = settings.client_address
        fix = (
            "start the case manager with `make run` (or `denials up`) and try again, or set "
            "TEMPORAL_ADDRESS to your Temporal server's host:port"
        )
    return f"cannot reach Temporal at {where}: {reason}. To fix: {fix}"


async def _answers(address: str, namespace: str) -> None:
    from temporalio.client import Client  # only now: its import is most of this check's time

    await asyncio.wait_for(Client.connect(address, namespace=namespace), ANSWER_SECONDS)


def temporal_problem(settings: Settings) -> str | None:
    """Why the Temporal server of `settings` cannot be used, in the user's words; None if it
    answers. Takes at most CONNECT_SECONDS + ANSWER_SECONDS."""
    address = settings.client_address
    try:
        host, port = host_and_port(address)
    except ValueError as exc:
        return unreachable_message(settings, str(exc))
    try:
        socket.create_connection((host, port), CONNECT_SECONDS).close()
    except ConnectionRefusedError:
        return unreachable_message(settings, "nothing listens there")
    except TimeoutError:
        return unreachable_message(settings, f"no answer to a connection in {CONNECT_SECONDS}s")
    except socket.gaierror:
        return unreachable_message(settings, f"the host name '{host}' is unknown")
    except OSError as exc:
        return unreachable_message(settings, exc.strerror or str(exc))
    try:
        asyncio.run(_answers(address, settings.temporal_namespace))
    except TimeoutError:
        return unreachable_message(
            settings, f"a server listens there but did not answer as Temporal in {ANSWER_SECONDS}s"
        )
    except RuntimeError:  # the SDK's connection error
        return unreachable_message(settings, "a server listens there but is not Temporal")
    return None
