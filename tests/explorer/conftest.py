"""The explorer's browser tests: a real uvicorn serving the bundled seed study, and headless Debian
Chromium driven by Selenium (tests/explorer/install-chromium.sh installs the browser and driver).

The server ingests data/seed-anestis-2025 through the ingest pipeline into an in-memory store.
Anonymous callers get no scope (as off loopback); keys: `aggregate` (counts only, small counts
suppressed, no excerpt text) and `excerpts` (aggregate + excerpts). k = 3.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from api.app import create_app
from api.config import ApiConfig, ApiKey
from api.routes import explorer, vocab
from api.security import key_hash
from ingest.pipeline import ingest
from queries.catalog import default_catalog
from qualkg.wiring import load_model
from store import open_store
from tests.conftest import IRIS, free_port, serve

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "data" / "seed-anestis-2025"
ARTIFACTS = ROOT / "tests" / "artifacts"
KEYS = {"aggregate": {"aggregate"}, "excerpts": {"aggregate", "excerpts"}}
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
WAIT_S = 20


def explorer_app():  # noqa: ANN201 - a FastAPI app
    store = open_store("oxigraph", path=None)
    load_model(store)
    ingest(SEED, store, IRIS)
    config = ApiConfig(keys=[ApiKey(key_sha256=key_hash(f"explorer-{n}"), name=n, scopes=frozenset(s)) for n, s in KEYS.items()],
                       open_scopes=frozenset(), min_cell_count=3)
    app = create_app(config, store, default_catalog())
    paths = {getattr(r, "path", None) for r in app.routes}
    for module, path in ((explorer, "/"), (vocab, "/vocab/{name}")):
        if path not in paths:  # until create_app includes these routers
            app.include_router(module.router)
    return app


@pytest.fixture(scope="session")
def explorer_url() -> Iterator[str]:
    server, thread = serve(explorer_app(), free_port())
    yield f"http://127.0.0.1:{server.config.port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
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
    """Drives the explorer like a user: opens a page with a key pasted (or none) and waits for it."""

    driver: webdriver.Chrome
    url: str

    def open(self, page: str, key: str | None) -> WebElement:
        """Load `#page` afresh as the caller with `key` (a KEYS name or None); return <main> once rendered."""
        self.driver.get("about:blank")
        self.driver.get(f"{self.url}/#{page}")
        self.wait_for(f"#main[data-page='{page}']:not([data-state='loading'])")
        if key is None:
            self.driver.find_element(By.ID, "key-forget").click()
        else:
            self.driver.find_element(By.ID, "api-key").send_keys(f"explorer-{key}")
            self.driver.find_element(By.CSS_SELECTOR, "#key-form button[type='submit']").click()
        return self.wait_for(f"#main[data-page='{page}']:not([data-state='loading'])")

    def wait_for(self, css: str) -> WebElement:
        return WebDriverWait(self.driver, WAIT_S).until(lambda d: d.find_element(By.CSS_SELECTOR, css))

    def all(self, css: str) -> list[WebElement]:
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"explorer-{name}.png"
        self.driver.save_screenshot(str(path))
        return path


@pytest.fixture
def ui(browser: webdriver.Chrome, explorer_url: str) -> Explorer:
    return Explorer(browser, explorer_url)
