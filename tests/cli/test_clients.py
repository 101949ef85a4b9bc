"""One server, many clients: a real `qualkg serve` in a child process and the CLI (and qualkg.connect())
run in other processes on the same store folder; keys made by command, honoured without a restart."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

MINIMAL = Path(__file__).parents[1] / "ingest" / "data" / "package" / "minimal"  # study fixture-study, 5 excerpts
ROOT = Path(__file__).parents[2]


@dataclass
class Serving:
    folder: Path
    env: dict[str, str]
    url: str

    def cli(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "qualkg", *args], cwd=self.folder, env={**self.env, **env},
                              capture_output=True, text=True, timeout=300)


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def serving(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Serving]:
    """`qualkg serve` on a store that already holds fixture-study (ingested before the server started)."""
    folder = tmp_path_factory.mktemp("clients")
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUALKG_")}
    env |= {"QUALKG_STORE_PATH": str(folder / "store"), "QUALKG_WARM_ANSWERS": "false", "PYTHONPATH": str(ROOT)}
    first = subprocess.run([sys.executable, "-m", "qualkg", "ingest", str(MINIMAL)], cwd=folder, env=env,
                           capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    port = _port()
    with (folder / "serve.log").open("wb") as log:
        server = subprocess.Popen([sys.executable, "-m", "qualkg", "serve", "--port", str(port)], cwd=folder,
                                  env=env, stdout=log, stderr=subprocess.STDOUT)
    record = folder / "store.server.json"
    deadline = time.monotonic() + 120
    while not record.exists():
        assert server.poll() is None and time.monotonic() < deadline, (folder / "serve.log").read_text()
        time.sleep(0.2)
    yield Serving(folder, env, f"http://127.0.0.1:{port}")
    server.terminate()
    server.wait(timeout=60)
    assert not record.exists()  # removed on stop


def test_the_server_records_its_address_beside_the_store(serving: Serving) -> None:
    record = json.loads((serving.folder / "store.server.json").read_text())
    assert record["url"] == serving.url
    assert httpx.get(f"{serving.url}/health").status_code == 200


def test_reads_work_beside_the_running_server(serving: Serving) -> None:
    listed = serving.cli("studies", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [s["id"] for s in json.loads(listed.stdout)] == ["fixture-study"]
    script = "import qualkg\nkg = qualkg.connect()\nprint(sorted(kg.ask('studies')['excerpts'].tolist()))"
    python = subprocess.run([sys.executable, "-c", script], cwd=serving.folder, env=serving.env,
                            capture_output=True, text=True, timeout=300)
    assert python.returncode == 0, python.stderr
    assert python.stdout.strip() == "[5]"  # the five rows of excerpts.csv


def test_keys_by_command_are_honoured_and_revoked_live(serving: Serving) -> None:
    made = serving.cli("keys", "create", "--name", "uploader", "--scopes", "ingest", "--scopes", "aggregate")
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip()
    assert key.startswith("qk_") and key not in (serving.folder / "store.keys.json").read_text()
    auth = {"Authorization": f"Bearer {key}"}
    assert httpx.get(f"{serving.url}/studies", headers=auth).status_code == 200  # no restart
    listed = json.loads(serving.cli("keys", "list", "--json").stdout)
    assert [(k["name"], k["scopes"], k["revoked"]) for k in listed] == [("uploader", ["aggregate", "ingest"], False)]
    assert serving.cli("keys", "revoke", "uploader").returncode == 0
    refused = httpx.get(f"{serving.url}/studies", headers=auth)
    assert refused.status_code == 401 and "revoked" in refused.json()["detail"]


def test_an_expired_key_is_refused(serving: Serving) -> None:
    made = serving.cli("keys", "create", "--name", "old", "--scopes", "aggregate", "--expires", "2020-01-01")
    assert made.returncode == 0, made.stderr
    refused = httpx.get(f"{serving.url}/studies", headers={"Authorization": f"Bearer {made.stdout.strip()}"})
    assert refused.status_code == 401 and "expired" in refused.json()["detail"]


def test_writes_go_through_the_server_with_a_key(serving: Serving, tmp_path: Path) -> None:
    key = serving.cli("keys", "create", "--name", "writer", "--scopes", "ingest").stdout.strip()
    keyfile = tmp_path / "key"
    keyfile.write_text(key + "\n")
    refused = serving.cli("ingest", str(MINIMAL))  # a loopback caller gets no ingest scope without a key
    assert refused.returncode == 1 and "QUALKG_KEY" in refused.stderr
    sent = serving.cli("ingest", str(MINIMAL), QUALKG_KEY_FILE=str(keyfile))  # the folder sent as a .zip
    assert sent.returncode == 0, sent.stderr
    assert "fixture-study" in sent.stdout
    edited = serving.cli("edit", "fixture-study", "--title", "Renamed study", QUALKG_KEY=key)
    assert edited.returncode == 0, edited.stderr
    titles = [s["title"] for s in json.loads(serving.cli("studies", "--json").stdout)]
    assert titles == ["Renamed study"]
    served = httpx.get(f"{serving.url}/questions/studies", timeout=60).json()["rows"]  # the server's own answer
    assert [r["title"] for r in served] == ["Renamed study"]
    deleted = serving.cli("delete", "fixture-study", QUALKG_KEY=key)
    assert deleted.returncode == 0, deleted.stderr
    assert json.loads(serving.cli("studies", "--json").stdout) == []
    assert httpx.get(f"{serving.url}/questions/studies", timeout=60).json()["rows"] == []
    again = serving.cli("ingest", str(MINIMAL), QUALKG_KEY=key)
    assert again.returncode == 0, again.stderr
    assert "fixture-study" in again.stdout
    assert serving.cli("delete", "no-such-study", QUALKG_KEY=key).returncode == 1


def test_a_write_with_no_route_through_the_server_is_refused_in_one_line(serving: Serving, tmp_path: Path) -> None:
    """`mappings import` writes the synthesis graph itself (here: an empty one, from an empty folder): beside
    the server it is refused, saying where writes go, with nothing written and no traceback."""
    refused = serving.cli("mappings", "import", "--dir", str(tmp_path))
    assert refused.returncode == 1
    assert f"the server at {serving.url} writes the store" in refused.stderr and "Traceback" not in refused.stderr
