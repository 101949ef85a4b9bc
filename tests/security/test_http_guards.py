"""HTTP guards on a live uvicorn (issue 16, items 4, 7 and 8).

Uploads are checked before their body and name no server path (decision 0065); open scopes only for a
loopback caller no untrusted proxy forwarded (decision 0066); every request is answered, and the
keep-alive connection stays usable after an unhandled error (decision 0067).
"""

from __future__ import annotations

import io
import ipaddress
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import openpyxl
import psutil
import pytest
import uvicorn
from fastapi import FastAPI

from qualkg.api.app import create_app
from qualkg.api.config import ApiConfig, ApiKey
from qualkg.api.middleware import MULTIPART_ENVELOPE
from qualkg.api.security import key_hash, local_caller, resolve_principal
from qualkg.app import api_config
from qualkg.queries.catalog import default_catalog
from qualkg.settings import Settings
from tests.conftest import fixture_store, serve

pytestmark = pytest.mark.servers

INGEST_KEY, AGGREGATE_KEY, SPARQL_KEY = "guards-ingest-key", "guards-aggregate-key", "guards-sparql-key"
KEYS = [ApiKey(key_sha256=key_hash(INGEST_KEY), name="steward", scopes=frozenset({"ingest"})),
        ApiKey(key_sha256=key_hash(AGGREGATE_KEY), name="reviewer", scopes=frozenset({"aggregate"})),
        ApiKey(key_sha256=key_hash(SPARQL_KEY), name="power", scopes=frozenset({"sparql"}))]
LIMIT = 64 * 1024 * 1024  # max_upload_bytes of the upload server
BIG = 40 * 1024 * 1024  # under the limit: only the key and the scope can refuse it
LOCAL = frozenset({"aggregate", "excerpts"})
BOUNDARY = "guards-boundary"
CTYPE = f"multipart/form-data; boundary={BOUNDARY}"


def _stop(server: uvicorn.Server, thread: threading.Thread) -> None:
    server.should_exit = True
    thread.join(timeout=10)


def _app(**config: object) -> FastAPI:
    return create_app(ApiConfig(keys=KEYS, **config), fixture_store(), default_catalog())


@pytest.fixture(scope="module")
def uploads() -> Iterator[str]:
    server, thread = serve(_app(max_upload_bytes=LIMIT))
    yield f"http://127.0.0.1:{server.config.port}"
    _stop(server, thread)


def held_in(folder: Path, pid: int | None = None) -> int:
    """Bytes a process (this one by default) holds in `folder`: its files, and files it holds open there
    but already unlinked (Starlette spools a form's file into a TemporaryFile, which has no name at all)."""
    total = 0
    for root, _, names in os.walk(folder):  # os.walk skips a folder removed while it walks (rglob raises)
        for name in names:
            try:
                total += os.stat(os.path.join(root, name)).st_size
            except OSError:
                continue  # removed while we looked
    fds = f"/proc/{pid or os.getpid()}/fd"
    for fd in os.listdir(fds):
        try:
            target = os.readlink(f"{fds}/{fd}")
            if target.startswith(f"{folder}/") and target.endswith("(deleted)"):
                total += os.stat(f"{fds}/{fd}").st_size
        except OSError:
            continue
    return total


def _upload_parts(size: int, name: str = "big.csv") -> tuple[bytes, int, bytes]:
    head = (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
            "Content-Type: text/csv\r\n\r\n").encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    return head, size, tail


class Watched:
    """A multipart upload of `size` bytes, sent 1 MiB at a time, sampling the temporary folder after each."""

    def __init__(self, size: int, folder: Path) -> None:
        self.head, self.size, self.tail = _upload_parts(size)
        self.folder, self.peak, self.sent = folder, 0, 0

    @property
    def length(self) -> int:
        return len(self.head) + self.size + len(self.tail)

    def __iter__(self) -> Iterator[bytes]:
        yield self.head
        chunk = b"x" * (1 << 20)
        while self.sent < self.size:
            part = chunk[: self.size - self.sent]
            yield part
            self.sent += len(part)
            time.sleep(0.002)  # let the server's thread take what it reads
            self.peak = max(self.peak, held_in(self.folder))
        yield self.tail


