"""The codec endpoint of the Temporal Web UI / CLI "remote codec" protocol: POST .../decode
with a Payloads message as protobuf JSON, so authorised users see decrypted case payloads in
the Temporal Web UI while the server itself only ever stores ciphertext.

There is no .../encode: encrypting chosen input with the server's key would let anyone who can
sign in hand Temporal payloads the worker accepts, and the read-only Web UI sends none.

Point the UI at `<app>/api/v1/codec` (TEMPORAL_CODEC_ENDPOINT, with
TEMPORAL_CODEC_INCLUDE_CREDENTIALS=true so the browser sends the app's session cookie).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.security import HTTPAuthorizationCredentials
from google.protobuf import json_format
from pydantic import AfterValidator, BaseModel, Field
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send
from temporalio.api.common.v1 import Payload, Payloads

from api.errors import ERROR_RESPONSES, ErrorOut
from app.deps import (
    SESSION_COOKIE,
    AuditDep,
    AuthDep,
    ClientDep,
    Unauthenticated,
    bearer_scheme,
    record_refusal,
)
from app.encryption import EncryptionCodec
from domain.case import Actor
from domain.permissions import Permission, allows
from services.auth import SessionKind
from services.errors import Forbidden, NotFound, ServiceError

CODEC_PATH = "/api/v1/codec"
router = APIRouter(prefix=CODEC_PATH, tags=["temporal codec"], responses=ERROR_RESPONSES)


def _base64(value: str) -> str:
    # Protobuf's own JSON parser skips stray characters; a garbled payload must not pass.
    try:
        base64.b64decode(value.replace("-", "+").replace("_", "/"), validate=True)
    except binascii.Error as exc:
        raise ValueError("not base64") from exc
    return value


Base64 = Annotated[str, AfterValidator(_base64)]


class PayloadJson(BaseModel):
    """temporal.api.common.v1.Payload in protobuf JSON: bytes are base64."""

    metadata: dict[str, Base64] = Field(default_factory=dict)
    data: Base64 = ""


class PayloadsJson(BaseModel):
    payloads: list[PayloadJson] = Field(default_factory=list)


def codec_reader(
    request: Request,
    auth: AuthDep,
    audit: AuditDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Actor:
    """A signed-in user allowed to read cases. Unlike other POSTs no CSRF token is asked for:
    the UI cannot send one, encoding and decoding change nothing, and CORS lets only the
    Temporal Web UI's origin read the answers."""
    if credentials is not None:
        user = auth.resolve(credentials.credentials, SessionKind.BEARER)
    else:
        cookie = request.cookies.get(SESSION_COOKIE)
        user = auth.resolve(cookie, SessionKind.COOKIE) if cookie else None
    if user is None:
        raise Unauthenticated(
            "sign in to the case manager first (the Temporal Web UI must include credentials)"
        )
    if not allows(user.actor.role, Permission.VIEW_CASES):
        record_refusal(audit, user.actor, request, Permission.VIEW_CASES)
        raise Forbidden(f"role '{user.actor.role.value}' lacks the 'view_cases' permission")
    return user.actor


CodecReader = Annotated[Actor, Depends(codec_reader)]
_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "A payload cannot be decrypted (unknown key, tampered)"}
}


async def _apply(
    body: PayloadsJson,
    transform: Callable[[Sequence[Payload]], Awaitable[list[Payload]]],
) -> PayloadsJson:
    message = json_format.ParseDict(body.model_dump(), Payloads())
    try:
        result = Payloads(payloads=await transform(message.payloads))
    except ValueError as exc:  # unknown key id, tampered payload
        raise ServiceError(str(exc)) from exc
    return PayloadsJson.model_validate(json_format.MessageToDict(result))


def _codec(client: ClientDep) -> EncryptionCodec:
    codec = client.data_converter.payload_codec
    if not isinstance(codec, EncryptionCodec):
        raise NotFound("payload encryption is not configured on this server")
    return codec


@router.post("/decode", responses=_RESPONSES)
async def decode(
    request: Request, body: PayloadsJson, client: ClientDep, actor: CodecReader, audit: AuditDep
) -> PayloadsJson:
    """Decrypt payloads for display (recorded in the audit trail: they may hold PHI)."""
    decoded = await _apply(body, _codec(client).reveal)
    audit.record(
        actor,
        "temporal.payloads_decoded",
        count=len(body.payloads),
        namespace=request.headers.get("x-namespace", ""),
    )
    return decoded


def ui_origins(ui_base: str) -> list[str]:
    """The Temporal Web UI's origin, under both names of this machine when it is local."""
    origin = "/".join(ui_base.split("/")[:3])
    aliases = {"//127.0.0.1:": "//localhost:", "//localhost:": "//127.0.0.1:"}
    return [origin] + [origin.replace(a, b) for a, b in aliases.items() if a in origin]


class CodecCors:
    """CORS for the codec endpoint only: the Temporal Web UI (another origin) calls it from
    the browser with the user's credentials; no other route is opened to other origins."""

    def __init__(self, app: ASGIApp, origins: list[str]) -> None:
        self._app = app
        self._cors = CORSMiddleware(
            app,
            allow_origins=origins,
            allow_credentials=True,
            allow_methods=["POST"],
            allow_headers=["authorization", "content-type", "x-namespace"],
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        inner = self._cors if scope["type"] == "http" and _is_codec(scope["path"]) else self._app
        await inner(scope, receive, send)


def _is_codec(path: str) -> bool:
    return path.startswith(CODEC_PATH + "/")
