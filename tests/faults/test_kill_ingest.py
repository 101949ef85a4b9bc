"""kill -9 during an ingest, through the CLI and through an HTTP upload: before or after, never between.

Once reopened (RocksDB replays its log), the study graph, its log graph and the model are exactly the old
state or exactly the reference's new state, and a re-run succeeds and gives the new state.
"""

from __future__ import annotations

import random
import signal
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.faults.conftest import Reference, copy_store
from tests.faults.harness import (
    INGEST_KEY,
    READ_KEY,
    STUDY,
    ApiProcess,
    StudyState,
    child_env,
    cli_ingest,
    keys_file,
    upload,
)

pytestmark = pytest.mark.servers

# Seeded, stratified: one point in the first part of the run, one in the last (where the write is). The
# fraction is of `reference.cli_seconds`, which includes the ~2-5 s the child needs to import qualkg: early
# points hit start-up or reading, later ones validation and the write, the last ones may find the ingest done.
_RNG = random.Random(20251125)
CLI_KILLS = [round(_RNG.uniform(0.2, 0.6), 2), round(_RNG.uniform(0.6, 1.0), 2)]
HTTP_KILLS = [round(_RNG.uniform(0.2, 0.6), 2), round(_RNG.uniform(0.6, 1.0), 2)]


def outcome(state: StudyState, ref: Reference) -> str:
    """'before', 'after', or a description of the mix found (which fails the test)."""
    if state == ref.old:
        return "before"
    if state.study == ref.new.study and len(state.log) == 1 and state.log != ref.old.log \
            and state.model_triples == ref.new.model_triples:
        return "after"
    return (f"between: study graph {len(state.study)} triples (old {len(ref.old.study)}, new {len(ref.new.study)}), "
            f"log {len(state.log)}, model {state.model_triples} (expected {ref.new.model_triples})")


@pytest.mark.parametrize("fraction", CLI_KILLS, ids=[f"kill-at-{f:.2f}" for f in CLI_KILLS])
def test_cli_killed_mid_ingest(fraction: float, old_store: Path, new_pkg: Path, reference: Reference,
                               tmp_path: Path) -> None:
    store = copy_store(old_store, tmp_path)
    child = cli_ingest(new_pkg, store, tmp_path)
    time.sleep(fraction * reference.cli_seconds)
    child.send_signal(signal.SIGKILL)
    code = child.wait()
    found = outcome(StudyState.read(store), reference)
    print(f"CLI kill at {fraction:.2f} x {reference.cli_seconds:.1f} s: exit {code}, store {found}")
    assert found in ("before", "after")

    assert cli_ingest(new_pkg, store, tmp_path).wait(timeout=300) == 0, (tmp_path / "cli.log").read_text()
    assert outcome(StudyState.read(store), reference) == "after"


@pytest.mark.parametrize("fraction", HTTP_KILLS, ids=[f"kill-at-{f:.2f}" for f in HTTP_KILLS])
def test_http_server_killed_mid_upload(fraction: float, old_store: Path, new_pkg: Path, reference: Reference,
                                       tmp_path: Path) -> None:
    """As above with uvicorn killed after a fraction of an uninterrupted upload's time (the server is
    already up, so every point falls inside the request); an upload answered 201 must have stuck."""
    store = copy_store(old_store, tmp_path)
    api = ApiProcess(tmp_path, child_env(store, api_keys_file=str(keys_file(tmp_path)))).start()
    answers: list[int | str] = []

    def post() -> None:
        with api.client(INGEST_KEY) as client:
            try:
                answers.append(upload(client, new_pkg).status_code)
            except httpx.HTTPError as e:  # the server died under the request
                answers.append(type(e).__name__)

    poster = threading.Thread(target=post)
    poster.start()
    time.sleep(fraction * reference.upload_seconds)
    api.kill()
    poster.join(timeout=60)
    found = outcome(StudyState.read(store), reference)
    print(f"HTTP kill at {fraction:.2f} x {reference.upload_seconds:.1f} s: answer {answers}, store {found}")
    assert found in ("before", "after")
    assert answers != [201] or found == "after"  # an acknowledged upload is durable

    api.start()  # same store, same port
    try:
        with api.client(INGEST_KEY) as client:
            assert upload(client, new_pkg).status_code == 201
        with api.client(READ_KEY) as client:
            assert client.get(f"/studies/{STUDY}").status_code == 200
    finally:
        api.stop()
    assert outcome(StudyState.read(store), reference) == "after"
