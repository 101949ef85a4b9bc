"""The served app keys its noise on a secret kept beside the embedded store: the same after a restart."""

from __future__ import annotations

import stat
from pathlib import Path

from qualkg.api.disclosure import configured_keys
from qualkg.app import api_config
from qualkg.settings import Settings


def test_the_secret_is_kept_beside_the_store_and_reused(tmp_path: Path) -> None:
    settings = Settings(store_path=tmp_path / "store", _env_file=None)  # type: ignore[call-arg]  # pydantic-settings' own keyword
    config = api_config(settings)
    assert config.cell_key_file == tmp_path / "store.cell-key"
    first = configured_keys(config)
    assert first is not None and config.cell_key_file.exists()
    assert stat.S_IMODE(config.cell_key_file.stat().st_mode) == 0o600
    again = configured_keys(api_config(settings))  # a restart reads the same file
    assert again is not None
    records = ["https://w3id.org/qualkg/id/study/fx/excerpt/a", "https://w3id.org/qualkg/id/study/fx/excerpt/b"]
    assert first.cell_key(records) == again.cell_key(records)


def test_a_configured_file_wins(tmp_path: Path) -> None:
    settings = Settings(store_path=tmp_path / "store", cell_key_file=tmp_path / "elsewhere.key",
                        _env_file=None)  # type: ignore[call-arg]  # pydantic-settings' own keyword
    assert api_config(settings).cell_key_file == tmp_path / "elsewhere.key"
