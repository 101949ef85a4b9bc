// Matrix heatmap: NVivo-style matrix coding (rows roles / teams / features / event types / an
// attribute; columns themes / subthemes / codes; measure excerpts / participants / studies),
// colour-scaled; a cell opens its excerpts. Suppressed cells are shown as such and stay closed.
import { get, getOnce } from "../api.js";
import { codebook, studyOptions, vocabOptions } from "../choices.js";
import { errorBox, excerptList, field, h, notices, select } from "../ui.js";

export const TITLE = "Matrix heatmap";
const MEASURES = [
  { value: "excerpts", label: "Coding references (excerpts)" },
  { value: "participants", label: "Cases coded (participants)" },
  { value: "studies", label: "Studies coded" },
];
// Sequential blues (ColorBrewer), light to dark: readable for the common colour-vision deficiencies.
const RAMP = [[239, 246, 252], [158, 202, 225], [66, 146, 198], [8, 81, 156], [8, 48, 107]];
const DRILL_LIMIT = 1000;

export async function render(root) {
  const schema = await getOnce("/questions/matrix/schema");
  const param = (name) => schema.params.find((p) => p.name === name);
  const rows = select(param("rows").choices.map((c) => ({ value: c, label: c })), param("rows").default, { id: "mx-rows" });
  const cols = select(param("columns").choices.map((c) => ({ value: c, label: c })), param("columns").default, { id: "mx-columns" });
  const measure = select(MEASURES, "excerpts", { id: "mx-measure" });
  const study = select([{ value: "", label: "(all studies)" }, ...(await studyOptions())], "", { id: "mx-study" });
  const attribute = h("input", { type: "text", id: "mx-attribute", maxlength: 200 });
  const attributeField = field("Attribute name", attribute, "Used when rows = attribute.");
  const grid = h("section", { id: "matrix-grid", "aria-label": "Matrix" });
  const detail = h("section", { id: "cell-excerpts", "aria-live": "polite", "aria-label": "Excerpts of the chosen cell" });
  const form = h("form", { class: "controls" },
    field("Rows", rows), field("Columns", cols), field("Cell measure", measure), field("Study", study), attributeField,
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Show matrix")));
  const syncAttribute = () => { attributeField.hidden = rows.value !== "attribute"; };
  rows.addEventListener("change", syncAttribute);
  syncAttribute();
  root.append(form, grid, detail);

  const show = async () => {
    const params = { rows: rows.value, columns: cols.value, study: study.value,
      attribute: rows.value === "attribute" ? attribute.value : "" };
    detail.replaceChildren();
    try {
      const answer = await get("/questions/matrix", params);
      grid.replaceChildren(heatmap(answer, params, measure.value, detail));
    } catch (err) {
      grid.replaceChildren(errorBox(err));
    }
  };
  form.addEventListener("submit", (e) => { e.preventDefault(); show(); });
  await show();
}

function colour(t) {
  const x = Math.max(0, Math.min(1, t)) * (RAMP.length - 1);
  const i = Math.min(Math.floor(x), RAMP.length - 2);
  const f = x - i;
  const rgb = RAMP[i].map((v, k) => Math.round(v + (RAMP[i + 1][k] - v) * f));
  return { bg: `rgb(${rgb.join(",")})`, ink: t > 0.45 ? "#ffffff" : "#1b1f24" };
}

function heatmap(answer, params, measure, detail) {
  const rowLabels = [...new Set(answer.rows.map((r) => r.row))].sort((a, b) => a.localeCompare(b));
  const colLabels = [...new Set(answer.rows.map((r) => r.column))].sort((a, b) => a.localeCompare(b));
  if (!rowLabels.length) return h("div", {}, notices(answer.notices), h("p", {}, "No coded excerpts for this choice."));
  const cells = new Map(answer.rows.map((r) => [`${r.row}\u0000${r.column}`, r]));
  const values = answer.rows.map((r) => r[measure]).filter((v) => typeof v === "number");
  const max = Math.max(1, ...values);
  const measureLabel = MEASURES.find((m) => m.value === measure).label;

  const td = (row, col) => {
    const r = cells.get(`${row}\u0000${col}`);
    if (!r) return h("td", { class: "empty" }, h("span", { "aria-label": `${row}, ${col}: none` }, "·"));
    const v = r[measure];
    if (v === null || v === undefined) {
      return h("td", { class: "suppressed" }, h("button", {
        type: "button", "aria-label": `${row}, ${col}: suppressed (a small count)`,
        onclick: (e) => openCell(e, detail, h("p", {}, `${row} × ${col}: this count is below the disclosure threshold, `
          + "so neither it nor its excerpts are shown. Reading them needs the 'excerpts' scope.")),
      }, "suppressed"));
    }
    const c = colour(v / max);
    const button = h("button", {
      type: "button", "data-row": row, "data-column": col, "aria-label": `${row}, ${col}: ${v} ${measureLabel}`,
      onclick: (e) => openCell(e, detail, drill(params, row, col)),
    }, String(v));
    button.style.background = c.bg;
    button.style.color = c.ink;
    return h("td", {}, button);
  };

  return h("div", {},
    notices(answer.notices),
    legend(max, measureLabel),
    h("div", { class: "table-wrap" }, h("table", { class: "heatmap" },
      h("caption", {}, `${measureLabel}: ${params.rows} × ${params.columns}. Choose a cell to list its excerpts.`),
      h("thead", {}, h("tr", {}, h("td", {}), colLabels.map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, rowLabels.map((r) => h("tr", {}, h("th", { scope: "row" }, r), colLabels.map((c) => td(r, c))))))));
}

function legend(max, label) {
  const steps = [0, 0.25, 0.5, 0.75, 1];
  const swatch = h("span", { class: "swatch" });
  swatch.style.background = "repeating-linear-gradient(45deg, #eceff3, #eceff3 .35rem, #d3d9e0 .35rem, #d3d9e0 .7rem)";
  return h("div", { class: "legend", "aria-label": "Colour scale" },
    h("span", {}, `${label}:`),
    h("span", { class: "ramp" }, steps.map((t) => {
      const s = h("span", { title: String(Math.round(t * max)) });
      s.style.background = colour(t).bg;
      return s;
    })),
    h("span", {}, `0 to ${max}`),
    h("span", {}, swatch, " suppressed"), h("span", {}, "· none"));
}

/** Mark the chosen cell and show `content` (a node or a promise of one) below the grid. */
async function openCell(event, detail, content) {
  for (const b of document.querySelectorAll("table.heatmap button.selected")) b.classList.remove("selected");
  event.currentTarget.classList.add("selected");
  detail.dataset.state = "loading";
  detail.replaceChildren(h("p", {}, "Loading excerpts…"));
  try {
    detail.replaceChildren(await content);
    detail.dataset.state = "ready";
  } catch (err) {
    detail.replaceChildren(errorBox(err));
    detail.dataset.state = "error";
  }
}

/** The excerpts behind one cell, through GET /excerpts: the column's concept(s) as `code` (descendants
 * included, as the matrix counts them); the row as a vocabulary filter where the API has one, then kept
 * to rows whose label is exactly the cell's (the matrix counts a speaker's own role, not narrower ones). */
async function drill(params, row, col) {
  const heading = h("h2", {}, `Excerpts: ${row} × ${col}`);
  if (params.rows === "attribute") {
    return h("div", {}, heading, h("p", {}, "Excerpts cannot be listed by participant attribute: the excerpt filters have no attribute."));
  }
  const concepts = (await codebook(params.study, params.columns)).filter((r) => r.label === col);
  const extra = {};
  const vocab = { role: "role", feature: "feature", "event-type": "mode" }[params.rows];
  if (vocab) {
    const concept = (await vocabOptions(vocab)).find((o) => o.concept.label === row);
    if (concept) extra[vocab] = concept.value;
  }
  const answers = await Promise.all(concepts.map((c) =>
    get("/excerpts", { code: c.concept, study: params.study, limit: DRILL_LIMIT, ...extra })));
  const field_ = { role: "speaker_role", team: "team", "event-type": "event_type" }[params.rows];
  const seen = new Set();
  const rows = answers.flatMap((a) => a.rows)
    .filter((x) => !field_ || x[field_] === row)
    .filter((x) => !seen.has(x.excerpt) && seen.add(x.excerpt));
  const merged = { notices: [...new Set(answers.flatMap((a) => a.notices))], rows };
  return h("div", {}, heading, h("p", { class: "excerpt-count" }, `${rows.length} excerpt(s).`), excerptList(merged));
}
