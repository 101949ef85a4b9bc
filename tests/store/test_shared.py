"""Reading a store directory while another process writes it (store.shared; decision 0115)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pyoxigraph import Literal, NamedNode, Triple

from qualkg.store.base import StoreError
from qualkg.store.oxigraph import OxigraphStore
from qualkg.store.shared import ReadOnlyStore, read_record, record_path, remove_record, write_record

# The writer replaces five graphs in turn, each with 500 triples whose objects all carry the write's number,
# flushing after each write (as OxigraphStore does): RocksDB compacts files away under a reader's view.
WRITER = """
import sys
from pyoxigraph import Literal, NamedNode, Triple
from qualkg.store.oxigraph import OxigraphStore
store = OxigraphStore(__import__("pathlib").Path(sys.argv[1]))
print("open", flush=True)
i = 0
while True:
    store.replace_graph(f"urn:g{i % 5}", [Triple(NamedNode(f"urn:s{j}"), NamedNode("urn:p"), Literal(str(i)))
                                           for j in range(500)])
    i += 1
"""
COUNT = "SELECT (COUNT(*) AS ?n) (COUNT(DISTINCT ?o) AS ?v) WHERE { GRAPH ?g { ?s ?p ?o } }"


def test_reads_beside_a_busy_writer_see_whole_graphs(tmp_path: Path) -> None:
    path = tmp_path / "store"
    OxigraphStore(path).close()
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout is not None and writer.stdout.readline() == "open\n"
        reader = ReadOnlyStore(path, "refused")
        seen = []
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline:
            for g in range(5):
                [row] = reader.select(COUNT, {"g": NamedNode(f"urn:g{g}")})
                assert row["n"] is not None and row["v"] is not None
                seen.append((int(row["n"].value), int(row["v"].value)))
            reader.close()  # the next round opens afresh, as a new command would
        assert set(seen) <= {(0, 0), (500, 1)}  # each graph empty (not yet written) or one whole write
        assert (500, 1) in seen
        with pytest.raises(StoreError, match="refused"):
            reader.replace_graph("urn:g0", [Triple(NamedNode("urn:s"), NamedNode("urn:p"), Literal("x"))])
    finally:
        writer.kill()
        writer.wait()


def test_a_record_names_a_live_writer_only(tmp_path: Path) -> None:
    store = tmp_path / "store"
    write_record(store, "http://127.0.0.1:8123")
    assert record_path(store) == tmp_path / "store.server.json"
    record = read_record(store)
    assert record is not None and (record.pid, record.url) == (os.getpid(), "http://127.0.0.1:8123")
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    record_path(store).write_text(json.dumps({"pid": int(gone.stdout), "url": "http://127.0.0.1:1"}))
    assert read_record(store) is None  # a killed server's record is ignored
    write_record(store, "http://127.0.0.1:8123")
    remove_record(store)
    assert not record_path(store).exists()
