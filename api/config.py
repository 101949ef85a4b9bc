"""What the API needs to know, passed in by the composition root (the API reads no environment)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class ApiKey(BaseModel):
    key_sha256: str  # only the hash of a key is kept
    name: str
    scopes: frozenset[str]
    revoked: bool = False
    expires: datetime | None = None


class ApiConfig(BaseModel):
    version: str = "0.1.0"
    open_scopes: frozenset[str] = Field(default_factory=frozenset, description="Scopes granted without a key.")
    keys: list[ApiKey] = Field(default_factory=list)
    min_cell_count: int = 3
    query_timeout_s: float = 10.0
    max_rows: int = 10_000
    max_upload_bytes: int = 200 * 1024 * 1024
    max_body_bytes: int = 1024 * 1024  # any request body but an upload
    cors_origins: tuple[str, ...] = ()  # CORS is off unless origins are configured
    engine: str = "store"  # default engine for named questions: store | neo4j (per request: ?engine=)
    neo4j_database: str | None = None
    neo4j_auto_sync: bool = True  # project the studies an upload wrote into Neo4j, when one is configured
    answer_cache: int = 512  # finished answers kept per store generation (over a CachedStore); 0 = off
    warm_answers: bool = True  # compute the default answers at start and after every write, while serving
