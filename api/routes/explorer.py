"""The explorer (decision 0012): its page at `/` and its packaged files (explorer/static) under `/explorer/`,
served as they are. The page calls the public API with the key the user gives it."""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable

from fastapi import APIRouter, HTTPException
from fastapi.responses import Response

STATIC = files("qualkg.explorer").joinpath("static")
# The page's own files change with the code; the browser must revalidate them, never guess a type.
_HEADERS = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
# The page loads only its own files and talks only to this origin: no CDN, no third-party calls.
_CSP = ("default-src 'self'; img-src 'self' data: blob:; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'none'; form-action 'self'")
_TYPES = {".js": "text/javascript", ".css": "text/css", ".html": "text/html", ".svg": "image/svg+xml",
          ".png": "image/png", ".ico": "image/x-icon"}

router = APIRouter(include_in_schema=False)


@router.get("/")
def index() -> Response:
    return Response(STATIC.joinpath("index.html").read_bytes(), media_type="text/html",
                    headers={**_HEADERS, "Content-Security-Policy": _CSP})


@router.get("/explorer/{path:path}")
def static_file(path: str) -> Response:
    """A file under explorer/static; anything outside it (../, absolute paths) or not served is a 404."""
    target = _static(path)
    suffix = "." + target.name.rpartition(".")[2] if target is not None and "." in target.name else ""
    if target is None or suffix not in _TYPES:
        raise HTTPException(404, f"no explorer file '{path}'")
    return Response(target.read_bytes(), media_type=_TYPES[suffix], headers=_HEADERS)


def _static(path: str) -> Traversable | None:
    """The packaged file at `path` under explorer/static, or None: only plain name segments are followed."""
    parts = path.split("/")
    if any(part in {"", ".", ".."} or "\\" in part for part in parts):
        return None
    target = STATIC.joinpath(*parts)
    return target if target.is_file() else None
