"""End-to-end tests of the explorer in headless Chromium against the bundled seed study.

Expected values are read by hand off data/seed-anestis-2025 (participants.csv, excerpts.csv,
codebook.csv, study.yaml); each derivation is a comment beside its constant or check.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.explorer.conftest import Explorer

# 9 peer practitioners; P01–P07 are in teams A–C, the teams with the flattened-hierarchy feature. The only
# subtheme whose label contains "challenge" is sub-2-2 "Challenges of the peer role" (the theme
# "Opportunities and challenges …" is too broad for challenges-by-context by design). Its codes on
# excerpts spoken by P01–P07: low-pay 4, role-ambiguity 3, supervision 2, compromised-hierarchy 1.
CHALLENGES = {"Low pay": 4, "Role ambiguity": 3, "Supervision and support": 2, "Compromised flattened hierarchy": 1}
# Peer practitioners' excerpts coded under theme-2 (codes meaningful-work, od-training, low-pay,
# compromised-hierarchy, role-ambiguity, supervision): 16, the PEER × THEME_2 cell of the matrix.
PEER, THEME_2 = "peer practitioner", "Opportunities and challenges of the peer role"
# The codebook (codebook.csv): 3 themes, 6 subthemes and 14 codes. All 45 excerpts are synthetic and
# their texts begin with "SYNTHETIC:".


def check_studies(ui: Explorer) -> None:
    doi = ui.wait_for("#study-anestis-2025 a.doi")
    assert doi.get_attribute("href") == "https://doi.org/10.1192/bjo.2025.10833"
    tree = ui.all("#study-anestis-2025 ul.tree li")
    assert [li.get_attribute("data-kind") for li in tree].count("theme") == 3
    assert len(tree) == 3 + 6 + 14
    assert "peer practitioner: 9" in ui.wait_for("#study-anestis-2025 .design").text


def check_runner(ui: Explorer) -> None:
    assert ui.wait_for("#question").get_attribute("value") == "challenges-by-context"
    role = ui.wait_for("#runner-form select")  # the first parameter, role: a dropdown of the vocabulary
    assert role.get_attribute("value") == "peer-practitioner"
    assert "non-peer practitioner" in [o.text.strip() for o in role.find_elements(By.TAG_NAME, "option")]


def check_matrix(ui: Explorer) -> None:
    cell = ui.wait_for(f"table.heatmap button[data-row='{PEER}'][data-column='{THEME_2}']")
    assert cell.text == "16"


def check_themes(ui: Explorer) -> None:
    ui.wait_for("#theme-map")
    kinds = [g.get_attribute("data-kind") for g in ui.all("#theme-map g.node")]
    assert (kinds.count("study"), kinds.count("theme"), kinds.count("subtheme"), kinds.count("code")) == (1, 3, 6, 14)


def check_excerpts(ui: Explorer) -> None:
    ui.wait_for("#excerpt-results[data-state='ready']")
    cards = ui.all("article.excerpt")
    assert len(cards) == 25  # one page of the 45
    assert all(c.find_element(By.CSS_SELECTOR, ".badge.synthetic").text == "SYNTHETIC" for c in cards)
    assert all(c.find_element(By.CSS_SELECTOR, ".excerpt-text").text.startswith("SYNTHETIC:") for c in cards)


@pytest.mark.parametrize("page, check", [("studies", check_studies), ("runner", check_runner), ("matrix", check_matrix),
                                         ("themes", check_themes), ("excerpts", check_excerpts)])
def test_page_loads_with_bundled_data(ui: Explorer, page: str, check: Callable[[Explorer], None]) -> None:
    main = ui.open(page, "excerpts")
    assert main.get_attribute("data-state") == "ready", main.text
    check(ui)
    assert ui.screenshot(page).stat().st_size > 10_000
    assert ui.console_errors() == []


def test_runner_returns_flattened_hierarchy_challenges(ui: Explorer) -> None:
    ui.open("runner", "excerpts")
    ui.wait_for("#runner-form button[type='submit']").click()
    table = ui.wait_for("#result[data-state='ready'] table")
    header = [th.text for th in table.find_elements(By.CSS_SELECTOR, "thead th")]
    rows = [[td.text for td in tr.find_elements(By.TAG_NAME, "td")]
            for tr in table.find_elements(By.CSS_SELECTOR, "tbody tr")]
    got = {r[header.index("Code")]: int(r[header.index("Excerpts")]) for r in rows}
    assert got == CHALLENGES
    assert ui.all("#result a.download-csv") and ui.all("#result a.download-xlsx")
    ui.screenshot("runner-result")


def test_heatmap_cell_lists_its_excerpts(ui: Explorer) -> None:
    ui.open("matrix", "excerpts")
    ui.wait_for(f"table.heatmap button[data-row='{PEER}'][data-column='{THEME_2}']").click()
    ui.wait_for("#cell-excerpts[data-state='ready']")
    cards = ui.all("#cell-excerpts article.excerpt")
    assert len(cards) == 16
    assert all(f"· {PEER}" in c.find_element(By.TAG_NAME, "header").text for c in cards)
    assert all(c.find_elements(By.CSS_SELECTOR, ".excerpt-text") for c in cards)
    ui.screenshot("matrix-cell")


def test_theme_map_node_opens_by_keyboard(ui: Explorer) -> None:
    ui.open("themes", "excerpts")
    node = ui.wait_for("#theme-map g.node[data-label='Low pay']")
    ui.driver.execute_script("arguments[0].focus()", node)
    ActionChains(ui.driver).send_keys(Keys.ENTER).perform()
    detail = ui.wait_for("#node-detail[data-state='ready']")
    assert "Low pay" in detail.find_element(By.TAG_NAME, "h2").text
    assert "SYNTHETIC illustrative code" in detail.text  # the code's definition
    assert len(detail.find_elements(By.CSS_SELECTOR, "article.excerpt")) == 6  # low-pay is coded on 6 excerpts
    ui.screenshot("themes-node")


def test_without_excerpts_scope_no_excerpt_text_is_shown(ui: Explorer) -> None:
    """Excerpt listings are one row per excerpt, so the API refuses them without 'excerpts' (counting
    rows would undo small-count suppression); the page says which scope is needed."""
    ui.open("excerpts", "aggregate")
    results = ui.wait_for("#excerpt-results[data-state='error']")
    assert "excerpts" in results.text
    assert not ui.all("article.excerpt")
    assert "SYNTHETIC:" not in ui.driver.find_element(By.TAG_NAME, "body").text
    ui.screenshot("excerpts-aggregate")


def test_without_excerpts_scope_heatmap_suppresses_small_cells_and_hides_text(ui: Explorer) -> None:
    ui.open("matrix", "aggregate")
    # The one other-clinician excerpt under theme-3 (N12) is a count of 1 < k = 3: suppressed.
    suppressed = ui.wait_for("table.heatmap td.suppressed button[aria-label^='other clinician, Peer impact']")
    assert suppressed.text == "suppressed"
    ui.wait_for(f"table.heatmap button[data-row='{PEER}'][data-column='{THEME_2}']").click()
    detail = ui.wait_for("#cell-excerpts[data-state='error']")
    assert "excerpts" in detail.text
    assert not ui.all("#cell-excerpts article.excerpt")
    assert "SYNTHETIC:" not in ui.driver.find_element(By.TAG_NAME, "body").text


def test_anonymous_caller_is_told_which_scope_is_needed(ui: Explorer) -> None:
    main = ui.open("studies", None)
    assert main.get_attribute("data-state") == "error"
    assert "aggregate" in main.find_element(By.CSS_SELECTOR, ".error").text


@pytest.mark.parametrize("page", ["studies", "matrix", "themes"])
def test_readable_at_200_percent_zoom(ui: Explorer, page: str) -> None:
    """At 200 % zoom a 1400 px window is 700 CSS px wide: the page must reflow, not scroll sideways."""
    ui.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                              {"width": 700, "height": 1000, "deviceScaleFactor": 2, "mobile": False})
    try:
        assert ui.open(page, "excerpts").get_attribute("data-state") == "ready"
        assert ui.driver.execute_script("return document.documentElement.scrollWidth") <= 700
        ui.screenshot(f"{page}-200pc")
    finally:
        ui.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
