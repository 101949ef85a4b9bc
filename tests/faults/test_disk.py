"""A full disk and a read-only filesystem under the embedded store, through the CLI and the API.

Every write is refused with a message naming the cause, and once reopened the store holds exactly the
old state (conftest.py); with space freed the same command succeeds.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.faults.conftest import Reference
from tests.faults.harness import (
    INGEST_KEY,
    READ_KEY,
    STUDY,
    ApiProcess,
    StudyState,
    child_env,
    cli_ingest,
    keys_file,
    remount,
    tmpfs,
    upload,
    used_kib,
)

pytestmark = pytest.mark.servers
# "Full": the tmpfs shrunk to what the store already uses plus 2 MiB, room for opening the store and
# rewriting the model, not for the new study (its write needs ~10 MiB of log).
ROOM_KIB = 2048
NO_SPACE = "No space left on device"
READ_ONLY = "Read-only file system"


def store_on_tmpfs(mount: Path, old_store: Path) -> Path:
    # a mount, since the suite runs as root and root ignores file permissions: `chmod` cannot make a
    # directory read-only for it, a read-only mount can
    return Path(shutil.copytree(old_store, mount / "store"))


def fill(mount: Path) -> None:
    remount(mount, f"size={used_kib(mount) + ROOM_KIB}k")


@dataclass(frozen=True)
class CliRun:
    code: int
    log: str
    state: StudyState  # after the refused run
    rerun_code: int  # the same command once space is freed
    rerun_state: StudyState


@pytest.fixture(scope="module")
def cli_disk_full(tmp_path_factory: pytest.TempPathFactory, old_store: Path, new_pkg: Path) -> Iterator[CliRun]:
    """`qualkg ingest` of the new study into a full disk; then, space freed, the same command again."""
    work = tmp_path_factory.mktemp("cli-full")
    with tmpfs(work / "disk") as mount:
        store = store_on_tmpfs(mount, old_store)
        fill(mount)
        code = cli_ingest(new_pkg, store, work).wait(timeout=300)
        log = (work / "cli.log").read_text()
        remount(mount, "size=256m")
        state = StudyState.read(store)
        rerun = cli_ingest(new_pkg, store, work).wait(timeout=300)
        yield CliRun(code, log, state, rerun, StudyState.read(store))


def test_cli_disk_full_writes_nothing(cli_disk_full: CliRun, reference: Reference) -> None:
    assert cli_disk_full.code != 0
    assert NO_SPACE in cli_disk_full.log
    assert cli_disk_full.state == reference.old


def test_cli_disk_full_is_a_clear_error(cli_disk_full: CliRun) -> None:
    assert "Traceback" not in cli_disk_full.log


def test_cli_disk_full_then_freed_rerun_succeeds(cli_disk_full: CliRun, reference: Reference) -> None:
    assert cli_disk_full.rerun_code == 0
    assert cli_disk_full.rerun_state.study == reference.new.study
    assert cli_disk_full.rerun_state.model_triples == reference.new.model_triples


def test_api_disk_full_is_503_and_recovers_after_restart(tmp_path: Path, old_store: Path, new_pkg: Path,
                                                         old_pkg: Path, reference: Reference) -> None:
    """Upload into a full disk: 503 naming the cause (not the path), reads unaffected, nothing written. RocksDB
    then refuses every write (its background error) until the store is reopened: uploads stay 503
    after space is freed, and a restart brings writes back."""
    with tmpfs(tmp_path / "disk") as mount:
        store = store_on_tmpfs(mount, old_store)
        api = ApiProcess(tmp_path, child_env(store, api_keys_file=str(keys_file(tmp_path)))).start()
        try:
            fill(mount)
            with api.client(INGEST_KEY) as ingest_client, api.client(READ_KEY) as read:
                before = read.get(f"/studies/{STUDY}").json()
                full = upload(ingest_client, new_pkg)
                assert full.status_code == 503, full.text
                assert NO_SPACE in full.json()["detail"] and full.headers["retry-after"] == "5"
                assert str(mount) not in full.text  # the cause, not where the store lives
                assert read.get(f"/studies/{STUDY}").json() == before
                remount(mount, "size=256m")
                assert upload(ingest_client, old_pkg).status_code == 503  # still refused until reopened
            api.stop()
            assert StudyState.read(store) == reference.old
            api.start()
            with api.client(INGEST_KEY) as ingest_client:
                assert upload(ingest_client, new_pkg).status_code == 201
        finally:
            api.stop()
        assert StudyState.read(store).study == reference.new.study


@dataclass(frozen=True)
class ReadOnlyRuns:
    cli_code: int
    cli_log: str
    api_error: str
    api_code: int | None
    state: StudyState


@pytest.fixture(scope="module")
def read_only(tmp_path_factory: pytest.TempPathFactory, old_store: Path, new_pkg: Path) -> Iterator[ReadOnlyRuns]:
    """The store on a filesystem mounted read-only: `qualkg ingest`, then starting the API on it."""
    work = tmp_path_factory.mktemp("read-only")
    with tmpfs(work / "disk") as mount:
        store = store_on_tmpfs(mount, old_store)
        remount(mount, "ro")
        code = cli_ingest(new_pkg, store, work).wait(timeout=300)
        api = ApiProcess(work, child_env(store, api_keys_file=str(keys_file(work))))
        try:
            api.start()
            error = "started"
        except RuntimeError as e:
            error = str(e)
        finally:
            api.stop()
        remount(mount, "rw")
        yield ReadOnlyRuns(code, (work / "cli.log").read_text(), error,
                           api.process.returncode if api.process else None, StudyState.read(store))


def test_cli_read_only_store_is_refused(read_only: ReadOnlyRuns, reference: Reference) -> None:
    assert read_only.cli_code != 0
    assert READ_ONLY in read_only.cli_log and "cannot open Oxigraph store" in read_only.cli_log
    assert read_only.state == reference.old


def test_api_refuses_to_start_on_a_read_only_store(read_only: ReadOnlyRuns) -> None:
    """The app opens the store read-write when it is built, so it cannot serve (not even 503s):
    uvicorn exits non-zero with the store's message."""
    assert read_only.api_code not in (None, 0)
    assert READ_ONLY in read_only.api_error and "cannot open Oxigraph store" in read_only.api_error
