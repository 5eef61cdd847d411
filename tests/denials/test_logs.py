"""JSON-lines logging: one object per line, Temporal ids kept, arbitrary extras left out."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from denials.logs import configure_logging


@pytest.fixture
def restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:], root.level = handlers, level


@pytest.mark.usefixtures("restore_root_logger")
def test_json_lines_with_temporal_context_and_exceptions(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging(json_lines=True)
    log = logging.getLogger("denials.test")
    context = {"workflow_id": "case-abc", "workflow_type": "DenialCaseWorkflow"}
    log.info("case %s triaged", "case-abc", extra={"temporal_workflow": context, "patient": "X"})
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("projection failed")
    first, second = (json.loads(line) for line in capsys.readouterr().err.splitlines())
    assert first["message"] == "case case-abc triaged"
    assert (first["level"], first["logger"]) == ("INFO", "denials.test")
    assert first["temporal_workflow"] == context
    assert "patient" not in first  # only known context is copied, never arbitrary extras
    assert second["level"] == "ERROR"
    assert "ValueError: boom" in second["exception"]
