"""Schemathesis over the whole OpenAPI schema of the live, hardened app (fixture study, every scope).

No generated request may get a 5xx answer, and every answer must match the schema the app publishes
for it. Budget: FUZZ_EXAMPLES per operation; raise it locally to dig deeper.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from qualkg.store import open_store
from tests.badinputs.conftest import ALL_KEY, hardened_app
from tests.conftest import fixture_store, serve

FUZZ_EXAMPLES = 15


# The schema is read from the app object (cheap: nothing is served or loaded); the requests go to a live
# uvicorn serving the same app over the fixture study.
schema = schemathesis.openapi.from_dict(hardened_app(open_store("oxigraph", path=None)).openapi())


@pytest.fixture(scope="module")
def live_url() -> Iterator[str]:
    server, thread = serve(hardened_app(fixture_store(), min_cell_count=2, query_timeout_s=2))
    yield f"http://127.0.0.1:{server.config.port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.mark.servers
@schema.parametrize()
@settings(max_examples=FUZZ_EXAMPLES, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
def test_no_server_error_and_answers_match_the_schema(case: schemathesis.Case, live_url: str) -> None:
    case.call_and_validate(base_url=live_url, headers={"Authorization": f"Bearer {ALL_KEY}"},
                           checks=[not_a_server_error, response_schema_conformance])
