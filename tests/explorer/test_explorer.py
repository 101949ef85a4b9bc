"""End-to-end tests of the explorer in headless Chromium against the bundled seed study.

Expected values are read by hand off data/seed-anestis-2025 (participants.csv, excerpts.csv,
codebook.csv, study.yaml); each derivation is a comment beside its constant or check.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import httpx
import openpyxl
import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

from tests.explorer.conftest import SCREENSHOTS, Explorer

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
# Peers' excerpts by theme (excerpts.csv speakers P01–P09, codes up to their theme): theme-2 16, theme-1
# "Peer influence on network meetings" 7, theme-3 "Peer impact on team and organisational culture" 3:
# row sum 26 (25 excerpts, one coded under two themes); 16 / 26 = 62 % of the row.
# participants.csv has two psychologists (teams a, c) and two support workers (teams b, d); none of them
# speaks an excerpt in excerpts.csv, so their matrix rows are empty.
# study.yaml: design, sample, setting and analysis as below; `synthetic: true`; a journal article.
STUDY_ABOUT = {
    "Design": "qualitative study: semi-structured interviews and joint interviews with peer practitioners; excerpts "
              "from interviews and focus groups with non-peer Open Dialogue practitioners",
    "Sample": "peer practitioners (n = 9); excerpts from 11 interviews and 4 focus groups (n = 18) with non-peer "
              "practitioners",
    "Setting": "Open Dialogue teams in the ODDESSI trial (Open Dialogue: Development and Evaluation of a Social "
               "Intervention for Severe Mental Illness), NHS, England",
    "Analysis": "thematic analysis"}
TITLE = "Peer-supported Open Dialogue: a qualitative study of peer practitioners' experiences"  # its start


def check_studies(ui: Explorer) -> None:
    doi = ui.wait_for("#study-anestis-2025 a.doi")
    assert doi.get_attribute("href") == "https://doi.org/10.1192/bjo.2025.10833"
    tree = ui.all("#study-anestis-2025 ul.tree li")
    assert [li.get_attribute("data-kind") for li in tree].count("theme") == 3
    assert len(tree) == 3 + 6 + 14
    assert "peer practitioner: 9" in ui.wait_for("#study-anestis-2025 .design").text
    card = ui.wait_for("#study-anestis-2025")
    about = {dt.text: dd.text for dt, dd in zip(card.find_elements(By.CSS_SELECTOR, "dl.about dt"),
                                                 card.find_elements(By.CSS_SELECTOR, "dl.about dd"), strict=True)}
    assert about == STUDY_ABOUT
    assert card.find_element(By.CSS_SELECTOR, ".study-kind").text == "primary study"
    assert card.find_element(By.CSS_SELECTOR, "p.badges .badge.synthetic").text == "SYNTHETIC"


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
    # The short citation (from "Anestis E, Weaver T, Tew J, et al. (2025)."), the title only on hover.
    assert {c.find_element(By.CSS_SELECTOR, "cite.study-cite").text for c in cards} == {"Anestis et al. 2025"}
    assert not any(TITLE in c.text for c in cards)
    assert ui.wait_for("#excerpt-range").text == "Excerpts 1–25 of 45"
    assert ui.wait_for("#excerpt-results .excerpt-count").text == "45 excerpts."


@pytest.mark.parametrize("page, check", [("studies", check_studies), ("runner", check_runner), ("matrix", check_matrix),
                                         ("themes", check_themes), ("excerpts", check_excerpts)])
def test_page_loads_with_bundled_data(ui: Explorer, page: str, check: Callable[[Explorer], None]) -> None:
    main = ui.open(page, "excerpts")
    assert main.get_attribute("data-state") == "ready", main.text
    check(ui)
    assert ui.screenshot(page).stat().st_size > 10_000
    if page == "studies":
        ui.screenshot("studies", docs=True)
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
    assert ui.wait_for("#cell-excerpts .excerpt-count").text == "16 excerpts."
    ui.screenshot("matrix-cell")


def test_matrix_shows_empty_rows_sums_and_percentages(ui: Explorer) -> None:
    ui.open("matrix", "excerpts")
    for role in ("psychologist", "support worker"):
        assert ui.wait_for(f"table.heatmap td[data-row-sum='{role}']").text == "0"
        assert len(ui.all(f"table.heatmap td.empty[data-row='{role}']")) == 3  # all three themes empty
    assert ui.wait_for(f"table.heatmap td[data-row-sum='{PEER}']").text == "26"
    sums = [int(td.text) for td in ui.all("table.heatmap td[data-row-sum]")]
    columns = [int(td.text) for td in ui.all("table.heatmap td[data-column-sum]")]
    assert sum(sums) == sum(columns) == int(ui.wait_for("#mx-grand").text)
    Select(ui.wait_for("#mx-percent")).select_by_value("row")
    ui.wait_for("#main form.controls button[type='submit']").click()
    cell = ui.wait_for(f"table.heatmap button[data-row='{PEER}'][data-column='{THEME_2}'] .pct")
    assert cell.text == "62%"
    link = ui.wait_for("a.download-crosstab").get_attribute("href")
    assert {"layout=crosstab", "measure=excerpts", "format=xlsx", "rows=role", "columns=theme"} <= set(
        link.split("?")[1].split("&"))
    got = httpx.get(link, headers={"Authorization": "Bearer explorer-excerpts"})  # what the click fetches
    assert got.status_code == 200 and got.content[:2] == b"PK"  # an XLSX file is a zip
    sheet = list(openpyxl.load_workbook(io.BytesIO(got.content)).active.iter_rows(values_only=True))
    peer = next(row for row in sheet if row[0] == PEER)
    assert peer[-1] == 26 and sheet[0][-1] == "Total"  # the same row sum as the page shows
    ui.screenshot("matrix", docs=True)


def test_a_cleared_runner_field_is_refused_not_defaulted(ui: Explorer) -> None:
    """challenges-by-context's `topic` defaults to "challenge"; emptied, the API is asked with an empty
    value and says so, instead of the page leaving it out and the default applying unseen."""
    ui.open("runner", "excerpts")
    topic = ui.wait_for("#runner-form input[type='text']")
    assert topic.get_attribute("value") == "challenge"
    topic.clear()
    ui.wait_for("#runner-form button[type='submit']").click()
    error = ui.wait_for("#result[data-state='error'] .error").text
    assert "Refused (422)" in error and "leave it out for its default (challenge)" in error
    ui.console_errors()  # the refused call is logged by the browser as a failed request


def test_a_runner_row_leads_to_its_excerpts(ui: Explorer) -> None:
    """The "Low pay" row of challenges-by-context (4 excerpts by peers in flattened-hierarchy teams) links
    to the excerpt browser with the code and both filters set: the same 4 excerpts."""
    ui.open("runner", "excerpts")
    ui.wait_for("#runner-form button[type='submit']").click()
    table = ui.wait_for("#result[data-state='ready'] table")
    header = [th.text for th in table.find_elements(By.CSS_SELECTOR, "thead th")]
    row = next(tr for tr in table.find_elements(By.CSS_SELECTOR, "tbody tr")
               if tr.find_elements(By.TAG_NAME, "td")[header.index("Code")].text == "Low pay")
    ui.driver.execute_script("arguments[0].scrollIntoView()", table)
    ui.screenshot("runner", docs=True)
    row.find_element(By.CSS_SELECTOR, "a.row-excerpts").click()
    ui.wait_for("#main[data-page='excerpts'] #excerpt-results[data-state='ready']")
    assert ui.wait_for("#ex-role").get_attribute("value") == "peer-practitioner"
    assert ui.wait_for("#ex-feature").get_attribute("value") == "flattened-hierarchy"
    assert ui.wait_for("#excerpt-range").text == "Excerpts 1–4 of 4"
    assert len(ui.all("article.excerpt")) == 4
    ui.screenshot("excerpts", docs=True)


def test_theme_map_node_opens_by_keyboard(ui: Explorer) -> None:
    ui.open("themes", "excerpts")
    node = ui.wait_for("#theme-map g.node[data-label='Low pay']")
    ui.driver.execute_script("arguments[0].focus()", node)
    ActionChains(ui.driver).send_keys(Keys.ENTER).perform()
    detail = ui.wait_for("#node-detail[data-state='ready']")
    assert "Low pay" in detail.find_element(By.TAG_NAME, "h2").text
    assert "SYNTHETIC illustrative code" in detail.text  # the code's definition
    assert len(detail.find_elements(By.CSS_SELECTOR, "article.excerpt")) == 6  # low-pay is coded on 6 excerpts
    assert detail.find_element(By.CSS_SELECTOR, ".excerpt-count").text == "6 excerpts."
    ui.screenshot("themes-node")
    ui.driver.execute_script("document.querySelector('.map-frame').scrollIntoView()")
    ui.driver.save_screenshot(str(SCREENSHOTS.parent / "explorer.png"))  # the README's first picture: the map


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
