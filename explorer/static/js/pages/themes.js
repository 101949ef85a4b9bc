// Theme map: an SVG network of each study's themes → subthemes → codes, laid out as a left-to-right
// tree (study, theme, subtheme, code columns). Zoom (buttons, wheel, + / − keys), pan (drag, arrow
// keys), filter by study; every node is a keyboard stop, and choosing one shows its definition and excerpts.
import { get } from "../api.js";
import { codebook, studyOptions } from "../choices.js";
import { errorBox, excerptList, field, h, select } from "../ui.js";

export const TITLE = "Theme map";
const COLUMN = 250; // px between levels
const ROW = 30; // px between leaves
const LABEL_CHARS = 34;
const LEVEL = { study: 0, theme: 1, subtheme: 2, code: 3 };
const EXCERPT_LIMIT = 50;

export async function render(root) {
  const studies = await studyOptions();
  const first = studies.find((s) => s.excerpts !== 0);
  const study = select([{ value: "", label: "(all studies)" }, ...studies], first ? first.value : "", { id: "tm-study" });
  const codes = h("input", { type: "checkbox", id: "tm-codes", checked: true });
  const form = h("form", { class: "controls" }, field("Study", study),
    h("div", { class: "field" }, h("label", {}, codes, " Show codes")),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Show map")));
  const frame = h("div", { class: "map-frame" });
  const detail = h("aside", { class: "detail", id: "node-detail", "aria-live": "polite", "aria-label": "Chosen node" },
    h("p", { class: "hint" }, "Choose a node (click, or Tab to it and press Enter) to see its definition and excerpts."));
  root.append(form, h("div", { class: "map-layout" }, frame, detail));

  const show = async () => {
    try {
      let rows = await codebook(study.value);
      if (!codes.checked) rows = rows.filter((r) => r.kind !== "code");
      frame.replaceChildren(...draw(rows, (node) => choose(node, detail)));
    } catch (err) {
      frame.replaceChildren(errorBox(err));
    }
  };
  form.addEventListener("submit", (e) => { e.preventDefault(); show(); });
  await show();
}

/** Nodes with x/y: a tree per study from each row's parent label; leaves one ROW apart, parents centred. */
function layout(rows) {
  const nodes = [];
  const edges = [];
  let leaf = 0;
  const place = (node, kids) => {
    nodes.push(node);
    node.x = LEVEL[node.kind] * COLUMN;
    if (!kids.length) { node.y = leaf++ * ROW; return; }
    for (const k of kids) edges.push([node, k.node]);
    for (const k of kids) place(k.node, k.kids);
    node.y = (kids[0].node.y + kids[kids.length - 1].node.y) / 2;
  };
  const build = (study, parent, depth) => rows
    .filter((r) => r.study_id === study && (r.parent ?? null) === parent)
    .sort((a, b) => a.label.localeCompare(b.label))
    .map((r) => ({ node: { ...r, id: r.concept }, kids: depth < 4 ? build(study, r.label, depth + 1) : [] }));
  for (const study of [...new Set(rows.map((r) => r.study_id))].sort()) {
    const kids = build(study, null, 1);
    const total = kids.reduce((n, k) => n + (k.node.excerpts ?? 0), 0);
    place({ id: `study:${study}`, kind: "study", label: study, study_id: study, excerpts: total }, kids);
    leaf += 1; // a gap between studies
  }
  return { nodes, edges };
}

function draw(rows, onChoose) {
  if (!rows.length) return [h("p", { class: "muted" }, "No codebook for this choice.")];
  const { nodes, edges } = layout(rows);
  const xs = nodes.map((n) => n.x);
  const ys = nodes.map((n) => n.y);
  const home = { x: Math.min(...xs) - 30, y: Math.min(...ys) - 30,
    w: Math.max(...xs) - Math.min(...xs) + COLUMN + 120, h: Math.max(...ys) - Math.min(...ys) + 60 };
  let view = { ...home };
  const svg = h("svg", { role: "group", "aria-label": "Theme map: studies, themes, subthemes and codes", tabindex: "0",
    id: "theme-map", preserveAspectRatio: "xMinYMin meet" });
  const apply = () => svg.setAttribute("viewBox", `${view.x} ${view.y} ${view.w} ${view.h}`);
  const zoom = (factor, cx = view.x + view.w / 2, cy = view.y + view.h / 2) => {
    view = { x: cx - (cx - view.x) * factor, y: cy - (cy - view.y) * factor, w: view.w * factor, h: view.h * factor };
    apply();
  };
  const pan = (dx, dy) => { view = { ...view, x: view.x + dx * view.w, y: view.y + dy * view.h }; apply(); };
  apply();

  svg.append(h("g", {}, edges.map(([a, b]) => h("path", {
    class: "edge", d: `M${a.x},${a.y} C${(a.x + b.x) / 2},${a.y} ${(a.x + b.x) / 2},${b.y} ${b.x},${b.y}` }))));
  svg.append(h("g", {}, nodes.map((n) => {
    const count = n.excerpts === null || n.excerpts === undefined ? "suppressed" : `${n.excerpts} excerpts`;
    const short = n.label.length > LABEL_CHARS ? `${n.label.slice(0, LABEL_CHARS - 1)}…` : n.label;
    const g = h("g", { class: `node ${n.kind}`, tabindex: "0", role: "button", "data-kind": n.kind, "data-label": n.label,
      "aria-label": `${n.kind}: ${n.label}, ${count}`, transform: `translate(${n.x},${n.y})` },
    h("title", {}, `${n.kind}: ${n.label} (${count})`),
    h("circle", { r: 6 + 2.5 * Math.sqrt(n.excerpts || 0) }),
    h("text", { x: 14, y: 4 }, short));
    const activate = () => {
      for (const s of svg.querySelectorAll(".node.selected")) s.classList.remove("selected");
      g.classList.add("selected");
      onChoose(n);
    };
    g.addEventListener("click", activate);
    g.addEventListener("keydown", (e) => {
      if (e.key === "Enter" || e.key === " ") { e.preventDefault(); activate(); }
    });
    g.addEventListener("focus", () => { // keep the focused node in view for keyboard users
      if (n.x < view.x || n.x > view.x + view.w || n.y < view.y || n.y > view.y + view.h) {
        view = { ...view, x: n.x - view.w / 3, y: n.y - view.h / 2 };
        apply();
      }
    });
    return g;
  })));

  svg.addEventListener("wheel", (e) => {
    e.preventDefault();
    const box = svg.getBoundingClientRect();
    zoom(e.deltaY > 0 ? 1.15 : 1 / 1.15, view.x + ((e.clientX - box.left) / box.width) * view.w,
      view.y + ((e.clientY - box.top) / box.height) * view.h);
  }, { passive: false });
  let drag = null;
  svg.addEventListener("pointerdown", (e) => {
    if (e.target.closest(".node")) return;
    drag = { x: e.clientX, y: e.clientY };
    svg.setPointerCapture(e.pointerId);
  });
  svg.addEventListener("pointermove", (e) => {
    if (!drag) return;
    const box = svg.getBoundingClientRect();
    pan(-(e.clientX - drag.x) / box.width, -(e.clientY - drag.y) / box.height);
    drag = { x: e.clientX, y: e.clientY };
  });
  svg.addEventListener("pointerup", () => { drag = null; });
  svg.addEventListener("keydown", (e) => {
    if (e.target !== svg) return;
    const moves = { ArrowLeft: [-0.1, 0], ArrowRight: [0.1, 0], ArrowUp: [0, -0.1], ArrowDown: [0, 0.1] };
    if (moves[e.key]) { e.preventDefault(); pan(...moves[e.key]); }
    if (e.key === "+" || e.key === "=") zoom(1 / 1.25);
    if (e.key === "-") zoom(1.25);
  });
  const toolbar = h("div", { class: "toolbar", role: "toolbar", "aria-label": "Zoom" },
    h("button", { type: "button", class: "secondary", onclick: () => zoom(1 / 1.25) }, "Zoom in"),
    h("button", { type: "button", class: "secondary", onclick: () => zoom(1.25) }, "Zoom out"),
    h("button", { type: "button", class: "secondary", onclick: () => { view = { ...home }; apply(); } }, "Reset view"),
    h("span", { class: "hint" }, `${nodes.length} nodes. Drag or arrow keys to pan; wheel or + / − to zoom.`));
  return [toolbar, svg];
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
      excerptList(answer));
    detail.dataset.state = "ready";
  } catch (err) {
    detail.lastChild.replaceWith(errorBox(err));
    detail.dataset.state = "error";
  }
}
