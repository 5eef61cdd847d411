"""Answers serialized in the endpoint's own thread.

A plain-def endpoint that returns a model has FastAPI validate it again against the response
model and serialize it in a second hand-off to its thread pool: for a list page that doubled
the CPU spent on its rows and added a thread hop per request (issue 20). The routes that
return these keep `response_model` for their documented schema."""

from __future__ import annotations

from fastapi import Response
from pydantic import BaseModel


def json_answer(model: BaseModel) -> Response:
    """The model as FastAPI would send it (JSON mode, field names as declared)."""
    return Response(model.model_dump_json(), media_type="application/json")
