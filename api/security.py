"""Who is calling and what they may do: API keys (or bearer tokens) with the scopes of SCOPES
(decision 0014). Only the SHA-256 of each key is kept; a caller without a key gets the config's open scopes.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status

from qualkg.api.config import ApiConfig
from qualkg.api.deps import ConfigDep

SCOPES: dict[str, str] = {
    "aggregate": "counts only; counts below the threshold are suppressed",
    "excerpts": "excerpt text and exact small counts",
    "sparql": "raw SPARQL queries (they bypass disclosure control)",
    "ingest": "upload studies (write)",
}


@dataclass(frozen=True, slots=True)
class Principal:
    name: str
    scopes: frozenset[str]

    def can(self, scope: str) -> bool:
        return scope in self.scopes


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _presented_key(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip() or None
    return request.headers.get("x-api-key") or None


def resolve_principal(key: str | None, config: ApiConfig, now: datetime | None = None) -> Principal:
    """The principal for a presented key (None = anonymous). A wrong, revoked or expired key is refused."""
    if key is None:
        return Principal("anonymous", config.open_scopes)
    digest = key_hash(key)
    for k in config.keys:
        if hmac.compare_digest(k.key_sha256, digest):
            if k.revoked:
                raise HTTPException(status.HTTP_401_UNAUTHORIZED, "this API key has been revoked",
                                    headers={"WWW-Authenticate": "Bearer"})
            if k.expires is not None and k.expires <= (now or datetime.now(UTC)):
                raise HTTPException(status.HTTP_401_UNAUTHORIZED, "this API key has expired",
                                    headers={"WWW-Authenticate": "Bearer"})
            return Principal(k.name, k.scopes)
    raise HTTPException(status.HTTP_401_UNAUTHORIZED, "unknown API key", headers={"WWW-Authenticate": "Bearer"})


async def current_principal(request: Request, config: ConfigDep) -> Principal:
    # async: no I/O here, and a sync dependency would cost a thread-pool hop on every request
    return resolve_principal(_presented_key(request), config)


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def require(scope: str):
    """A dependency that refuses callers without `scope` (401 without a key, 403 with one)."""

    async def check(principal: PrincipalDep) -> Principal:
        if not principal.can(scope):
            code = status.HTTP_401_UNAUTHORIZED if principal.name == "anonymous" else status.HTTP_403_FORBIDDEN
            raise HTTPException(code, f"this needs the '{scope}' scope ({SCOPES[scope]})",
                                headers={"WWW-Authenticate": "Bearer"} if code == 401 else None)
        return principal

    return Depends(check)
