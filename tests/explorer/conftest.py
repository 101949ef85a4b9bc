"""The explorer's browser tests: a real uvicorn serving the bundled seed study, and headless Chromium.

The seed study goes through the ingest pipeline (SHACL gate included) into an in-memory store, as
`make run` loads it. Anonymous callers get no scope; keys `aggregate` and `excerpts`; k = 3. A second
server holds a generated 500-code project (tests/explorer/generate.py) and the bundled review record
cooper-2024. Screenshots go to tests/artifacts; those the README shows, to docs/screenshots.
Why a real browser and server: docs/decisions/0047-tests-run-real-servers.md.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from qualkg.api.app import create_app
from qualkg.api.config import ApiConfig, ApiKey
from qualkg.api.security import key_hash
from qualkg.ingest.pipeline import ingest
from qualkg.queries.catalog import default_catalog
from qualkg.store import open_store
from qualkg.wiring import load_model
from tests.conftest import IRIS, serve
from tests.explorer.generate import generate

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "data" / "seed-anestis-2025"
ARTIFACTS = ROOT / "tests" / "artifacts"
SCREENSHOTS = ROOT / "docs" / "screenshots"
REVIEW = ROOT / "data" / "related" / "cooper-2024"
KEYS = {"aggregate": {"aggregate"}, "excerpts": {"aggregate", "excerpts"}}
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
WAIT_S = 20


def explorer_app(*packages: Path) -> FastAPI:
    store = open_store("oxigraph", path=None)
    load_model(store)
    for package in packages or (SEED,):
        ingest(package, store, IRIS, fmt="package")
    keys = [ApiKey(key_sha256=key_hash(f"explorer-{n}"), name=n, scopes=frozenset(s)) for n, s in KEYS.items()]
    config = ApiConfig(keys=keys, open_scopes=frozenset(), min_cell_count=3)
    return create_app(config, store, default_catalog())


@pytest.fixture(scope="session")
def explorer_url() -> Iterator[str]:
    server, thread = serve(explorer_app())
    yield f"http://127.0.0.1:{server.config.port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def big_url() -> Iterator[str]:
    """The generated 500-code project beside a review's study-level record."""
    with tempfile.TemporaryDirectory(prefix="qualkg-500-") as folder:
        server, thread = serve(explorer_app(generate(SEED, Path(folder)), REVIEW))
        yield f"http://127.0.0.1:{server.config.port}"
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # to read the page's console errors
    with tempfile.TemporaryDirectory(prefix="qualkg-chromium-") as profile:
        for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                    f"--user-data-dir={profile}", "--window-size=1400,1000"):
            options.add_argument(arg)
        driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
        try:
            yield driver
        finally:
            driver.quit()


@dataclass
class Explorer:
    """Drives the explorer like a user: opens a page as the caller with a key pasted (or none), waits for it.

    The key lives in the tab's sessionStorage, so it is pasted (or forgotten) through the key form only
    when the caller changes; every open is a full page load (a fresh query string defeats hash-only navigation)."""

    driver: webdriver.Chrome
    url: str
    key: str | None = None  # the caller the tab is set up for
    loads: int = 0

    def open(self, page: str, key: str | None) -> WebElement:
        """Load `#page` afresh as the caller with `key` (a KEYS name or None); return <main> once rendered."""
        self.loads += 1
        self.console_errors()  # drop what earlier pages logged
        self.driver.get(f"{self.url}/?load={self.loads}#{page}")
        main = self.wait_for(f"#main[data-page='{page}']:not([data-state='loading'])")
        if key == self.key:
            return main
        self.console_errors()  # the refusals of the render as the previous caller
        if key is None:
            self.driver.find_element(By.ID, "key-forget").click()
        else:
            self.driver.find_element(By.ID, "api-key").send_keys(f"explorer-{key}")
            self.driver.find_element(By.CSS_SELECTOR, "#key-form button[type='submit']").click()
        self.key = key
        return self.wait_for(f"#main[data-page='{page}']:not([data-state='loading'])")

    def console_errors(self) -> list[str]:
        """Errors the page logged since the last call: script errors, CSP refusals, failed requests."""
        return [e["message"] for e in self.driver.get_log("browser") if e["level"] == "SEVERE"]

    def wait_for(self, css: str) -> WebElement:
        return WebDriverWait(self.driver, WAIT_S).until(lambda d: d.find_element(By.CSS_SELECTOR, css))

    def all(self, css: str) -> list[WebElement]:
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def screenshot(self, name: str, docs: bool = False) -> Path:
        """The window as a PNG in tests/artifacts, or (`docs`) in docs/screenshots for the README."""
        folder = SCREENSHOTS if docs else ARTIFACTS
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / (f"{name}.png" if docs else f"explorer-{name}.png")
        self.driver.save_screenshot(str(path))
        return path


@pytest.fixture(scope="session")
def ui(browser: webdriver.Chrome, explorer_url: str) -> Explorer:
    return Explorer(browser, explorer_url)


@pytest.fixture(scope="session")
def big_ui(browser: webdriver.Chrome, big_url: str) -> Explorer:
    return Explorer(browser, big_url)
