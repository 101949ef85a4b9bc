"""What the API needs to know, passed in by the composition root (the API reads no environment).

`ApiSettings` holds the fields an operator sets; qualkg.settings.Settings inherits them and reads them
from QUALKG_* variables, so each is defined once, here (decision 0019).
"""

from __future__ import annotations

import ipaddress
import os
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, field_validator


class ApiKey(BaseModel):
    key_sha256: str  # only the hash of a key is kept
    name: str
    scopes: frozenset[str]
    revoked: bool = False
    expires: datetime | None = None
    created: datetime | None = None


class ApiSettings(BaseModel):
    min_cell_count: int = Field(3, ge=1, description="Counts below this are suppressed for callers without "
                                "'excerpts'.")
    query_timeout_s: float = Field(10.0, gt=0)
    max_rows: int = Field(10_000, ge=1)
    max_upload_bytes: int = Field(200 * 1024 * 1024, ge=1)
    ingest_workers: int = Field(default_factory=lambda: min(2, os.cpu_count() or 1), ge=1,
                                description="Processes that map and validate an ingest batch of over 1,250 "
                                "excerpts, by transcript chunks (decision 0140); 1 = in the calling process.")
    max_body_bytes: int = Field(1024 * 1024, ge=1, description="Largest request body other than an upload.")
    cors_origins: tuple[str, ...] = Field((), description="Origins allowed by CORS (JSON list); none = CORS off.")
    engine: Literal["store", "neo4j"] = Field("store", description="Where the API answers named questions: "
                                              "the RDF store, or the Neo4j projection (per request: ?engine=).")
    neo4j_database: str | None = None
    neo4j_auto_sync: bool = Field(True, description="Sync written study graphs to Neo4j after each ingest.")
    answer_cache: int = Field(512, ge=0, description="Answers kept per store state for repeated questions, "
                              "by the store and as finished HTTP answers (embedded store only; every write "
                              "starts afresh); 0 = off.")
    warm_answers: bool = Field(True, description="The API answers every named question with its defaults in the "
                               "background at start and after each write (kept as finished JSON), and answers "
                               "again what callers asked before the write, so first askings are answered from "
                               "memory (needs answer_cache).")
    cell_key_file: Path | None = Field(None, description="File holding the secret that keys the noise of "
                                       "perturbed counts (made, mode 0600, when missing). Default beside an "
                                       "embedded store; without one the secret lives only as long as the process.")
    trusted_proxies: tuple[str, ...] = Field((), description="Addresses or networks (JSON list, e.g. "
                                             '["127.0.0.1"]) of the reverse proxies whose X-Forwarded-For, '
                                             "Forwarded and X-Real-IP headers are believed. None = a request "
                                             "carrying such a header gets no open scopes.")

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_addresses(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for entry in v:
            ipaddress.ip_network(entry, strict=False)  # ValueError: not an address or network
        return v


class ApiConfig(ApiSettings):
    version: str = "0.1.0"
    open_scopes: frozenset[str] = Field(default_factory=frozenset, description="Scopes granted without a key, "
                                        "and only to a caller on a loopback connection that no untrusted proxy "
                                        "forwarded (api/security.py local_caller; decision 0066).")
    keys: list[ApiKey] = Field(default_factory=list)
    keys_file: Path | None = Field(None, description="JSON file of more keys (`qualkg keys`), read again when it "
                                   "changes (api/security.py KeyRing).")
