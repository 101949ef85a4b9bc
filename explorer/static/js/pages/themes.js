// Theme map: each study's themes → subthemes → codes as a collapsible left-to-right tree, each parent
// level with its first child. Labels are
// measured and wrapped, never cut; every column is as wide as its widest label and edges run only in the
// gaps between columns, so no edge crosses a label. Search shows the paths to the matching concepts;
// zoom in / out / to fit; every node is a keyboard stop (Enter opens it, → expands, ← collapses).
import { get } from "../api.js";
import { citations, codebook, studyOptions } from "../choices.js";
import { errorBox, excerptList, field, h, select } from "../ui.js";

export const TITLE = "Theme map";
const BUDGET = 120; // nodes shown at first: levels open one at a time while they fit
const WRAP = 38; // characters per label line (long labels wrap onto more lines, whole)
const LINE = 17; // px per label line
const PAD = 9; // px between two nodes' blocks
const GAP = 56; // px between a column's widest label and the next column: where the edges run
const TEXT_X = 15; // px from a node's centre to its label (the largest circle has r = 11)
const EXCERPT_LIMIT = 50;

export async function render(root) {
  const studies = await studyOptions();
  const first = studies.find((s) => s.excerpts !== 0);
  const study = select([{ value: "", label: "(all studies)" }, ...studies], first ? first.value : "", { id: "tm-study" });
  const search = h("input", { type: "search", id: "tm-search", maxlength: 200, placeholder: "e.g. pay" });
  const form = h("form", { class: "controls", role: "search" }, field("Study", study),
    field("Find a theme, subtheme or code", search, "Shows the path to every label that contains the text."),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Show map")));
  const frame = h("div", { class: "map-frame" });
  const detail = h("aside", { class: "detail", id: "node-detail", "aria-live": "polite", "aria-label": "Chosen node" },
    h("p", { class: "hint" }, "Choose a node (click, or Tab to it and press Enter) to see its definition and excerpts."));
  root.append(form, h("div", { class: "map-layout" }, frame, detail));

  let map = null;
  const show = async () => {
    try {
      map = new ThemeMap(frame, forest(await codebook(study.value)), (node) => choose(node, detail));
      map.find(search.value);
    } catch (err) {
      frame.replaceChildren(errorBox(err));
    }
  };
  form.addEventListener("submit", (e) => { e.preventDefault(); show(); });
  search.addEventListener("input", () => map?.find(search.value));
  await show();
}

/** Study roots with their concepts nested by each row's parent label (a concept seen once per path: labels
 * repeated across levels cannot make a loop). */
function forest(rows) {
  const byParent = new Map();
  for (const r of rows) {
    const key = `${r.study_id}\u0000${r.parent ?? ""}`;
    if (!byParent.has(key)) byParent.set(key, []);
    byParent.get(key).push(r);
  }
  const grow = (node, seen) => {
    const kids = (byParent.get(`${node.study_id}\u0000${node.kind === "study" ? "" : node.label}`) || [])
      .filter((r) => !seen.has(r.concept)).sort((a, b) => a.label.localeCompare(b.label));
    node.children = kids.map((r) => grow({ ...r, id: r.concept, parentNode: node, depth: node.depth + 1 },
      new Set([...seen, r.concept])));
    return node;
  };
  return [...new Set(rows.map((r) => r.study_id))].sort().map((s) => {
    const root = grow({ id: `study:${s}`, kind: "study", label: s, study_id: s, depth: 0 }, new Set());
    root.excerpts = root.children.reduce((n, k) => (n === null || k.excerpts === null ? null : n + (k.excerpts ?? 0)), 0);
    return root;
  });
}

const walk = (nodes, f) => { for (const n of nodes) { f(n); walk(n.children, f); } };

/** Words of `text` in lines of at most `width` characters (a longer word gets a line of its own, whole). */
function wrap(text, width) {
  const lines = [];
  for (const word of String(text).split(/\s+/).filter(Boolean)) {
    const last = lines.length ? lines[lines.length - 1] : null;
    if (last !== null && last.length + 1 + word.length <= width) lines[lines.length - 1] = `${last} ${word}`;
    else lines.push(word);
  }
  return lines.length ? lines : [""];
}

class ThemeMap {
  constructor(frame, roots, onChoose) {
    this.frame = frame;
    this.roots = roots;
    this.onChoose = onChoose;
    this.open = new Set();
    this.query = "";
    this.scale = 1;
    this.selected = null;
    let total = 0;
    walk(roots, () => { total += 1; });
    this.total = total;
    // Open level by level while what is shown stays within the budget.
    let level = roots;
    let shown = roots.length;
    while (level.length) {
      const next = level.flatMap((n) => n.children);
      if (!next.length || shown + next.length > BUDGET) break;
      for (const n of level) this.open.add(n.id);
      shown += next.length;
      level = next;
    }
    this.status = h("span", { class: "hint", id: "tm-status", role: "status" });
    this.svg = h("svg", { role: "group", id: "theme-map", "aria-label": "Theme map: studies, themes, subthemes and codes" });
    const button = (text, id, onclick) => h("button", { type: "button", class: "secondary", id, onclick }, text);
    const toolbar = h("div", { class: "toolbar", role: "toolbar", "aria-label": "Map view" },
      button("Zoom in", "tm-zoom-in", () => this.zoom(this.scale * 1.25)),
      button("Zoom out", "tm-zoom-out", () => this.zoom(this.scale / 1.25)),
      button("Zoom to fit", "tm-fit", () => this.fit()),
      button("Actual size", "tm-actual", () => this.zoom(1)),
      button("Expand all", "tm-expand", () => { walk(this.roots, (n) => n.children.length && this.open.add(n.id)); this.draw(); }),
      button("Collapse to themes", "tm-collapse", () => { this.open = new Set(this.roots.map((r) => r.id)); this.draw(); }),
      this.status);
    this.scroller = h("div", { class: "map-scroll", tabindex: "0", "aria-label": "Theme map (scrolls)" }, this.svg);
    this.scroller.addEventListener("keydown", (e) => {
      if (e.target !== this.scroller) return;
      if (e.key === "+" || e.key === "=") this.zoom(this.scale * 1.25);
      if (e.key === "-") this.zoom(this.scale / 1.25);
    });
    frame.replaceChildren(toolbar, this.scroller);
    if (!roots.length) frame.replaceChildren(h("p", { class: "muted" }, "No codebook for this choice."));
  }

  /** Show the paths to the concepts whose label contains `text` (all of the tree as opened when empty). */
  find(text) {
    this.query = String(text || "").trim().toLowerCase();
    this.draw();
    const first = this.query && this.svg.querySelector("g.node.match");
    if (first) { // bring the first match's column into view, a little of its parent's column with it
      const m = first.transform.baseVal.consolidate().matrix;
      this.scroller.scrollTo({ left: Math.max(0, (m.e - this.size.x) * this.scale - 120),
        top: Math.max(0, (m.f - this.size.y) * this.scale - 40) });
    }
  }

  /** The children drawn under `n`: on a search, those on a path to a match; else all of an open node's. */
  shownKids(n) {
    if (this.query) return n.children.filter((c) => this.onPath.has(c.id));
    return this.open.has(n.id) ? n.children : [];
  }

  draw() {
    if (!this.roots.length) return;
    this.onPath = new Set();
    let matches = 0;
    if (this.query) {
      walk(this.roots, (n) => {
        if (n.kind !== "study" && n.label.toLowerCase().includes(this.query)) {
          matches += 1;
          for (let p = n; p; p = p.parentNode) this.onPath.add(p.id);
        }
      });
    }
    const roots = this.query ? this.roots.filter((r) => this.onPath.has(r.id)) : this.roots;
    const shown = [];
    const collect = (n) => { shown.push(n); this.shownKids(n).forEach(collect); };
    roots.forEach(collect);
    this.status.textContent = this.query
      ? `${matches} concept(s) match “${this.query}”; ${shown.length} of ${this.total} nodes shown.`
      : `${shown.length} of ${this.total} nodes shown. Choose a node to open or close it; Tab, then → / ← to expand or collapse.`;

    // Draw the nodes, measure their labels, then place them: columns by depth, as wide as their widest label.
    const edges = h("g", { class: "edges" });
    const layer = h("g", { class: "nodes" });
    this.svg.replaceChildren(edges, layer);
    const width = new Map();
    for (const n of shown) {
      n.g = this.node(n);
      layer.append(n.g);
      n.textWidth = n.g.querySelector("text").getBBox().width;
      n.lines = n.g.querySelectorAll("tspan.line").length;
      width.set(n.depth, Math.max(width.get(n.depth) || 0, TEXT_X + n.textWidth));
    }
    const columnX = [0];
    for (let d = 1; d <= Math.max(...width.keys()); d += 1) columnX[d] = columnX[d - 1] + (width.get(d - 1) || 0) + GAP;
    const block = (n) => {
      const kids = this.shownKids(n);
      n.block = Math.max(n.lines * LINE + PAD, kids.reduce((s, k) => s + block(k), 0));
      return n.block;
    };
    const place = (n, top) => {
      n.x = columnX[n.depth];
      n.y = top + (n.lines * LINE + PAD) / 2; // at the top of its block, beside its first child: big trees read from the top
      n.g.setAttribute("transform", `translate(${n.x},${n.y})`);
      const kids = this.shownKids(n);
      let y = top;
      for (const k of kids) {
        place(k, y);
        y += k.block;
        // Out of the parent's label, along its own row, down the gap, into the child's circle.
        const mid = columnX[k.depth] - GAP / 2;
        edges.append(h("path", { class: "edge", d: `M${n.x + TEXT_X + n.textWidth + 4},${n.y} H${mid} V${k.y} H${k.x - 12}` }));
      }
    };
    let top = 0;
    for (const r of roots) { block(r); place(r, top); top += r.block + LINE; }
    const right = Math.max(...shown.map((n) => n.x + TEXT_X + n.textWidth)) + 16;
    this.size = { x: -16, y: 0, w: right + 16, h: Math.max(top, LINE) };
    this.svg.setAttribute("viewBox", `${this.size.x} ${this.size.y} ${this.size.w} ${this.size.h}`);
    this.zoom(this.scale);
    if (this.selected) {
      const again = shown.find((n) => n.id === this.selected);
      if (again) { again.g.classList.add("selected"); if (this.refocus) again.g.focus(); }
    }
    this.refocus = false;
  }

  node(n) {
    const count = n.excerpts === null || n.excerpts === undefined ? "suppressed" : `${n.excerpts}`;
    const hidden = n.children.length && !this.shownKids(n).length ? n.children.length : 0;
    const lines = wrap(n.label, WRAP);
    const text = h("text", { x: TEXT_X, y: 4 - ((lines.length - 1) * LINE) / 2 },
      lines.map((line, i) => h("tspan", { class: "line", x: TEXT_X, dy: i ? LINE : 0 }, line,
        i === lines.length - 1 ? h("tspan", { class: "count" }, ` (${count})`) : null,
        i === lines.length - 1 && hidden ? h("tspan", { class: "more" }, ` ▸ ${hidden} more`) : null)));
    const match = this.query && n.kind !== "study" && n.label.toLowerCase().includes(this.query);
    const expanded = n.children.length ? String(this.shownKids(n).length > 0) : null;
    const g = h("g", { class: `node ${n.kind}${match ? " match" : ""}`, tabindex: "0", role: "button",
      "data-kind": n.kind, "data-label": n.label, "aria-expanded": expanded,
      "aria-label": `${n.kind}: ${n.label}, ${count} excerpts${hidden ? `, ${hidden} hidden below` : ""}` },
    h("title", {}, `${n.kind}: ${n.label} (${count} excerpts)`),
    h("circle", { r: Math.min(11, 5 + Math.sqrt(n.excerpts || 0)) }), text);
    const activate = () => {
      this.selected = n.id;
      this.refocus = true;
      if (n.children.length && !this.query) this.toggle(n, !this.open.has(n.id));
      else this.draw();
      this.onChoose(n);
    };
    g.addEventListener("click", activate);
    g.addEventListener("keydown", (e) => {
      if (e.key === "Enter" || e.key === " ") { e.preventDefault(); activate(); }
      if ((e.key === "ArrowRight" || e.key === "ArrowLeft") && n.children.length && !this.query) {
        e.preventDefault();
        this.selected = n.id;
        this.refocus = true;
        this.toggle(n, e.key === "ArrowRight");
      }
    });
    return g;
  }

  toggle(n, open) {
    if (open) this.open.add(n.id);
    else this.open.delete(n.id);
    this.draw();
  }

  zoom(scale) {
    this.scale = Math.max(0.01, Math.min(4, scale));
    this.svg.setAttribute("width", String(Math.round(this.size.w * this.scale)));
    this.svg.setAttribute("height", String(Math.round(this.size.h * this.scale)));
  }

  /** The whole of what is shown within the frame's width and visible height. */
  fit() {
    const box = this.scroller.getBoundingClientRect();
    this.zoom(Math.min(1, (box.width - 4) / this.size.w, (box.height - 4) / this.size.h));
  }
}

async function choose(node, detail) {
  const head = [h("h2", {}, node.label), h("p", {}, h("span", { class: "badge kind" }, node.kind), ` in study ${node.study_id}`)];
  if (node.kind === "study") {
    detail.replaceChildren(...head, h("p", {}, h("a", { href: "#studies" }, "Citation and design on the Studies page")));
    return;
  }
  detail.dataset.state = "loading";
  detail.replaceChildren(...head,
    h("p", {}, node.definition || h("span", { class: "muted" }, "No definition recorded.")),
    node.placeholder ? h("p", { class: "hint" }, "The label is a project placeholder, not the published name.") : "",
    h("p", {}, "Loading excerpts…"));
  try {
    const answer = await get("/excerpts", { code: node.concept, study: node.study_id, limit: EXCERPT_LIMIT });
    detail.lastChild.replaceWith(h("h3", {}, `Excerpts coded here or below (${answer.rows.length}${answer.rows.length === EXCERPT_LIMIT ? "+" : ""})`),
      excerptList(answer, { cites: await citations() }));
    detail.dataset.state = "ready";
  } catch (err) {
    detail.lastChild.replaceWith(errorBox(err));
    detail.dataset.state = "error";
  }
}
