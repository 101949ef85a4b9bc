"""Settings: the only place qualkg reads configuration (environment variables QUALKG_*, or .env)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from qualkg.api.config import ApiSettings
from qualkg.ontology.namespaces import QKDATA


class Settings(BaseSettings, ApiSettings):
    """Everything qualkg reads from QUALKG_* variables: the API's fields (ApiSettings) and the ones below."""

    model_config = SettingsConfigDict(env_prefix="QUALKG_", env_file=".env", extra="ignore")

    base_iri: str = Field(str(QKDATA), description="Base of every instance IRI; must end with / or #.")
    store: str = Field("oxigraph", description="Graph store backend: oxigraph | sparql.")
    store_path: Path = Field(Path(".qualkg/store"), description="Directory of the embedded Oxigraph store.")
    store_memory_reads: bool = Field(True, description="The API answers from an in-memory copy of the embedded "
                                     "store (faster; costs memory the size of the store).")
    sparql_workers: int = Field(2, ge=1, description="Embedded store: caller-written SPARQL (/sparql) evaluations "
                                "at once, each in its own worker process cut off from the network; more wait up to "
                                "2 s, then get 503.")
    sparql_memory_mb: int = Field(1024, ge=384, description="Embedded store: address space of one SPARQL worker "
                                  "(interpreter and store included); a query needing more is stopped (413).")
    sparql_answer_mb: int = Field(64, ge=1, description="Embedded store: largest serialised /sparql answer; a "
                                  "larger one is stopped (413).")
    answer_cache_mb: int = Field(256, ge=1, description="Memory the kept answers may hold, per cache (the store's "
                                 "and the finished HTTP answers'); least recently used dropped first, an answer "
                                 "larger than this is not kept.")
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

    host: str = "127.0.0.1"
    port: int = 8000
    api_keys_file: Path | None = Field(None, description="JSON file of API keys and their scopes (what `qualkg "
                                       "keys` edits; default: beside the store, .qualkg/store.keys.json).")
    server_url: str | None = Field(None, description="The running qualkg server the CLI sends writes to (default: "
                                   "the one recorded beside the store by `qualkg serve`).")
    key: SecretStr | None = Field(None, description="The API key the CLI presents to that server.")
    key_file: Path | None = Field(None, description="A file holding that key (read when QUALKG_KEY is unset).")

    def keys_path(self) -> Path:
        """The API keys file: configured, or beside the store."""
        return self.api_keys_file or self.store_path.with_name(self.store_path.name + ".keys.json")

    def client_key(self) -> str | None:
        """The key the CLI presents to a running server: QUALKG_KEY, else the content of QUALKG_KEY_FILE."""
        if self.key is not None:
            return self.key.get_secret_value()
        return self.key_file.read_text().strip() or None if self.key_file is not None else None

    @field_validator("api_keys_file", "key_file", mode="before")
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
