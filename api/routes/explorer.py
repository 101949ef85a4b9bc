"""The explorer: a static front-end (explorer/static: HTML, CSS, plain JavaScript + SVG) served by the
same app — its page at `/`, its files under `/explorer/`. It has no back door: the page calls the
public API with the key the user pastes, so scopes and disclosure control apply to it as to any client.
Nothing is fetched from a CDN; the files are served from disk as they are."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

STATIC = Path(__file__).resolve().parents[2] / "explorer" / "static"
# The page's own files change with the code; the browser must revalidate them, never guess a type.
_HEADERS = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
# The page loads only its own files and talks only to this origin: no CDN, no third-party calls.
_CSP = ("default-src 'self'; img-src 'self' data: blob:; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'none'; form-action 'self'")
_TYPES = {".js": "text/javascript", ".css": "text/css", ".html": "text/html", ".svg": "image/svg+xml",
          ".png": "image/png", ".ico": "image/x-icon"}

router = APIRouter(include_in_schema=False)


@router.get("/")
def index() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html",
                        headers={**_HEADERS, "Content-Security-Policy": _CSP})


@router.get("/explorer/{path:path}")
def static_file(path: str) -> FileResponse:
    """A file under explorer/static; anything outside it (../, absolute paths) or not served is a 404."""
    target = (STATIC / path).resolve()
    if not target.is_relative_to(STATIC) or not target.is_file() or target.suffix not in _TYPES:
        raise HTTPException(404, f"no explorer file '{path}'")
    return FileResponse(target, media_type=_TYPES[target.suffix], headers=_HEADERS)
