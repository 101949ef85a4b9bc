"""The theme map in headless Chromium: labels whole, inside the drawing, apart from each other and from
every edge, on the bundled study and on a generated 500-code project (tests/explorer/generate.py).

The generated codebook is 5 themes × 10 subthemes × 10 codes: with the study node, 556 nodes. The map
opens levels while they fit 120 nodes: study + 5 themes + 50 subthemes = 56; the 500 codes would pass it.
"""

from __future__ import annotations

from typing import Any

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from tests.explorer.conftest import WAIT_S, Explorer

# Each label's box (its <text> in the drawing's coordinates) against the viewBox, its text against the
# node's full label, every pair of boxes, and every edge segment (paths are "M x,y H a V b H c") against
# every box; shrunk by half a pixel so boxes that only touch do not count.
GEOMETRY = """
const svg = document.getElementById("theme-map");
const vb = svg.viewBox.baseVal;
const boxes = [...svg.querySelectorAll("g.node")].map((g) => {
  const t = g.querySelector("text"), b = t.getBBox(), m = g.transform.baseVal.consolidate().matrix;
  return { label: g.dataset.label, text: t.textContent, x0: b.x + m.e + .5, y0: b.y + m.f + .5,
           x1: b.x + m.e + b.width - .5, y1: b.y + m.f + b.height - .5 };
});
const problems = [];
const squash = (s) => s.replace(/\\s+/g, "");
for (const b of boxes) {
  const inside = b.x0 >= vb.x && b.y0 >= vb.y && b.x1 <= vb.x + vb.width && b.y1 <= vb.y + vb.height;
  if (!inside) problems.push(`outside: ${b.label}`);
  if (!squash(b.text).startsWith(squash(b.label))) problems.push(`cut: ${b.label} shows ${b.text}`);
}
const hit = (a, b) => a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;
for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
  if (hit(boxes[i], boxes[j])) problems.push(`overlap: ${boxes[i].label} / ${boxes[j].label}`);
}
const edges = [...svg.querySelectorAll("path.edge")];
for (const p of edges) {
  const [x, y, a, b, c] = p.getAttribute("d").match(/-?[\\d.]+/g).map(Number);
  const segments = [[x, y, a, y], [a, y, a, b], [a, b, c, b]].map(([p0, q0, p1, q1]) =>
    ({ x0: Math.min(p0, p1), y0: Math.min(q0, q1), x1: Math.max(p0, p1), y1: Math.max(q0, q1) }));
  for (const s of segments) for (const box of boxes) {
    const crosses = s.x0 <= box.x1 && box.x0 <= s.x1 && s.y0 <= box.y1 && box.y0 <= s.y1;
    if (crosses) problems.push(`edge through: ${box.label}`);
  }
}
return { nodes: boxes.length, edges: edges.length, problems: problems.slice(0, 20) };
"""


def geometry(ui: Explorer) -> dict[str, Any]:
    result: dict[str, Any] = ui.driver.execute_script(GEOMETRY)
    return result


def kinds(ui: Explorer) -> dict[str, int]:
    found = [g.get_attribute("data-kind") for g in ui.all("#theme-map g.node")]
    return {k: found.count(k) for k in ("study", "theme", "subtheme", "code")}


def test_bundled_map_shows_every_label_whole_and_apart(ui: Explorer) -> None:
    """The seed codebook: 1 study, 3 themes, 6 subthemes, 14 codes; 24 nodes fit, so all are open; a tree
    of 24 nodes has 23 edges."""
    ui.open("themes", "excerpts")
    ui.wait_for("#theme-map g.node")
    assert kinds(ui) == {"study": 1, "theme": 3, "subtheme": 6, "code": 14}
    assert geometry(ui) == {"nodes": 24, "edges": 23, "problems": []}
    ui.screenshot("theme-map-bundled", docs=True)


def test_500_codes_open_at_subthemes_readable(big_ui: Explorer) -> None:
    big_ui.open("themes", "excerpts")
    big_ui.wait_for("#theme-map g.node")
    assert kinds(big_ui) == {"study": 1, "theme": 5, "subtheme": 50, "code": 0}
    assert "56 of 556 nodes shown" in big_ui.wait_for("#tm-status").text
    # Each subtheme says how many codes it hides: 10.
    more = big_ui.all("#theme-map g.node.subtheme tspan.more")
    assert len(more) == 50 and {m.text.strip() for m in more} == {"▸ 10 more"}
    assert geometry(big_ui) == {"nodes": 56, "edges": 55, "problems": []}
    size = big_ui.driver.execute_script("const t = document.querySelector('#theme-map g.node text');"
                                        "return parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a;")
    assert size >= 12  # CSS px as drawn: 13 px labels at the opening scale of 1
    big_ui.screenshot("theme-map-500", docs=True)


