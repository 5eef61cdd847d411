"""The embedded stack the benchmarks measure: the Temporal dev server `make run` starts, on
free ports, its SQLite file in a scratch folder."""

from __future__ import annotations

from pathlib import Path

from denials.embedded import DevServer
from testkit.processes import free_port


def start_dev_server(folder: Path) -> DevServer:
    """A started dev server keeping its files in `folder` (stop it when done)."""
    server = DevServer(
        db_file=folder / "temporal.db",
        port=free_port(),
        ui_port=free_port(),
        namespace="default",
        log_file=folder / "temporal.log",
    )
    server.start()
    return server
