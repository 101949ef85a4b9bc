"""The `>>>` examples in the docstrings of qualkg.session and qualkg.store run, on a store in a temporary folder."""

from __future__ import annotations

import doctest
from pathlib import Path
from types import ModuleType

import pytest

import qualkg.session
import qualkg.store


@pytest.mark.parametrize("module", [qualkg.session, qualkg.store], ids=lambda m: m.__name__)
def test_docstring_examples_run(module: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUALKG_STORE_PATH", str(tmp_path / "store"))
    monkeypatch.chdir(tmp_path)  # no stray .env from the checkout
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