@pytest.fixture
def server_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The temporary folder of the servers in this process (Starlette's spool, the upload route's folder)."""
    # the servers run in this process, so their temporary folder is `tempfile.tempdir`; a spooled upload lives
    # in a file unlinked at once, so `held_in` counts open files too
    folder = tmp_path / "server-tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


# ---------------------------------------------------------------- item 4: uploads checked before their body


@pytest.mark.parametrize(("key", "status"), [(None, 401), (AGGREGATE_KEY, 403)], ids=["no key", "wrong scope"])
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_refused_upload_puts_nothing_in_the_temporary_folder(uploads: str, server_tmp: Path, key: str | None,
                                                               status: int, chunked: bool) -> None:
    """40 MiB, under the limit: before, it was spooled in full before the 401/403 (peak ≈ the upload)."""
    body = Watched(BIG, server_tmp)
    headers = {"Content-Type": CTYPE, **({} if chunked else {"Content-Length": str(body.length)})}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    with httpx.Client(base_url=uploads, timeout=60) as c:
        r = c.post("/studies", content=iter(body), headers=headers)
    assert r.status_code == status, r.text
    assert body.sent == BIG and body.peak == 0, f"{body.peak} bytes held while {body.sent} were sent"
    assert held_in(server_tmp) == 0


def test_four_parallel_unauthenticated_uploads_hold_nothing(tmp_path: Path) -> None:
    """The issue's figure, on a uvicorn child as operators run it (`--factory qualkg.app:build_app`, keys
    required, TMPDIR its own): 4 × 150 MB without a key, in parallel. Before: 596 MiB held in TMPDIR."""
    tmpdir, size = tmp_path / "tmpdir", 150 * 1024 * 1024
    tmpdir.mkdir()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("QUALKG_")}, "TMPDIR": str(tmpdir),
           "QUALKG_STORE_PATH": str(tmp_path / "store"), "QUALKG_WARM_ANSWERS": "false", "QUALKG_HOST": "0.0.0.0"}
    child = subprocess.Popen([sys.executable, "-m", "uvicorn", "--factory", "qualkg.app:build_app", "--host",
                              "127.0.0.1", "--port", str(port), "--log-level", "warning"], env=env, cwd=tmp_path)
    try:
        _wait_healthy(port, child)
        head, _, tail = _upload_parts(size)
        statuses: list[int] = []

        def body() -> Iterator[bytes]:
            yield head
            chunk = b"x" * (1 << 20)
            for _ in range(size >> 20):
                yield chunk
            yield tail

        def upload() -> None:
            r = httpx.post(f"http://127.0.0.1:{port}/studies", content=body(), timeout=120,
                           headers={"Content-Type": CTYPE, "Content-Length": str(len(head) + size + len(tail))})
            statuses.append(r.status_code)

        threads = [threading.Thread(target=upload) for _ in range(4)]
        for t in threads:
            t.start()
        peak = 0
        while any(t.is_alive() for t in threads):
            peak = max(peak, held_in(tmpdir, child.pid))
            time.sleep(0.02)
        print(f"4 x 150 MB unauthenticated: answers {sorted(statuses)}, peak held in TMPDIR {peak / 2**20:.1f} MiB")
        assert statuses == [401] * 4 and peak == 0
    finally:
        child.terminate()
        child.wait(timeout=30)


def _wait_healthy(port: int, child: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and child.poll() is None:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError(f"uvicorn did not start (exit code {child.poll()})")


def _raw(port: int, request: bytes, timeout: float = 10) -> bytes:
    """Send `request` (headers only) and read what comes back until the server stops or the headers end."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(request)
        answer = b""
        while b"\r\n\r\n" not in answer:
            data = s.recv(65536)
            if not data:
                break
            answer += data
    return answer


