"""The soak of tests/soak/soak.py for 60 s in the suite (`make soak` runs it for 10 minutes).

One run (module fixture), several checks, so each property fails on its own. The expected counts
are not typed in: the quiet run before the load is the baseline (see soak.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.soak.soak import SoakConfig, SoakReport, run_soak

pytestmark = pytest.mark.servers
CONFIG = SoakConfig(seconds=60.0)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> SoakReport:
    result = run_soak(CONFIG, Path(tmp_path_factory.mktemp("soak")))
    print(result.summary())
    return result


def test_load_was_applied(report: SoakReport) -> None:
    """At least 95 % of the scheduled requests were sent and answered, and ingests ran alongside."""
    assert report.requests >= 0.95 * CONFIG.rate * CONFIG.seconds
    assert report.ingests >= CONFIG.ingest_workers


def test_no_errors(report: SoakReport) -> None:
    assert report.errors == 0, report.statuses
    assert report.ingest_failures == []
    assert report.server_errors_logged == 0


def test_no_answer_beyond_the_configured_timeout(report: SoakReport) -> None:
    assert report.timeouts == 0
    assert report.max_ms < CONFIG.timeout_s * 1000


def test_counts_never_move(report: SoakReport) -> None:
    """Re-ingesting identical packages must not change any count, neither while it runs nor after."""
    assert report.changed_during == []
    assert report.changed_after == []
