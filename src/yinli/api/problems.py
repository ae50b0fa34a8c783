"""RFC 9457 problem details for every error the API returns (DESIGN rule 8).

Body: {"type", "title", "status", "detail", "code", "errors": [{"field", "message"}]}, served as
`application/problem+json`. `code` is stable and meant for programs; `errors[].field` names the input at
fault (a body field like "skus.0.price_fen", a query or path parameter, or a header).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import exc as sa_exc
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from yinli.api.admission import TRANSIENT_FLAG
from yinli.core.db import is_transient_db_error
from yinli.core.errors import DomainError, TooManyRequests

log = logging.getLogger("yinli.api")

PROBLEM_JSON = "application/problem+json"


class ProblemFieldError(BaseModel):
    field: str = Field(description="The input at fault: a body field (`skus.0.price_fen`), a parameter or a header.")
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details, as every error response carries them."""

    type: str = Field(description="`urn:yinli:problem:<code>`.")
    title: str
    status: int
    detail: str
    code: str = Field(description="Stable, for programs.")
    errors: list[ProblemFieldError]


def _problem_schemas() -> dict[str, Any]:
    schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    defs = schema.pop("$defs", {})
    return {**defs, "Problem": schema}


def _documented(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}}


# Documented on every API operation (app.py): the errors any of them can answer with.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _documented("Malformed body (not JSON, not UTF-8) or a bad request"),
    401: _documented("Not signed in, or the token is unknown, expired or revoked"),
    403: _documented("Signed in, but not allowed to do this"),
    404: _documented("No such thing (or not visible to the caller)"),
    409: _documented("Conflicts with the current state"),
    413: _documented("The request body is larger than the server accepts"),
    422: _documented("Invalid input; `errors` names each field at fault"),
    503: _documented("Busy (`overloaded`) or the database is briefly unavailable: retry after `Retry-After` seconds"),
}

# An HTML renderer for 503s on web pages, installed by `yinli.web.install` (the API knows no templates).
HtmlPage = Callable[[Request, int, str, str, dict[str, str]], Response]


def problem(
    status: int,
    code: str,
    title: str,
    detail: str,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
    extensions: dict[str, Any] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        **(extensions or {}),
        "type": f"urn:yinli:problem:{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        "errors": errors or [],
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _field_of(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:]
    return ".".join(parts) or "body"


_STATUS_TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Invalid input",
}


def _wants_page(request: Request) -> bool:
    """A browser asking for a page (not the API, not a program asking for JSON, not an HTMX fragment)."""
    api = request.url.path.startswith("/api/") or "json" in request.headers.get("accept", "")
    return not api and request.headers.get("hx-request") != "true"


def unavailable(request: Request, code: str, detail: str) -> Response:
    """503 with Retry-After: problem+json for the API and HTMX, an HTML page for the web."""
    retry = str(request.app.state.settings.retry_after_seconds)
    headers = {"Retry-After": retry}
    page: HtmlPage | None = getattr(request.app.state, "html_error_page", None)
    if page is not None and _wants_page(request):
        return page(request, 503, code, detail, headers)
    title = "Overloaded" if code == "overloaded" else "Service unavailable"
    return problem(503, code, title, f"{detail}; retry in {retry} s", headers=headers)


def overloaded(request: Request) -> Response:
    return unavailable(request, "overloaded", "the server is handling as many requests as it can")


def install(app: FastAPI) -> None:
    _document(app)

    async def _database(request: Request, exc: Exception) -> Response:
        # Admission runs a request that is safe to repeat once more when it sees this flag (admission.py).
        request.scope[TRANSIENT_FLAG] = True
        log.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc)
        return unavailable(request, "database_unavailable", "the database is briefly unavailable")

    for kind in (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError, sqlite3.OperationalError):
        app.add_exception_handler(kind, _database)

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        if isinstance(exc, TooManyRequests):
            headers = {"Retry-After": str(exc.retry_after)}
        if exc.status == 503:
            headers = {"Retry-After": str(request.app.state.settings.retry_after_seconds)}
        return problem(
            exc.status,
            exc.code,
            exc.title,
            exc.detail,
            [{"field": e.field, "message": e.message} for e in exc.errors],
            headers,
            exc.extensions,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = []
        malformed = False
        for err in exc.errors():
            if err.get("type") == "json_invalid":
                malformed = True
                # loc is ("body", <character offset>): the body is at fault, not a field named by a number
                at = f" at character {err['loc'][-1]}" if len(err.get("loc", ())) > 1 else ""
                errors.append({"field": "body", "message": f"not valid JSON{at}"})
                continue
            errors.append({"field": _field_of(err.get("loc", ())), "message": str(err.get("msg", "invalid"))})
        if malformed:
            return problem(400, "malformed_body", "Malformed body", "the body is not valid JSON", errors)
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
        return problem(422, "invalid_input", "Invalid input", detail, errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if isinstance(exc.__cause__, UnicodeDecodeError):  # FastAPI's 400 for a body that is not UTF-8
            error = {"field": "body", "message": "not valid UTF-8"}
            return problem(400, "malformed_body", "Malformed body", "the body is not UTF-8 JSON", [error])
        title = _STATUS_TITLES.get(exc.status_code, "Error")
        code = title.lower().replace(" ", "_")
        headers = getattr(exc, "headers", None)
        page: HtmlPage | None = getattr(request.app.state, "html_error_page", None)
        if page is not None and _wants_page(request):  # e.g. a mistyped URL in the browser: the 404 page
            return await run_in_threadpool(page, request, exc.status_code, code, str(exc.detail), headers or {})
        return problem(exc.status_code, code, title, str(exc.detail), headers=headers)

    @app.exception_handler(IntegrityError)
    async def _integrity(_request: Request, exc: IntegrityError) -> JSONResponse:
        # Services check constraints first; reaching here means a concurrent request won a race
        # (e.g. two shops registering one brand name at once). Nothing was written: say so and move on.
        log.info("integrity conflict: %s", exc.orig)
        return problem(
            409,
            "concurrent_conflict",
            "Conflict",
            "this conflicts with a change made at the same moment; reload and retry",
        )

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> Response:
        if is_transient_db_error(exc):  # e.g. a DBAPIError whose connection was invalidated
            return await _database(request, exc)
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem(500, "internal_error", "Internal error", "something went wrong on our side")


def _document(app: FastAPI) -> None:
    """Add the `Problem` schema that `PROBLEM_RESPONSES` refers to to the app's OpenAPI components."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        fresh = app.openapi_schema is None
        schema = generate()  # cached by FastAPI after the first call
        if fresh:
            schema.setdefault("components", {}).setdefault("schemas", {}).update(_problem_schemas())
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
