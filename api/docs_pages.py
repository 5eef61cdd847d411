"""The API docs at /docs (Swagger UI), served entirely by the app: no CDN, so they work offline
and under the pages' Content-Security-Policy ('self' only, no inline script or style).

Swagger UI's files come from the fastapi-offline package (it follows Swagger UI's releases).
The page is our own rather than FastAPI's get_swagger_ui_html, whose inline start-up script
would need 'unsafe-inline': /docs/swagger-init.js starts Swagger UI, reading the schema's URL
from the page.

There is no /redoc: ReDoc's standalone bundle (fastapi-offline ships one) loads its
attribution logo from cdn.redoc.ly and injects <style> elements as it loads, before a nonce can
be given to it, so it cannot run under a 'self' policy without violations. /docs shows the same
schema.
"""

from __future__ import annotations

from html import escape
from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from services.errors import NotFound

DOCS_PATH = "/docs"
INIT_SCRIPT_PATH = "/docs/swagger-init.js"
ASSETS_PATH = "/docs-assets"
ASSETS_DIR = Path(str(files("fastapi_offline") / "static"))
ASSETS = ("swagger-ui-bundle.js", "swagger-ui.css", "favicon.png")

# FastAPI's own Swagger UI settings, and no online validator badge (it would send the schema's
# URL to a public service).
_SWAGGER_INIT = """\
"use strict";
(function () {
  const root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    domNode: root,
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  });
})();
"""

router = APIRouter(include_in_schema=False)


def _prefix(request: Request) -> str:
    """The path the app is served under (a proxy's root_path), HTML-escaped, so the page's
    links work behind a proxy too."""
    return escape(str(request.scope.get("root_path", "")).rstrip("/"))


@router.get(DOCS_PATH)
def swagger_ui(request: Request) -> HTMLResponse:
    prefix = _prefix(request)
    assets = f"{prefix}{ASSETS_PATH}"
    schema = f"{prefix}{escape(str(request.app.openapi_url))}"
    return HTMLResponse(
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(request.app.title)} - Swagger UI</title>\n"
        f'<link rel="icon" type="image/png" href="{assets}/favicon.png">\n'
        f'<link rel="stylesheet" href="{assets}/swagger-ui.css">\n</head>\n<body>\n'
        f'<div id="swagger-ui" data-openapi-url="{schema}"></div>\n'
        f'<script src="{assets}/swagger-ui-bundle.js"></script>\n'
        f'<script src="{prefix}{INIT_SCRIPT_PATH}"></script>\n</body>\n</html>\n'
    )


@router.get(INIT_SCRIPT_PATH)
def swagger_init() -> Response:
    return Response(_SWAGGER_INIT, media_type="text/javascript")


@router.get(ASSETS_PATH + "/{name}")
def swagger_asset(name: str) -> FileResponse:
    if name not in ASSETS:  # only what the page uses, never a path into the package
        raise NotFound(f"no docs asset {name}")
    return FileResponse(ASSETS_DIR / name)


def add_docs(app: FastAPI) -> None:
    """Serve /docs from local files (create the app with docs_url=None and redoc_url=None, so
    FastAPI's CDN pages are not registered)."""
    app.include_router(router)