def _upload_headers(length: int, key: str | None = None, expect: bool = False) -> bytes:
    lines = ["POST /studies HTTP/1.1", "Host: 127.0.0.1", f"Content-Type: {CTYPE}", f"Content-Length: {length}"]
    lines += [f"Authorization: Bearer {key}"] if key else []
    lines += ["Expect: 100-continue"] if expect else []
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


@pytest.mark.parametrize(("key", "status"), [(None, b"401"), (AGGREGATE_KEY, b"403")], ids=["no key", "wrong scope"])
def test_the_body_of_a_refused_upload_is_never_asked_for(uploads: str, key: str | None, status: bytes) -> None:
    """With `Expect: 100-continue` the client waits to be asked for the body; before, the route parsed the
    form first, so the server answered `100 Continue` to a caller it then refused."""
    answer = _raw(int(uploads.rsplit(":", 1)[1]), _upload_headers(BIG, key, expect=True))
    assert answer.split(b" ", 2)[:2] == [b"HTTP/1.1", status], answer[:200]


def test_a_declared_length_over_the_limit_is_413_before_the_body_is_sent(uploads: str) -> None:
    answer = _raw(int(uploads.rsplit(":", 1)[1]), _upload_headers(LIMIT + MULTIPART_ENVELOPE + 1, INGEST_KEY))
    status, _, rest = answer.partition(b"\r\n")
    assert status.split(b" ", 2)[:2] == [b"HTTP/1.1", b"413"], answer[:300]
    assert b"application/json" in rest


def test_a_chunked_upload_is_counted_while_it_streams(uploads: str, server_tmp: Path) -> None:
    """No declared length: the file part is counted as it arrives and refused past the limit; the folder
    never holds more than the limit."""
    body = Watched(LIMIT + 8 * 1024 * 1024, server_tmp)
    with httpx.Client(base_url=uploads, timeout=60, headers={"Authorization": f"Bearer {INGEST_KEY}"}) as c:
        r = c.post("/studies", content=iter(body), headers={"Content-Type": CTYPE})
    assert r.status_code == 413, r.text
    assert body.peak <= LIMIT and held_in(server_tmp) == 0


def _xxe_workbook() -> bytes:
    """A coded-segments workbook whose sheet declares an external entity (refused by the reader)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["id", "document", "tag", "content"])
    ws.append(["1", "doc1", "pay", "SYNTHETIC x"])
    plain = io.BytesIO()
    wb.save(plain)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(plain.getvalue())) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = (b'<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
                        + data.replace(b"SYNTHETIC x", b"&xxe;"))
            zout.writestr(info, data)
    return out.getvalue()


def test_a_refusal_names_the_uploaded_file_not_the_server_folder(uploads: str, server_tmp: Path) -> None:
    """The workbook reader's message named the file by its server path (".../qualkg-upload-…/xxe.xlsx")."""
    with httpx.Client(base_url=uploads, timeout=60, headers={"Authorization": f"Bearer {INGEST_KEY}"}) as c:
        r = c.post("/studies", files={"file": ("xxe.xlsx", _xxe_workbook())})
    assert r.status_code == 422, r.text
    [problem] = r.json()["problems"]
    assert problem["file"] == "xxe.xlsx"
    assert "qualkg-upload-" not in r.text and str(server_tmp) not in r.text and tempfile.gettempdir() not in r.text


