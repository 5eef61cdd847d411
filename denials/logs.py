"""Logging setup: readable lines for a terminal, or JSON lines for a log collector.

Log messages carry identifiers only (case ids, task ids, workflow ids), never PHI: the
formatter adds just the record's own fields and the Temporal context ids, not arbitrary extras.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

# Context the Temporal SDK attaches to workflow and activity log records (ids, types, queue).
_TEMPORAL_CONTEXT = ("temporal_workflow", "temporal_activity")
_TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in _TEMPORAL_CONTEXT:
            context = getattr(record, key, None)
            if isinstance(context, dict):
                line[key] = context
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def configure_logging(*, json_lines: bool, level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if json_lines else logging.Formatter(_TEXT_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