def test_500_codes_all_open_keep_labels_whole_and_apart(big_ui: Explorer) -> None:
    """Expanded, the 500 codes (among them 14 labels of 15 words, over 90 characters, wrapped whole) keep
    every label inside the drawing, clear of every other label and of every edge; zoom to fit then shows
    the whole tree within the frame."""
    big_ui.open("themes", "excerpts")
    big_ui.wait_for("#tm-expand").click()
    big_ui.wait_for("#tm-status")
    assert kinds(big_ui) == {"study": 1, "theme": 5, "subtheme": 50, "code": 500}
    assert geometry(big_ui) == {"nodes": 556, "edges": 555, "problems": []}
    big_ui.wait_for("#tm-fit").click()
    fits = big_ui.driver.execute_script(
        "const s = document.getElementById('theme-map').getBoundingClientRect();"
        "const f = document.querySelector('.map-scroll').getBoundingClientRect();"
        "return [s.width <= f.width, s.height <= f.height];")
    assert fits == [True, True]
    big_ui.screenshot("theme-map-500-fit")  # an overview of 17,000 px of tree: not for the README


def test_500_codes_search_shows_the_paths_to_the_matches(big_ui: Explorer) -> None:
    """Code labels are built from WORDS; "waiting lists" occurs in some of them. Every match is drawn with
    its ancestors only, and every drawn code is a match."""
    big_ui.open("themes", "excerpts")
    box = big_ui.wait_for("#tm-search")
    box.send_keys("waiting lists")
    WebDriverWait(big_ui.driver, WAIT_S).until(lambda d: "“waiting lists”" in d.find_element(By.ID, "tm-status").text)
    status = big_ui.wait_for("#tm-status").text
    matches = big_ui.all("#theme-map g.node.match")
    assert matches and status.startswith(f"{len(matches)} concept(s) match")
    assert all("waiting lists" in g.get_attribute("data-label").lower() for g in matches)
    codes = big_ui.all("#theme-map g.node.code")
    assert codes and all("match" in g.get_attribute("class") for g in codes)
    assert geometry(big_ui)["problems"] == []
    big_ui.screenshot("theme-map-500-search", docs=True)


def test_a_subtheme_opens_by_keyboard(big_ui: Explorer) -> None:
    big_ui.open("themes", "excerpts")
    node = big_ui.wait_for("#theme-map g.node.subtheme")
    label = node.get_attribute("data-label")
    assert node.get_attribute("aria-expanded") == "false"
    big_ui.driver.execute_script("arguments[0].focus()", node)
    ActionChains(big_ui.driver).send_keys(Keys.ARROW_RIGHT).perform()
    opened = big_ui.wait_for("#theme-map g.node.subtheme[aria-expanded='true']")
    assert opened.get_attribute("data-label") == label
    assert kinds(big_ui)["code"] == 10  # its ten codes
    focused = big_ui.driver.switch_to.active_element
    assert focused.get_attribute("data-label") == label  # focus stays on the node after the redraw
    ActionChains(big_ui.driver).send_keys(Keys.ARROW_LEFT).perform()
    big_ui.wait_for(f"#theme-map g.node.subtheme[aria-expanded='false'][data-label='{label}']")
    assert kinds(big_ui)["code"] == 0


def test_study_cards_show_kind_and_synthetic_data(big_ui: Explorer) -> None:
    """cooper-2024 (data/related/cooper-2024/study.yaml): a systematic umbrella review, sample "35 reviews",
    no setting or analysis recorded, no participant-level data: kind review, no SYNTHETIC badge. The
    generated project keeps the seed's synthetic flag and design."""
    big_ui.open("studies", "excerpts")
    review = big_ui.wait_for("#study-cooper-2024")
    assert review.find_element(By.CSS_SELECTOR, ".study-kind").text == "review"
    assert not review.find_elements(By.CSS_SELECTOR, ".badge.synthetic")
    about = {dt.text: dd.text for dt, dd in zip(review.find_elements(By.CSS_SELECTOR, "dl.about dt"),
                                                   review.find_elements(By.CSS_SELECTOR, "dl.about dd"), strict=True)}
    assert about == {"Design": "systematic umbrella review (review finding, not primary data)",
                     "Sample": "35 reviews", "Setting": "not recorded", "Analysis": "not recorded"}
    generated = big_ui.wait_for("#study-generated-500")
    assert generated.find_element(By.CSS_SELECTOR, ".study-kind").text == "primary study"
    assert generated.find_element(By.CSS_SELECTOR, ".badge.synthetic").text == "SYNTHETIC"
    assert big_ui.console_errors() == []
