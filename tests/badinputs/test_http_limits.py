"""Hostile HTTP on a live, hardened app (api/middleware.py): headers, CORS, body limits, CSV injection.

Limits of the server under test (tests/badinputs/conftest.py `Policy`): uploads up to 1 MiB (plus
the 64 KiB multipart envelope), any other body up to 64 KiB, CORS off unless origins are given.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import httpx
import pytest

from qualkg.api.middleware import MULTIPART_ENVELOPE
from tests.badinputs.conftest import (
    ALL_KEY,
    EXCERPTS_KEY,
    INGEST_KEY,
    Hostile,
    Policy,
    empty_store,
    hardened_app,
)
from tests.conftest import serve

POLICY = Policy()
ALLOWED_ORIGIN = "https://review-team.example"
EVIL_ORIGIN = "https://evil.example"

pytestmark = pytest.mark.servers


def _live(policy: Policy) -> Iterator[Hostile]:
    store = empty_store()
    server, thread = serve(hardened_app(store, policy))
    yield Hostile(f"http://127.0.0.1:{server.config.port}", store)
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def limits() -> Iterator[Hostile]:
    yield from _live(POLICY)


@pytest.fixture(scope="module")
def cors() -> Iterator[Hostile]:
    yield from _live(Policy(cors_origins=(ALLOWED_ORIGIN,)))


def client(server: Hostile, key: str | None = None) -> httpx.Client:
    return httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {key}"} if key else {}, timeout=30)


# ---------------------------------------------------------------- security headers

ANSWERS = [  # (request, key, status): headers must be on successes and refusals alike
    ("GET /health", None, 200),
    ("GET /questions", ALL_KEY, 200),
    ("GET /excerpts?format=csv", ALL_KEY, 200),
    ("GET /studies", None, 401),
    ("GET /studies", INGEST_KEY, 403),
    ("GET /studies/nope", ALL_KEY, 404),
    ("GET /openapi.json", None, 200),
]


@pytest.mark.parametrize(("request_line", "key", "status"), ANSWERS, ids=[f"{r} -> {s}" for r, _, s in ANSWERS])
def test_security_headers(limits: Hostile, request_line: str, key: str | None, status: int) -> None:
    method, path = request_line.split(" ", 1)
    with client(limits, key) as c:
        r = c.request(method, path)
    assert r.status_code == status
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"


def test_docs_page_may_load_its_scripts_but_not_be_framed(limits: Hostile) -> None:
    with client(limits) as c:
        r = c.get("/docs")
    assert r.status_code == 200 and r.headers["content-security-policy"] == "frame-ancestors 'none'"
    assert r.headers["x-frame-options"] == "DENY"


# ---------------------------------------------------------------- CORS


def test_cors_off_unless_configured(limits: Hostile) -> None:
    """No origin is allowed by default: no Access-Control-Allow-Origin, and a preflight is not granted."""
    with client(limits) as c:
        simple = c.get("/health", headers={"Origin": EVIL_ORIGIN})
        preflight = c.options("/questions", headers={"Origin": EVIL_ORIGIN, "Access-Control-Request-Method": "GET"})
    assert simple.status_code == 200 and "access-control-allow-origin" not in simple.headers
    assert preflight.status_code == 405 and "access-control-allow-origin" not in preflight.headers


@pytest.mark.parametrize(("origin", "allowed"), [(ALLOWED_ORIGIN, True), (EVIL_ORIGIN, False)])
def test_cors_only_for_configured_origins(cors: Hostile, origin: str, allowed: bool) -> None:
    with client(cors) as c:
        simple = c.get("/health", headers={"Origin": origin})
        preflight = c.options("/questions", headers={"Origin": origin, "Access-Control-Request-Method": "GET",
                                                     "Access-Control-Request-Headers": "authorization"})
    assert simple.headers.get("access-control-allow-origin") == (origin if allowed else None)
    assert preflight.status_code == (200 if allowed else 400)
    assert "access-control-allow-credentials" not in preflight.headers  # keys travel in headers, never cookies


# ---------------------------------------------------------------- request size


def _multipart(size: int, boundary: str = "qualkg-boundary") -> tuple[bytes, str]:
    """A multipart upload of a `size`-byte CSV (its content is irrelevant: it must not get that far)."""
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.csv\"\r\n"
            "Content-Type: text/csv\r\n\r\n").encode()
    return head + b"x" * size + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


@pytest.mark.parametrize("size", [POLICY.max_upload_bytes + 1, POLICY.max_upload_bytes + MULTIPART_ENVELOPE + 1,
                                  20 * POLICY.max_upload_bytes])
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_upload_over_the_limit_is_refused(limits: Hostile, size: int, chunked: bool) -> None:
    """Over max_upload_bytes the route refuses; over it plus the envelope the middleware refuses while the
    body streams in (a chunked body declares no length). Either way 413 and nothing written."""
    body, ctype = _multipart(size)
    content = iter([body[i:i + 65536] for i in range(0, len(body), 65536)]) if chunked else body
    before = limits.store.graphs()  # the formula test's upload may already be there: any test order
    with client(limits, INGEST_KEY) as c:
        r = c.post("/studies", content=content, headers={"Content-Type": ctype})
    assert r.status_code == 413, r.text[:200]
    assert limits.store.graphs() == before


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_other_bodies_are_small(limits: Hostile, chunked: bool) -> None:
    """A SPARQL POST over max_body_bytes is refused before it is parsed."""
    query = b"ASK { ?s ?p ?o } #" + b"x" * POLICY.max_body_bytes
    content = iter([query[:1000], query[1000:]]) if chunked else query
    with client(limits, ALL_KEY) as c:
        r = c.post("/sparql", content=content, headers={"Content-Type": "application/sparql-query"})
    assert r.status_code == 413


def test_small_bodies_pass(limits: Hostile) -> None:
    with client(limits, ALL_KEY) as c:
        r = c.post("/sparql", content=b"ASK { ?s ?p ?o }", headers={"Content-Type": "application/sparql-query",
                                                                     "Accept": "application/sparql-results+json"})
    assert r.status_code == 200 and r.json()["boolean"] is True


# ---------------------------------------------------------------- formulas: kept as text, defused on export

FORMULA_CSV = (b'id,document,tag,content\n'
               b'1,doc1,pay,"=HYPERLINK(""http://example.invalid"",""SYNTHETIC click"")"\n'
               b'2,doc1,hours,"SYNTHETIC the hours are long"\n')


def test_formulas_are_kept_as_text_and_defused_on_export(limits: Hostile) -> None:
    """The upload is accepted with a formula-injection warning on row 2; the CSV export of the excerpt
    starts with an apostrophe, so a spreadsheet shows it as text instead of running it."""
    with client(limits, INGEST_KEY) as c:
        up = c.post("/studies", files={"file": ("formula.csv", FORMULA_CSV)}, data={"study": "formula-test"})
    assert up.status_code == 201, up.text
    warnings = up.json()["warnings"]
    assert any(w["rule"] == "formula-injection" and w["row"] == 2 and w["field"] == "content" for w in warnings)
    with client(limits, EXCERPTS_KEY) as c:
        r = c.get("/excerpts", params={"study": "formula-test", "format": "csv"})
    rows = list(csv.DictReader(io.StringIO(r.text)))
    texts = sorted(row["text"] for row in rows)
    assert texts == ["'=HYPERLINK(\"http://example.invalid\",\"SYNTHETIC click\")", "SYNTHETIC the hours are long"]
