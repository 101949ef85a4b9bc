"""Raw queries on the embedded store run in the sandbox on a read-only copy of the current content: one
copy per generation (a RocksDB checkpoint on disk, a written copy for a memory store), old copies deleted
once nothing uses them, every copy removed at close."""

from __future__ import annotations

import json
from pathlib import Path

from pyoxigraph import Literal, Triple

from qualkg.store.oxigraph import OxigraphStore
from qualkg.store.sandbox import SandboxLimits
from tests.store.cases import G1, G2, LABEL, ex, people

COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
JSON = "application/sparql-results+json"


def count(store: OxigraphStore) -> int:
    return int(json.loads(store.query_raw(COUNT, JSON))["results"]["bindings"][0]["n"]["value"])


def copies(store: OxigraphStore) -> list[str]:
    assert store.snapshots is not None and store.snapshots.folder is not None
    return sorted(p.name for p in store.snapshots.folder.iterdir())


def test_on_disk_one_checkpoint_per_generation_beside_the_data(tmp_path: Path) -> None:
    store = OxigraphStore(tmp_path / "db", memory_reads=True, sparql_limits=SandboxLimits(workers=1))
    try:
        store.replace_graph(G1, people())
        assert count(store) == 3 and count(store) == 3
        assert store.snapshots is not None and store.snapshots.made == 1
        assert store.snapshots.folder == tmp_path / "db" / "snapshots"
        first = copies(store)
        store.replace_graph(G2, [Triple(ex("carol"), LABEL, Literal("Carol"))])
        assert count(store) == 4 and store.snapshots.made == 2
        # the one worker moved to the new copy, so the old one is no longer used: deleted
        assert len(copies(store)) == 1 and copies(store) != first
        # a write that changes nothing makes no new generation
        store.replace_graph(G1, people())
        assert count(store) == 4 and store.snapshots.made == 2
    finally:
        store.close()
    assert not (tmp_path / "db" / "snapshots").exists()


def test_a_copy_an_idle_worker_has_open_is_kept_until_it_moves_on(tmp_path: Path) -> None:
    store = OxigraphStore(tmp_path / "db", sparql_limits=SandboxLimits(workers=2))
    try:
        store.replace_graph(G1, people())
        count(store)
        assert len(copies(store)) == 1
        store.replace_graph(G2, people()[:1])
        assert count(store) == 4
        # the idle worker may still hold the old copy open; it is deleted only once no worker does
        assert store.snapshots is not None
        in_use = {Path(p).name for p in store._sandbox.snapshots_in_use()}
        assert set(copies(store)) == in_use | {copies(store)[-1]}
    finally:
        store.close()


def test_leftover_copies_of_a_crashed_server_are_removed(tmp_path: Path) -> None:
    (tmp_path / "db" / "snapshots" / "g7-1").mkdir(parents=True)
    store = OxigraphStore(tmp_path / "db")
    try:
        store.replace_graph(G1, people())
        assert count(store) == 3
        assert "g7-1" not in copies(store)
    finally:
        store.close()


def test_in_memory_store_is_copied_to_a_temporary_folder_removed_at_close() -> None:
    store = OxigraphStore()
    store.replace_graph(G1, people())
    assert count(store) == 3
    assert store.snapshots is not None
    folder = store.snapshots.folder
    assert folder is not None and folder.exists()
    store.close()
    assert not folder.exists()


def test_a_store_opened_read_only_is_queried_as_it_is(tmp_path: Path) -> None:
    writer = OxigraphStore(tmp_path / "db")
    writer.replace_graph(G1, people())
    writer.close()
    reader = OxigraphStore.read_only(tmp_path / "db")
    try:
        assert reader.snapshots is None
        assert count(reader) == 3
    finally:
        reader.close()


def test_a_memory_store_dropped_without_close_leaves_no_folder() -> None:
    import gc

    store = OxigraphStore()
    store.replace_graph(G1, people())
    assert count(store) == 3
    assert store.snapshots is not None and store.snapshots.folder is not None
    folder = store.snapshots.folder
    del store
    gc.collect()
    assert not folder.exists()
