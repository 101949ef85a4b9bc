"""Settings: the only place qualkg reads configuration (environment variables QUALKG_*, or .env)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from qualkg.ontology.namespaces import QKDATA


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="QUALKG_", env_file=".env", extra="ignore")

    base_iri: str = Field(str(QKDATA), description="Base of every instance IRI; must end with / or #.")
    store: str = Field("oxigraph", description="Graph store backend: oxigraph | sparql.")
    store_path: Path = Field(Path(".qualkg/store"), description="Directory of the embedded Oxigraph store.")
    store_memory_reads: bool = Field(True, description="The API answers from an in-memory copy of the embedded "
                                     "store (faster; costs memory the size of the store).")
    answer_cache: int = Field(512, ge=0, description="Answers the API keeps per store state for repeated questions "
                              "(embedded store only; every write starts afresh); 0 = off.")
    warm_answers: bool = Field(True, description="The API answers every named question with its defaults in the "
                               "background at start and after each write (kept as finished JSON), and evaluates "
                               "again what callers asked before the write, so first askings are answered from "
                               "memory (needs answer_cache).")
    sparql_query_url: str | None = None
    sparql_update_url: str | None = None
    sparql_gsp_url: str | None = None
    sparql_user: str | None = None
    sparql_password: SecretStr | None = None
    sparql_union_graph: str | None = Field(None, description="Only for servers whose default graph is not the union "
                                           "of the named graphs: that union's name, e.g. urn:x-arq:UnionGraph.")

    neo4j_uri: str | None = None
    neo4j_user: str = "neo4j"
    neo4j_password: SecretStr | None = None
    neo4j_database: str | None = None
    neo4j_auto_sync: bool = Field(True, description="Sync written study graphs to Neo4j after each ingest.")
    engine: Literal["store", "neo4j"] = Field("store", description="Where the API answers named questions: "
                                              "the RDF store, or the Neo4j projection (per request: ?engine=).")

    host: str = "127.0.0.1"
    port: int = 8000
    api_keys_file: Path | None = Field(None, description="TOML/JSON file of API keys and their scopes.")
    min_cell_count: int = Field(3, ge=1, description="Counts below this are suppressed for callers without 'excerpts'.")
    query_timeout_s: float = Field(10.0, gt=0)
    max_rows: int = Field(10_000, ge=1)
    max_upload_bytes: int = Field(200 * 1024 * 1024, ge=1)
    max_body_bytes: int = Field(1024 * 1024, ge=1, description="Largest request body other than an upload.")
    cors_origins: tuple[str, ...] = Field((), description="Origins allowed by CORS (JSON list); none = CORS off.")

    @field_validator("api_keys_file", mode="before")
    @classmethod
    def _empty_means_no_keys_file(cls, v: object) -> object:
        # `QUALKG_API_KEYS_FILE=` (set but empty) would otherwise be Path(""), the current directory
        return None if v == "" else v

    @field_validator("base_iri")
    @classmethod
    def _base_ends_with_separator(cls, v: str) -> str:
        if not v.endswith(("/", "#")):
            raise ValueError("base_iri must end with '/' or '#'")
        return v
