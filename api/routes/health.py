"""Liveness and readiness probes."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from temporalio.api.workflowservice.v1 import GetSystemInfoRequest

from app.deps import ClientDep, SessionDep
from db.operations import ping

router = APIRouter(tags=["health"])
_TIMEOUT = timedelta(seconds=3)


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


class Readiness(BaseModel):
    ready: bool
    checks: dict[str, str]


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "The database or Temporal is down"}},
)
async def readyz(session: SessionDep, client: ClientDep) -> JSONResponse:
    checks: dict[str, str] = {}
    try:
        ping(session)  # and not holding a connection while Temporal is asked
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"unreachable: {type(exc).__name__}"
    try:
        await client.workflow_service.get_system_info(GetSystemInfoRequest(), timeout=_TIMEOUT)
        checks["temporal"] = "ok"
    except Exception as exc:
        checks["temporal"] = f"unreachable: {type(exc).__name__}"
    ready = all(value == "ok" for value in checks.values())
    return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)