def test_answers_cut_qualkg_temporary_folders_only(server_tmp: Path) -> None:
    """Whatever a reader puts in its message, the upload route's answer names the file by its own name; a
    path that is input (an archive member called /tmp/evil.txt) stays."""
    from qualkg.api.routes.studies import _cut_folders

    upload, coded = server_tmp / "qualkg-upload-a1b2" / "xxe.xlsx", server_tmp / "qualkg-coded-c3" / "p.qdpx"
    assert _cut_folders({"message": f"could not read worksheets from {upload}.", "rows": [f"{coded}: bad"],
                         "element": "/tmp/evil.txt", "row": 3}) == \
        {"message": "could not read worksheets from xxe.xlsx.", "rows": ["p.qdpx: bad"], "element": "/tmp/evil.txt",
         "row": 3}


def test_an_upload_still_reads_its_fields(uploads: str) -> None:
    csv = b"id,document,tag,content\n1,doc1,pay.low,SYNTHETIC: guards upload\n"
    with httpx.Client(base_url=uploads, timeout=60, headers={"Authorization": f"Bearer {INGEST_KEY}"}) as c:
        ok = c.post("/studies", files={"file": ("t.csv", csv)}, data={"study": "guards-x", "dry_run": "true"})
        bad = c.post("/studies", files={"file": ("t.csv", csv)}, data={"study": "no spaces", "dry_run": "true"})
        none = c.post("/studies", data={"study": "guards-x"}, files={"other": ("t.txt", b"")})
    assert ok.status_code == 200 and [s["study"] for s in ok.json()["studies"]] == ["guards-x"], ok.text
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "study"], bad.text
    assert none.status_code == 400, none.text  # a file part that is not the 'file' field


# ---------------------------------------------------------------- item 7: open scopes from the socket and the peer

LOOP, PEER = ("127.0.0.1", 8000), ("127.0.0.1", 50123)
REMOTE = "203.0.113.9"
RULE = [  # (server end, peer, forwarding headers, trusted proxies, open?)
    (LOOP, PEER, {}, (), True),
    (("::1", 8000), ("::1", 50123), {}, (), True),
    (("::ffff:127.0.0.1", 8000), ("::ffff:127.0.0.1", 50123), {}, (), True),
    (("127.0.0.2", 8000), ("127.0.0.3", 50123), {}, (), True),
    (("192.0.2.2", 8000), PEER, {}, (), False),  # a wildcard-bound server, reached on another address
    (LOOP, ("192.0.2.2", 50123), {}, (), False),  # a peer that is not loopback on a loopback socket
    (("192.0.2.2", 8000), (REMOTE, 50123), {}, (), False),
    (None, PEER, {}, (), False),
    (LOOP, None, {}, (), False),
    (("testserver", 80), ("testclient", 50000), {}, (), False),  # names, not addresses
    (("/run/qualkg.sock", None), ("", 0), {}, (), False),
    (LOOP, PEER, {"x-forwarded-for": REMOTE}, (), False),
    (LOOP, PEER, {"x-forwarded-for": "127.0.0.1"}, (), False),  # a proxy nobody configured
    (LOOP, PEER, {"forwarded": "for=127.0.0.1"}, (), False),
    (LOOP, PEER, {"x-real-ip": "127.0.0.1"}, (), False),
    (LOOP, PEER, {"x-forwarded-for": REMOTE}, ("127.0.0.1",), False),
    (LOOP, PEER, {"x-forwarded-for": "127.0.0.1"}, ("127.0.0.1",), True),
    (LOOP, PEER, {"forwarded": 'for="[::1]:4711";proto=http'}, ("127.0.0.0/8",), True),
    (LOOP, PEER, {"x-forwarded-for": f"127.0.0.1, {REMOTE}"}, ("127.0.0.1",), False),  # appended by the proxy
    (LOOP, PEER, {"x-forwarded-for": f"{REMOTE}, 127.0.0.1"}, ("127.0.0.1",), False),  # a loopback hop added
    (LOOP, PEER, {"forwarded": f"for={REMOTE}", "x-forwarded-for": "127.0.0.1"}, ("127.0.0.1",), False),
    (LOOP, PEER, {"forwarded": "for=unknown"}, ("127.0.0.1",), False),
    (LOOP, PEER, {"forwarded": "by=127.0.0.1"}, ("127.0.0.1",), False),
    (LOOP, ("127.0.0.2", 50123), {"x-forwarded-for": "127.0.0.1"}, ("127.0.0.1",), False),  # not that proxy
]


