"""How the composition root turns settings into API access rules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qualkg.api.security import KeyRing, key_hash
from qualkg.app import api_config
from qualkg.settings import Settings


def test_loopback_opens_aggregate_and_excerpts() -> None:
    assert api_config(Settings(host="127.0.0.1")).open_scopes == {"aggregate", "excerpts"}


def test_any_other_address_requires_keys() -> None:
    assert api_config(Settings(host="0.0.0.0")).open_scopes == frozenset()


def test_keys_file(tmp_path: Path) -> None:
    f = tmp_path / "keys.json"
    f.write_text(json.dumps([{"name": "reviewer", "key_sha256": key_hash("s3cret"), "scopes": ["aggregate"]}]))
    [key] = KeyRing(api_config(Settings(api_keys_file=f))).keys()
    assert (key.name, key.scopes, key.key_sha256) == ("reviewer", {"aggregate"}, key_hash("s3cret"))


def test_an_empty_keys_file_variable_means_no_keys_file(monkeypatch: pytest.MonkeyPatch) -> None:
    """`QUALKG_API_KEYS_FILE=` once made `qualkg serve` read the current directory as a keys file."""
    monkeypatch.setenv("QUALKG_API_KEYS_FILE", "")
    assert Settings().api_keys_file is None and api_config(Settings()).keys == []
    assert api_config(Settings()).keys_file == Path(".qualkg/store.keys.json")  # beside the store instead


def test_the_api_fields_are_defined_once_and_handed_over() -> None:
    """Settings inherits ApiSettings (one definition per field, read from QUALKG_*); api_config passes each on."""
    from qualkg.api.config import ApiSettings

    assert issubclass(Settings, ApiSettings)
    tuned = Settings(min_cell_count=5, max_rows=7, cors_origins=("https://a.example",), engine="neo4j",
                     answer_cache=3, warm_answers=False)
    config = api_config(tuned)
    handed = tuned.model_dump(include=set(ApiSettings.model_fields))
    handed["cell_key_file"] = tuned.store_path.with_name(tuned.store_path.name + ".cell-key")  # beside the store
    assert {name: getattr(config, name) for name in ApiSettings.model_fields} == handed
    assert config.max_rows == 7 and config.engine == "neo4j"


def test_an_api_field_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUALKG_MAX_ROWS", "42")
    monkeypatch.setenv("QUALKG_CORS_ORIGINS", '["https://a.example"]')
    assert api_config(Settings()).max_rows == 42 and api_config(Settings()).cors_origins == ("https://a.example",)


def test_trusted_proxies_are_read_and_handed_over(monkeypatch: pytest.MonkeyPatch) -> None:
    """QUALKG_TRUSTED_PROXIES (a JSON list of addresses or networks) reaches the API; a name is refused."""
    monkeypatch.setenv("QUALKG_TRUSTED_PROXIES", '["127.0.0.1", "::1/128"]')
    assert api_config(Settings()).trusted_proxies == ("127.0.0.1", "::1/128")
    monkeypatch.setenv("QUALKG_TRUSTED_PROXIES", '["proxy.example"]')
    with pytest.raises(ValueError, match="trusted_proxies"):
        Settings()


def test_open_scopes_are_only_what_a_loopback_caller_may_get() -> None:
    """The settings' host only decides which scopes may be open; who gets them is decided per request from
    the connection (api/security.py local_caller; tests/security/test_http_guards.py)."""
    from qualkg.api.security import resolve_principal

    config = api_config(Settings(host="127.0.0.1"))
    assert resolve_principal(None, config, local=False).scopes == frozenset()
    assert resolve_principal(None, config, local=True).scopes == {"aggregate", "excerpts"}
