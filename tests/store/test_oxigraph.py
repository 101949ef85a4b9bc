"""What only the Oxigraph backend has: one writer per directory, and read-only opening."""

from __future__ import annotations

from pathlib import Path

import pytest

from qualkg.store.base import StoreError
from qualkg.store.oxigraph import OxigraphStore
from tests.store.cases import G1, LABEL, people


def test_second_writer_on_same_directory_is_refused(tmp_path: Path) -> None:
    writer = OxigraphStore(tmp_path)
    try:
        with pytest.raises(StoreError, match=str(tmp_path)):
            OxigraphStore(tmp_path)
    finally:
        writer.close()


def test_read_only_reads_and_refuses_writes(tmp_path: Path) -> None:
    writer = OxigraphStore(tmp_path)
    writer.replace_graph(G1, people())
    writer.close()
    reader = OxigraphStore.read_only(tmp_path)
    try:
        assert reader.graphs() == [G1]
        assert reader.ask(f"ASK {{ GRAPH <{G1}> {{ ?s <{LABEL.value}> 'Bob' }} }}") is True
        with pytest.raises(StoreError, match="graph/one"):
            reader.replace_graph(G1, [])
        assert reader.triple_count(G1) == 3
    finally:
        reader.close()


def test_read_only_on_missing_directory_is_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="read-only"):
        OxigraphStore.read_only(tmp_path / "absent")