@pytest.mark.parametrize(("server", "client", "headers", "trusted", "expected"), RULE,
                         ids=[f"{s and s[0]}<-{c and c[0]} {h or ''} trusted={t}" for s, c, h, t, _ in RULE])
def test_who_gets_the_open_scopes(server: tuple[str, int] | None, client: tuple[str, int] | None,
                                  headers: dict[str, str], trusted: tuple[str, ...], expected: bool) -> None:
    assert local_caller(server, client, headers, trusted) is expected


def test_an_anonymous_caller_off_loopback_gets_no_scope() -> None:
    config = ApiConfig(open_scopes=LOCAL)
    assert resolve_principal(None, config, local=True).scopes == LOCAL
    assert resolve_principal(None, config, local=False).scopes == frozenset()
    assert resolve_principal(None, config).scopes == frozenset()  # not local unless told


def _non_loopback_address() -> str:
    """An IPv4 address of one of this machine's interfaces that is not loopback. The tests send only to
    127.0.0.1, from this address; a machine without one cannot run them, and the test says so."""
    for addresses in psutil.net_if_addrs().values():
        for address in addresses:
            if address.family == socket.AF_INET and not ipaddress.ip_address(address.address).is_loopback:
                return str(address.address)
    raise AssertionError("this machine has no non-loopback IPv4 address to send from")


@pytest.fixture(scope="module")
def open_port() -> Iterator[int]:
    """Loopback-bound, open scopes configured (as `make run`), no trusted proxy."""
    server, thread = serve(_app(open_scopes=LOCAL))
    yield server.config.port
    _stop(server, thread)


@pytest.fixture(scope="module")
def proxied_port() -> Iterator[int]:
    """Loopback-bound, open scopes, a trusted proxy on 127.0.0.1."""
    server, thread = serve(_app(open_scopes=LOCAL, trusted_proxies=("127.0.0.1",)))
    yield server.config.port
    _stop(server, thread)


@pytest.fixture(scope="module")
def wildcard_port() -> Iterator[int]:
    """`uvicorn --factory qualkg.app:build_app --host 0.0.0.0` without QUALKG_HOST: the settings say
    loopback, so the config opens aggregate + excerpts; the socket is bound to every address."""
    config = api_config(Settings(_env_file=None))
    assert config.open_scopes == LOCAL
    server, thread = serve(create_app(config, fixture_store(), default_catalog()), host="0.0.0.0")
    yield server.config.port
    _stop(server, thread)


def _excerpts(port: int, headers: dict[str, str] | None = None, source: str | None = None) -> httpx.Response:
    transport = httpx.HTTPTransport(local_address=source) if source else None
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", transport=transport, timeout=30) as c:
        return c.get("/excerpts", headers=headers or {})


def test_a_loopback_caller_gets_the_open_scopes(open_port: int, wildcard_port: int) -> None:
    for port in (open_port, wildcard_port):
        r = _excerpts(port)
        assert r.status_code == 200 and "text" in r.json()["columns"], r.text


@pytest.mark.parametrize("bound", ["127.0.0.1", "0.0.0.0"])
def test_a_peer_off_loopback_gets_no_scope(open_port: int, wildcard_port: int, bound: str) -> None:
    """The peer is this machine's non-loopback address, the destination 127.0.0.1; before, the open scopes
    followed the settings only, so this caller got every excerpt."""
    r = _excerpts(open_port if bound == "127.0.0.1" else wildcard_port, source=_non_loopback_address())
    assert r.status_code == 401, r.text[:200]
    assert "SYNTHETIC" not in r.text


