"""The API's documentation, offline: /docs serves the vendored Swagger UI (no CDN), the OpenAPI document
declares how to authenticate, and /api/v1/auth/token also takes the OAuth2 password form, which is what
Swagger UI's "Authorize" button (and OAuth2 client libraries) send.

/redoc is not served: it would need a second vendored bundle for the same document.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.routing import APIRoute
from starlette.types import Message

from yinli.api.problems import problem

SWAGGER = "/static/vendor/swagger-ui-5.35.0"
FORM = "application/x-www-form-urlencoded"

SECURITY_SCHEMES = {
    "OAuth2Password": {
        "type": "oauth2",
        "description": "Sign in with e-mail (as username) and password; the answer's access_token is a bearer token.",
        "flows": {"password": {"tokenUrl": "/api/v1/auth/token", "scopes": {}}},
    },
    "BearerToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "An API token from POST /api/v1/auth/token (Authorization: Bearer <token>).",
    },
}
# Every operation takes any of them or none: which role a route needs is in its description and its 401/403s.
# (The web session cookie is for this site's own pages, not for API clients, so it is not offered here.)
SECURITY: list[dict[str, list[str]]] = [{"OAuth2Password": []}, {"BearerToken": []}, {}]

DOCS_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>yinli API</title>
<link rel="icon" href="/favicon.ico">
<link rel="stylesheet" href="{swagger}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui" data-openapi="{openapi}"></div>
<script src="{swagger}/swagger-ui-bundle.js"></script>
<script src="/static/api-docs.js"></script>
</body>
</html>
"""


class OAuth2PasswordFormRoute(APIRoute):
    """A JSON sign-in route that also takes the OAuth2 password form (RFC 6749 §4.3.2: `grant_type=password`,
    `username`, `password`). The form is turned into the JSON body the route already validates, so both
    bodies meet the same checks, limits and error answers."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if content_type != FORM:
                return await handler(request)
            try:
                fields = dict(parse_qsl((await request.body()).decode(), errors="strict"))
            except (UnicodeDecodeError, ValueError):
                return problem(400, "malformed_body", "Malformed body", "the form is not UTF-8 URL-encoded")
            if fields.get("grant_type", "password") != "password":
                return problem(400, "unsupported_grant_type", "Bad request", "only grant_type=password is supported")
            body = json.dumps({"email": fields.get("username"), "password": fields.get("password")}).encode()
            return await handler(_with_json_body(request, body))

        return handle


def _with_json_body(request: Request, body: bytes) -> Request:
    headers = [(k, v) for k, v in request.scope["headers"] if k not in (b"content-type", b"content-length")]
    headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return Request({**request.scope, "headers": headers}, receive)


def token_form_openapi() -> dict[str, Any]:
    """The form body, documented next to the JSON one (the route's handler declares only the JSON)."""
    return {
        "requestBody": {
            "content": {
                FORM: {
                    "schema": {
                        "type": "object",
                        "required": ["username", "password"],
                        "properties": {
                            "grant_type": {"type": "string", "enum": ["password"]},
                            "username": {"type": "string", "description": "the account's e-mail"},
                            "password": {"type": "string"},
                        },
                    }
                }
            }
        }
    }


def install(app: FastAPI) -> None:
    """Serve /docs from the vendored bundle and add the security schemes to the OpenAPI document."""
    page = DOCS_PAGE.format(swagger=SWAGGER, openapi=app.openapi_url)

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(page)

    generate = app.openapi

    def openapi() -> dict[str, Any]:
        fresh = app.openapi_schema is None
        schema = generate()
        if fresh:
            schema.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
            schema["security"] = SECURITY
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
