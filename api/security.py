"""Who is calling and what they may do: API keys (or bearer tokens) with the scopes of SCOPES
(decision 0014). Only the SHA-256 of each key is kept. A caller without a key gets the config's open
scopes only on a loopback connection that no untrusted proxy forwarded (`local_caller`, decision 0066).
Keys made by `qualkg keys` live in a file (KeyFile) that a running server reads again when it changes
(KeyRing, decision 0116).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import os
import secrets
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status
from pydantic import TypeAdapter, ValidationError

from qualkg.api.config import ApiConfig, ApiKey
from qualkg.api.deps import ConfigDep

SCOPES: dict[str, str] = {
    "aggregate": "counts only; counts below the threshold are suppressed",
    "excerpts": "excerpt text and exact small counts",
    "sparql": "raw SPARQL queries (they bypass disclosure control)",
    "ingest": "upload studies (write)",
    "review": "record review judgements and mapping reviews, import mapping sets (write)",
}


@dataclass(frozen=True, slots=True)
class Principal:
    name: str
    scopes: frozenset[str]

    def can(self, scope: str) -> bool:
        return scope in self.scopes


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


log = logging.getLogger(__name__)
_KEY_LIST = TypeAdapter(list[ApiKey])


class KeyFileError(ValueError):
    """A key file operation refused: an unknown scope, a name in use, no such key."""


class KeyFile:
    """The JSON list of keys (`ApiKey`, hashes only) that `qualkg keys` edits; a missing file holds none.

    Every change is written to a temporary file and renamed over the old one (mode 0600), so a server
    reading it sees the old list or the new one."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> list[ApiKey]:
        try:
            return _KEY_LIST.validate_json(self.path.read_bytes())
        except FileNotFoundError:
            return []

    def create(self, name: str, scopes: Sequence[str], expires: datetime | None = None) -> str:
        """Add a key; return the key itself (shown once, never stored)."""
        unknown = sorted(set(scopes) - set(SCOPES))
        if unknown or not scopes:
            raise KeyFileError(f"unknown scope(s) {', '.join(unknown) or '(none given)'}: choose from "
                            f"{', '.join(SCOPES)}")
        keys = self.read()
        if any(k.name == name for k in keys):
            raise KeyFileError(f"a key named '{name}' exists already (revoked keys keep their name)")
        secret = "qk_" + secrets.token_urlsafe(32)
        keys.append(ApiKey(name=name, key_sha256=key_hash(secret), scopes=frozenset(scopes), expires=expires,
                           created=datetime.now(UTC).replace(microsecond=0)))
        self._write(keys)
        return secret

    def revoke(self, name: str) -> ApiKey:
        keys = self.read()
        for i, k in enumerate(keys):
            if k.name == name:
                keys[i] = k.model_copy(update={"revoked": True})
                self._write(keys)
                return keys[i]
        raise KeyFileError(f"no key named '{name}' in {self.path}")

    def _write(self, keys: list[ApiKey]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(_KEY_LIST.dump_json(sorted(keys, key=lambda k: k.name), indent=2))
        temporary.replace(self.path)


class KeyRing:
    """The keys a server honours: the config's, plus its key file's as the file now reads. The file is read
    again when its size, modification time or inode changed since the last request that checked (one
    `stat` per keyed request); a file that does not parse keeps the last list and is logged."""

    def __init__(self, config: ApiConfig) -> None:
        self.fixed = list(config.keys)
        self.file = KeyFile(config.keys_file) if config.keys_file is not None else None
        self._seen: tuple[int, int, int] | None = None
        self._keys: list[ApiKey] = []
        self._lock = threading.Lock()

    def keys(self) -> list[ApiKey]:
        if self.file is None:
            return self.fixed
        try:
            st = self.file.path.stat()
            seen = (st.st_size, st.st_mtime_ns, st.st_ino)
        except FileNotFoundError:
            seen = (0, 0, 0)
        with self._lock:
            if seen != self._seen:
                try:
                    self._keys = self.file.read()
                except (OSError, ValidationError) as e:
                    log.warning("the keys file %s does not read; keeping the last keys: %s", self.file.path, e)
                self._seen = seen
            return self.fixed + self._keys


def _presented_key(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip() or None
    return request.headers.get("x-api-key") or None


Network = ipaddress.IPv4Network | ipaddress.IPv6Network
FORWARDING_HEADERS = ("forwarded", "x-forwarded-for", "x-real-ip")  # a proxy stands between caller and server


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An IP address as a header or an ASGI scope writes it ("1.2.3.4", "1.2.3.4:80", "[::1]:80", "::1"),
    IPv4-mapped IPv6 as its IPv4 address; None for anything else ("unknown", "_hidden", "testclient")."""
    text = text.strip().strip('"')
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


def _is_loopback(host: object) -> bool:
    address = _address(host) if isinstance(host, str) else None
    return address is not None and address.is_loopback


@lru_cache(maxsize=16)
def _networks(trusted: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(t, strict=False) for t in trusted)


def _trusted(host: str, trusted: Sequence[Network]) -> bool:
    address = _address(host)
    return address is not None and any(address in net for net in trusted)


def forwarded_chain(headers: Mapping[str, str]) -> list[str]:
    """Every address the forwarding headers name: each element of Forwarded (its for=, "" when it has
    none), each of X-Forwarded-For, and X-Real-IP."""
    chain = []
    for element in headers.get("forwarded", "").split(","):
        if element.strip():
            pairs = (p.partition("=") for p in element.split(";"))
            chain.append(next((v.strip() for k, _, v in pairs if k.strip().lower() == "for"), ""))
    chain += [h.strip() for h in headers.get("x-forwarded-for", "").split(",") if h.strip()]
    chain += [headers["x-real-ip"].strip()] if headers.get("x-real-ip", "").strip() else []
    return chain


def local_caller(server: Sequence[Any] | None, client: Sequence[Any] | None, headers: Mapping[str, str],
                 trusted_proxies: Sequence[str] = ()) -> bool:
    """Whether a request comes from this machine over loopback, so it may have the open scopes.

    `server` and `client` are the ASGI scope's tuples; both must be loopback. A request with a forwarding
    header is local only when the peer is a trusted proxy and every address the headers name is loopback
    (decision 0066).
    """
    if not server or not client or not _is_loopback(server[0]) or not _is_loopback(client[0]):
        return False
    if not any(headers.get(h) for h in FORWARDING_HEADERS):
        return True
    if not _trusted(client[0], _networks(tuple(trusted_proxies))):
        return False  # a proxy no one configured: the caller behind it is unknown
    chain = forwarded_chain(headers)
    return bool(chain) and all(_is_loopback(hop) for hop in chain)


def request_is_local(request: Request, config: ApiConfig) -> bool:
    """`local_caller` for a request (repeated forwarding headers joined, as one list)."""
    headers = {h: ",".join(request.headers.getlist(h)) for h in FORWARDING_HEADERS}
    return local_caller(request.scope.get("server"), request.scope.get("client"), headers, config.trusted_proxies)


def resolve_principal(key: str | None, config: ApiConfig, now: datetime | None = None, *,
                      local: bool = False, keys: Sequence[ApiKey] | None = None) -> Principal:
    """The principal for a presented key (None = anonymous: the open scopes when `local`, none otherwise),
    looked up in `keys` (default: the config's). A wrong, revoked or expired key is refused."""
    if key is None:
        return Principal("anonymous", config.open_scopes if local else frozenset())
    digest = key_hash(key)
    for k in config.keys if keys is None else keys:
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
    key = _presented_key(request)
    if key is None:
        return resolve_principal(None, config, local=request_is_local(request, config))
    ring = getattr(request.app.state, "keyring", None)
    return resolve_principal(key, config, keys=ring.keys() if ring is not None else None)


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
