"""Pure ASGI middleware around the whole app: security headers and the request-body limit.

Pure ASGI (not Starlette's BaseHTTPMiddleware, which buffers and breaks streaming such as the live rooms'
server-sent events) and outside Starlette's ServerErrorMiddleware (`YinliApp.build_middleware_stack`), so
500 answers carry the headers too.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from yinli.api.problems import problem

# The server-rendered pages load only their own files: HTMX and the stylesheet from /static, no inline
# script. Inline `style` attributes are used in templates (and HTMX adds its indicator <style>), so styles
# allow 'unsafe-inline'; covers and videos are merchants' https (or http) URLs.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: https: http:; media-src 'self' https: http:; connect-src 'self'; font-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
# /docs (the vendored Swagger UI, api/docs.py) sets inline styles and shows data: images; its script is ours.
DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; worker-src 'self' blob:; object-src 'none'; base-uri 'self'; "
    "frame-ancestors 'none'"
)
DOCS_PATHS = ("/docs",)
HSTS = "max-age=31536000; includeSubDomains"


class SecurityHeaders:
    """Adds CSP, X-Frame-Options, nosniff and Referrer-Policy to every response; HSTS over HTTPS only
    (a browser that saw HSTS over plain HTTP from a dev server would refuse it ever after)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        csp = DOCS_CSP if path.startswith(DOCS_PATHS) else PAGE_CSP
        https = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", csp)
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
                if https:
                    headers.setdefault("Strict-Transport-Security", HSTS)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class _BodyTooLarge(Exception):
    pass


class BodyLimit:
    """Refuses a request body past `max_bytes` with 413 problem+json, without reading it: at once when
    Content-Length says so, else as soon as the streamed chunks add up past it (whatever the app had
    started answering — a 400 for the cut-off body — is dropped for the 413)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _too_large(self) -> Any:
        return problem(
            413,
            "body_too_large",
            "Content too large",
            f"the request body is larger than {self.max_bytes} bytes",
            [{"field": "body", "message": f"at most {self.max_bytes} bytes"}],
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                if value.strip().isdigit() and int(value) > self.max_bytes:
                    await self._too_large()(scope, receive, send)
                    return
                break
        received = 0
        tripped = False
        started = False

        async def limited_receive() -> Message:
            nonlocal received, tripped
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    tripped = True
                    raise _BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if tripped and not started:
                return  # the app's answer to a body it could not finish reading: replaced by the 413
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not tripped:
                raise
        if tripped and not started:
            await self._too_large()(scope, receive, send)


class YinliApp(FastAPI):
    """FastAPI with the security middleware outermost (see the module docstring)."""

    def build_middleware_stack(self) -> ASGIApp:
        app = super().build_middleware_stack()
        return SecurityHeaders(BodyLimit(app, self.state.settings.max_body_bytes))