FORWARDED = [{"X-Forwarded-For": REMOTE}, {"X-Forwarded-For": "127.0.0.1"}, {"Forwarded": f"for={REMOTE}"},
             {"Forwarded": "for=127.0.0.1"}, {"X-Real-IP": REMOTE}]


@pytest.mark.parametrize("headers", FORWARDED, ids=[str(h) for h in FORWARDED])
def test_a_request_through_an_unconfigured_proxy_gets_no_scope(open_port: int, headers: dict[str, str]) -> None:
    r = _excerpts(open_port, headers)
    assert r.status_code == 401, r.text[:200]
    assert "SYNTHETIC" not in r.text


@pytest.mark.parametrize(("headers", "status"), [({"X-Forwarded-For": REMOTE}, 401),
                                                 ({"Forwarded": f'for="{REMOTE}:4711"'}, 401),
                                                 ({"X-Forwarded-For": f"127.0.0.1, {REMOTE}"}, 401),
                                                 ({"X-Forwarded-For": "127.0.0.1"}, 200)])
def test_a_trusted_proxy_is_believed(proxied_port: int, headers: dict[str, str], status: int) -> None:
    assert _excerpts(proxied_port, headers).status_code == status


def test_trusted_proxies_are_addresses() -> None:
    with pytest.raises(ValueError, match="does not appear to be an IPv4 or IPv6"):
        ApiConfig(trusted_proxies=("proxy.example",))


# ---------------------------------------------------------------- item 8: every request answered


@pytest.fixture(scope="module")
def failing_port() -> Iterator[int]:
    """The hardened app with one route that fails as no handler expects."""
    app = _app()

    def boom() -> None:
        raise RuntimeError("internal detail: /var/lib/qualkg/secret")

    app.add_api_route("/boom", boom)
    server, thread = serve(app)
    yield server.config.port
    _stop(server, thread)


NESTED = "SELECT * WHERE " + "{" * 300 + " ?s ?p ?o " + "}" * 300  # found by probing /sparql: RecursionError


@pytest.mark.parametrize("failing", ["GET /boom", "POST /sparql nested", "POST /studies unread"])
def test_after_an_unhandled_error_the_connection_still_answers(failing_port: int, failing: str) -> None:
    """One client, one connection: the failing request is answered (500, JSON, no internals), and the next
    request on the same connection is answered too (before, uvicorn closed it: the next one was reset).
    So is the next request after an upload refused without reading its 5 MiB body."""
    with httpx.Client(base_url=f"http://127.0.0.1:{failing_port}", timeout=30,
                      headers={"Authorization": f"Bearer {SPARQL_KEY}"}) as c:
        if failing == "GET /boom":
            first = c.get("/boom")
            assert first.status_code == 500
        elif failing == "POST /studies unread":
            head, size, tail = _upload_parts(5 * 1024 * 1024)
            first = c.post("/studies", content=head + b"x" * size + tail, headers={"Content-Type": CTYPE})
            assert first.status_code == 403
        else:  # a 500 until the endpoint's check stops recursing; either way never a cut connection
            first = c.post("/sparql", content=NESTED.encode(), headers={"Content-Type": "application/sparql-query"})
        peers = {first.extensions["network_stream"].get_extra_info("client_addr")}
        then = []
        for _ in range(3):
            then.append(c.get("/health"))
            peers.add(then[-1].extensions["network_stream"].get_extra_info("client_addr"))
    assert all(r.status_code == 200 for r in then)
    assert len(peers) == 1, peers  # one connection throughout
    if first.status_code == 500:
        assert first.headers["content-type"] == "application/json" and "ref" in first.json()["detail"]
        assert "secret" not in first.text and "/var/lib" not in first.text and "Traceback" not in first.text
        assert first.headers["x-content-type-options"] == "nosniff"  # the hardening headers are on it too
