"""HTTP hardening (decision 0011): security headers, request body limits enforced while the body streams
in, CORS only when configured, and a last-resort answer for an unhandled error (decision 0067).
`install_middleware(app, policy)` is called once by the app factory. Order (outermost first): security
headers (a 413 and a 500 carry them too), CORS, last resort, body limit.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from typing import Protocol

from fastapi import FastAPI
from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.body_limit import RequestBodyLimitResponder
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import ClientDisconnect
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)
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


class _HttpOnly:
    """An ASGI middleware that handles HTTP requests in `http` and passes every other scope through."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.http(scope, receive, send)

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError


class SecurityHeaders(_HttpOnly):
    """Adds SECURITY_HEADERS and a Content-Security-Policy to every HTTP answer (keeps any a route set)."""

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        csp = DOCS_CSP if scope["path"].startswith(DOCS_PATHS) else API_CSP

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in {**SECURITY_HEADERS, "Content-Security-Policy": csp}.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimit(_HttpOnly):
    """Refuses request bodies over the limit of their route with 413: a declared length at once, before the
    app runs (so before the key is looked at and before a byte is read), a chunked body while it streams in."""

    def __init__(self, app: ASGIApp, *, default: int, upload: int) -> None:
        super().__init__(app)
        self.default, self.upload = default, upload

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = (scope["method"], scope["path"].rstrip("/") or "/")
        limit = self.upload if route == UPLOAD_ROUTE else self.default
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await JSONResponse({"detail": f"the request body is larger than {limit} bytes"},
                               status_code=413)(scope, receive, send)
            return
        await RequestBodyLimitResponder(self.app, limit)(scope, receive, send)


class LastResort(_HttpOnly):
    """Answers an error no handler took with 500 and a log reference only; the connection stays open.

    An error after the answer started is re-raised (the connection closes); one after it ended is only
    logged (decision 0067).
    """

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = {"started": False, "ended": False}

        async def send_tracked(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["started"] = True
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                state["ended"] = True
            await send(message)

        try:
            await self.app(scope, receive, send_tracked)
        except ClientDisconnect:
            return  # the caller left: there is no one to answer
        except Exception:
            ref = secrets.token_hex(6)
            log.exception("%s %s: unhandled error (ref %s)", scope["method"], scope["path"], ref)
            if state["started"] and not state["ended"]:
                raise
            if not state["started"]:
                await JSONResponse({"detail": f"the server could not answer this request (ref {ref}, in its log)"},
                                   status_code=500)(scope, receive, send)


def install_middleware(app: FastAPI, policy: HttpPolicy) -> None:
    """Add the body limit, the last-resort answer, CORS (only when `policy.cors_origins` is not empty) and
    security headers."""
    if getattr(app.state, "http_policy", None) is not None:
        raise RuntimeError("install_middleware was already called for this app")
    app.state.http_policy = policy
    app.add_middleware(BodyLimit, default=policy.max_body_bytes, upload=policy.max_upload_bytes + MULTIPART_ENVELOPE)
    app.add_middleware(LastResort)
    if policy.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(policy.cors_origins), allow_credentials=False,
                           allow_methods=["GET", "POST"], allow_headers=["Authorization", "X-API-Key", "Content-Type"])
    app.add_middleware(SecurityHeaders)
