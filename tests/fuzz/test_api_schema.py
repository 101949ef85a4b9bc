"""Schemathesis over the whole OpenAPI schema of the live, hardened app (fixture study).

No generated request, with an all-scopes key or an aggregate-only key, gets a 5xx answer, and every
answer matches the schema the app publishes for it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import response_schema_conformance

from qualkg.store import open_store
from tests.badinputs.conftest import AGGREGATE_KEY, ALL_KEY, hardened_app
from tests.conftest import fixture_store, serve

# After an unhandled error the app still answers (api/middleware.py LastResort), so a 500 here is a finding,
# never a cut connection. FUZZ_EXAMPLES per operation: raise it locally to dig deeper.
FUZZ_EXAMPLES = 15
# path parameters that name a thing take a real one, so the operations get past their 404
REAL = {"path.study": "fx", "path.qid": "challenges-by-context", "path.name": "role"}

# The schema is read from the app object (cheap: nothing is served or loaded); the requests go to a live
# uvicorn serving the same app over the fixture study.
schema = schemathesis.openapi.from_dict(hardened_app(open_store("oxigraph", path=None)).openapi(),
                                        config=SchemathesisConfig.from_dict({"parameters": REAL}))


@pytest.fixture(scope="module")
def live_url() -> Iterator[str]:
    server, thread = serve(hardened_app(fixture_store(), min_cell_count=2, query_timeout_s=2))
    yield f"http://127.0.0.1:{server.config.port}"
    server.should_exit = True
    thread.join(timeout=10)


def _check(case: schemathesis.Case, url: str, key: str) -> None:
    case.call_and_validate(base_url=url, headers={"Authorization": f"Bearer {key}"},
                           checks=[not_a_server_error, response_schema_conformance])


@pytest.mark.servers
@schema.parametrize()
@settings(max_examples=FUZZ_EXAMPLES, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
def test_no_server_error_and_answers_match_the_schema(case: schemathesis.Case, live_url: str) -> None:
    _check(case, live_url, ALL_KEY)


@pytest.mark.servers
@schema.parametrize()
@settings(max_examples=FUZZ_EXAMPLES, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
def test_no_server_error_for_an_aggregate_caller(case: schemathesis.Case, live_url: str) -> None:
    _check(case, live_url, AGGREGATE_KEY)
