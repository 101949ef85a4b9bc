"""The fault tests' data: two versions of one synthetic study and the store states they give.

`old_pkg`/`new_pkg` (study `fault-study`), `old_store` (the model and `old_pkg`, closed) and `reference`
(the state after an uninterrupted ingest of `new_pkg`, and how long it took by CLI and by upload).
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from qualkg.ingest.pipeline import ingest
from qualkg.settings import Settings
from qualkg.wiring import build_store
from tests.faults.harness import (
    INGEST_KEY,
    IRIS,
    ApiProcess,
    StudyState,
    child_env,
    cli_ingest,
    keys_file,
    package_zip,
    upload,
)

# ~400 new excerpts keep `qualkg ingest` running a few seconds, so a kill lands inside it. Both packages
# are named fault-study.zip, so the provenance triples (file name, digest) that the CLI and an upload write
# are the same and one reference serves both.
OLD_EXCERPTS, NEW_EXCERPTS = 150, 400


@dataclass(frozen=True)
class Reference:
    old: StudyState
    new: StudyState
    cli_seconds: float  # wall time of the uninterrupted CLI run, process start to exit
    upload_seconds: float  # wall time of an uninterrupted POST /studies, request to answer


@pytest.fixture(scope="session")
def old_pkg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return package_zip(tmp_path_factory.mktemp("old"), OLD_EXCERPTS, seed=3)


@pytest.fixture(scope="session")
def new_pkg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return package_zip(tmp_path_factory.mktemp("new"), NEW_EXCERPTS, seed=5)


@pytest.fixture(scope="session")
def old_store(tmp_path_factory: pytest.TempPathFactory, old_pkg: Path) -> Path:
    path = tmp_path_factory.mktemp("old-store") / "store"
    store = build_store(Settings(store_path=path))
    try:
        ingest(old_pkg, store, IRIS)
    finally:
        store.close()
    return path


def upload_seconds(old_store: Path, package: Path, work: Path) -> float:
    """Time one upload of `package` to a server on a copy of `old_store`."""
    folder = work / "upload"
    folder.mkdir()
    api = ApiProcess(folder, child_env(copy_store(old_store, folder), api_keys_file=str(keys_file(folder)))).start()
    try:
        with api.client(INGEST_KEY) as client:
            started = time.monotonic()
            assert upload(client, package).status_code == 201
            return time.monotonic() - started
    finally:
        api.stop()


def copy_store(source: Path, folder: Path) -> Path:
    """A private copy of a closed store directory."""
    return Path(shutil.copytree(source, folder / "store"))


@pytest.fixture(scope="session")
def reference(tmp_path_factory: pytest.TempPathFactory, old_store: Path, new_pkg: Path) -> Reference:
    # the "after" state every interrupted run is compared with; the kill points are fractions of its times
    work = tmp_path_factory.mktemp("reference")
    store = copy_store(old_store, work)
    started = time.monotonic()
    code = cli_ingest(new_pkg, store, work).wait(timeout=300)
    seconds = time.monotonic() - started
    assert code == 0, (work / "cli.log").read_text()
    ref = Reference(StudyState.read(old_store), StudyState.read(store), seconds,
                    upload_seconds(old_store, new_pkg, work))
    assert ref.old.study != ref.new.study and len(ref.new.log) == 1  # two distinguishable states
    return ref
