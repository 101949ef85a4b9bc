"""HTTP hardening (decision 0011): security headers, request body limits enforced while the body streams
in, and CORS only when configured. `install_middleware(app, policy)` is called once by the app factory.
Order (outermost first): security headers (a 413 carries them too), CORS, body limit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.middleware.body_limit import RequestBodyLimitResponder
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MULTIPART_ENVELOPE = 64 * 1024  # boundaries, part headers and the small form fields of an upload
UPLOAD_ROUTE = ("POST", "/studies")
DOCS_PATHS = ("/docs", "/redoc")  # Swagger UI and ReDoc load their scripts from a CDN

SECURITY_HEADERS: dict[str, str] = {
    "X-Content-Type-Options": "nosniff",  # a CSV answer is never sniffed into HTML
    "X-Frame-Options": "DENY",  # no framing (clickjacking); CSP frame-ancestors for newer browsers
    "Referrer-Policy": "no-referrer",  # query strings (study ids, search text) never leak onwards
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cache-Control": "no-store",  # answers can hold excerpt text: no shared or disk caches
}
API_CSP = "default-src 'none'; frame-ancestors 'none'"  # JSON, CSV, RDF: nothing to run or embed
DOCS_CSP = "frame-ancestors 'none'"


class HttpPolicy(Protocol):
    """The settings this module reads (fields of api.config.ApiSettings)."""

    @property
    def max_upload_bytes(self) -> int: ...
    @property
    def max_body_bytes(self) -> int: ...
    @property
    def cors_origins(self) -> Sequence[str]: ...


class SecurityHeaders:
    """Adds SECURITY_HEADERS and a Content-Security-Policy to every HTTP answer (keeps any a route set)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = DOCS_CSP if scope["path"].startswith(DOCS_PATHS) else API_CSP

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in {**SECURITY_HEADERS, "Content-Security-Policy": csp}.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimit:
    """Refuses request bodies over the limit of their route with 413, while they stream in."""

    def __init__(self, app: ASGIApp, *, default: int, upload: int) -> None:
        self.app, self.default, self.upload = app, default, upload

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        route = (scope["method"], scope["path"].rstrip("/") or "/")
        limit = self.upload if route == UPLOAD_ROUTE else self.default
        await RequestBodyLimitResponder(self.app, limit)(scope, receive, send)


def install_middleware(app: FastAPI, policy: HttpPolicy) -> None:
    """Add the body limit, CORS (only when `policy.cors_origins` is not empty) and security headers."""
    if getattr(app.state, "http_policy", None) is not None:
        raise RuntimeError("install_middleware was already called for this app")
    app.state.http_policy = policy
    app.add_middleware(BodyLimit, default=policy.max_body_bytes, upload=policy.max_upload_bytes + MULTIPART_ENVELOPE)
    if policy.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(policy.cors_origins), allow_credentials=False,
                           allow_methods=["GET", "POST"], allow_headers=["Authorization", "X-API-Key", "Content-Type"])
    app.add_middleware(SecurityHeaders)
