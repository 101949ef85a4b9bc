// Matrix heatmap: NVivo-style matrix coding (rows roles / teams / features / event types / an
// attribute; columns themes / subthemes / codes; measure excerpts / participants / studies),
// colour-scaled; a cell opens its excerpts. Suppressed cells are shown as such and stay closed. Rows and
// columns without excerpts are shown too (their cells empty), with row and column sums, row or column
// percentages, and the crosstab as a download (XLSX).
import { download, get, getOnce, url } from "../api.js";
import { citations, codebook, studyOptions, vocabOptions } from "../choices.js";
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
const SHOW = [
  { value: "counts", label: "Counts" },
  { value: "row", label: "Counts and row %" },
  { value: "column", label: "Counts and column %" },
];

export async function render(root) {
  const schema = await getOnce("/questions/matrix/schema");
  const param = (name) => schema.params.find((p) => p.name === name);
  const rows = select(param("rows").choices.map((c) => ({ value: c, label: c })), param("rows").default, { id: "mx-rows" });
  const cols = select(param("columns").choices.map((c) => ({ value: c, label: c })), param("columns").default, { id: "mx-columns" });
  const measure = select(MEASURES, "excerpts", { id: "mx-measure" });
  const percent = select(SHOW, "counts", { id: "mx-percent" });
  const studies = await studyOptions();
  const study = select([{ value: "", label: "(all studies)" }, ...studies], "", { id: "mx-study" });
  const attribute = h("input", { type: "text", id: "mx-attribute", maxlength: 200 });
  const attributeField = field("Attribute name", attribute, "Used when rows = attribute.");
  const grid = h("section", { id: "matrix-grid", "aria-label": "Matrix" });
  const detail = h("section", { id: "cell-excerpts", "aria-live": "polite", "aria-label": "Excerpts of the chosen cell" });
  const form = h("form", { class: "controls" },
    field("Rows", rows), field("Columns", cols), field("Cell measure", measure), field("Show", percent),
    field("Study", study), attributeField,
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
      const [answer, rowItems, colItems] = await Promise.all([get("/questions/matrix", params),
        rowUniverse(params.rows, params.study, studies), codebook(params.study, params.columns)]);
      const all = { rows: rowItems, columns: colItems.map((c) => c.label) };
      grid.replaceChildren(downloads(params, measure.value), heatmap(answer, all, params, measure.value, percent.value, detail));
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

/** The row items the data hold whether or not anything they said was coded: roles and event types from
 * each study's overview, teams and their features from /teams; none for attributes (values unknown). */
async function rowUniverse(kind, study, studies) {
  if (kind === "team" || kind === "feature") {
    const teams = (await get("/teams", { study })).rows;
    return kind === "team" ? teams.map((t) => t.team)
      : teams.flatMap((t) => String(t.features || "").split("; ").filter(Boolean));
  }
  const section = { role: "participants by role", "event-type": "events by type" }[kind];
  if (!section) return [];
  const ids = study ? [study] : studies.filter((s) => s.excerpts !== 0).map((s) => s.value);
  const overviews = await Promise.all(ids.map((id) => get(`/studies/${id}`)));
  return overviews.flatMap((o) => o.rows.filter((x) => x.section === section && x.item !== "role not recorded")
    .map((x) => x.item));
}

/** The matrix as downloads: the crosstab (rows × columns with totals, the chosen measure) as XLSX, and
 * the long form (one row per cell, all three measures) as CSV. */
function downloads(params, measure) {
  const link = (file, name, cls, text) => h("a", { href: url("/questions/matrix", file), class: cls, onclick: (e) => {
    e.preventDefault();
    download("/questions/matrix", file, name).catch(() => {});
  } }, text);
  const stem = `matrix-${params.rows}-by-${params.columns}`;
  return h("div", { class: "downloads" },
    link({ ...params, layout: "crosstab", measure, format: "xlsx" }, `${stem}-${measure}.xlsx`, "download-crosstab",
      "Download the crosstab (XLSX, with totals)"),
    link({ ...params, format: "csv" }, `${stem}.csv`, "download-long", "Download one row per cell (CSV, all three measures)"));
}

function heatmap(answer, all, params, measure, show, detail) {
  const sorted = (items) => [...new Set(items)].sort((a, b) => a.localeCompare(b));
  const rowLabels = sorted([...all.rows, ...answer.rows.map((r) => r.row)]);
  const colLabels = sorted([...all.columns, ...answer.rows.map((r) => r.column)]);
  if (!rowLabels.length || !colLabels.length) {
    return h("div", {}, notices(answer.notices), h("p", {}, "No coded excerpts for this choice."));
  }
  const cells = new Map(answer.rows.map((r) => [`${r.row}\u0000${r.column}`, r]));
  const values = answer.rows.map((r) => r[measure]).filter((v) => typeof v === "number");
  const max = Math.max(1, ...values);
  const measureLabel = MEASURES.find((m) => m.value === measure).label;
  // Sums of the shown cells; a suppressed cell makes its row's and column's sums lower bounds.
  const sum = (pairs) => pairs.reduce((acc, [r, c]) => {
    const v = cells.get(`${r}\u0000${c}`)?.[measure];
    if (v === null) return { n: acc.n, partial: true };
    return { n: acc.n + (typeof v === "number" ? v : 0), partial: acc.partial };
  }, { n: 0, partial: false });
  const rowSum = new Map(rowLabels.map((r) => [r, sum(colLabels.map((c) => [r, c]))]));
  const colSum = new Map(colLabels.map((c) => [c, sum(rowLabels.map((r) => [r, c]))]));
  const grand = sum(rowLabels.flatMap((r) => colLabels.map((c) => [r, c])));
  const totalCell = (s, attrs) => h("td", { class: "total", ...attrs }, s.partial ? `≥ ${s.n}` : String(s.n));
  const pct = (v, s) => (s.partial || s.n === 0 ? "—" : `${Math.round((100 * v) / s.n)}%`);

  const td = (row, col) => {
    const r = cells.get(`${row}\u0000${col}`);
    if (!r) {
      return h("td", { class: "empty", "data-row": row, "data-column": col },
        h("span", { "aria-label": `${row}, ${col}: none` }, "·"));
    }
    const v = r[measure];
    if (v === null || v === undefined) {
      return h("td", { class: "suppressed" }, h("button", {
        type: "button", "aria-label": `${row}, ${col}: suppressed (a small count)`,
        onclick: (e) => openCell(e, detail, h("p", {}, `${row} × ${col}: this count is below the disclosure threshold, `
          + "so neither it nor its excerpts are shown. Reading them needs the 'excerpts' scope.")),
      }, "suppressed"));
    }
    const c = colour(v / max);
    const share = show === "row" ? pct(v, rowSum.get(row)) : show === "column" ? pct(v, colSum.get(col)) : null;
    const button = h("button", {
      type: "button", "data-row": row, "data-column": col,
      "aria-label": `${row}, ${col}: ${v} ${measureLabel}${share ? `, ${share} of the ${show}` : ""}`,
      onclick: (e) => openCell(e, detail, drill(params, row, col)),
    }, String(v), share ? h("span", { class: "pct" }, share) : null);
    button.style.background = c.bg;
    button.style.color = c.ink;
    return h("td", {}, button);
  };

  return h("div", {},
    notices(answer.notices),
    legend(max, measureLabel),
    h("div", { class: "table-wrap" }, h("table", { class: "heatmap" },
      h("caption", {}, `${measureLabel}: ${params.rows} × ${params.columns}. Choose a cell to list its excerpts.`),
      h("thead", {}, h("tr", {}, h("td", {}), colLabels.map((c) => h("th", { scope: "col" }, c)),
        h("th", { scope: "col", class: "total" }, "Row sum"))),
      h("tbody", {}, rowLabels.map((r) => h("tr", { class: rowSum.get(r).n === 0 && !rowSum.get(r).partial ? "empty-row" : null },
        h("th", { scope: "row" }, r), colLabels.map((c) => td(r, c)), totalCell(rowSum.get(r), { "data-row-sum": r })))),
      h("tfoot", {}, h("tr", {}, h("th", { scope: "row" }, "Column sum"),
        colLabels.map((c) => totalCell(colSum.get(c), { "data-column-sum": c })), totalCell(grand, { id: "mx-grand" }))))),
    h("p", { class: "hint" }, "Sums add the cells: an excerpt, participant or study counted in two cells counts in each. "
      + "≥ marks a sum that leaves out a suppressed cell; its percentages are not given (—)."));
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
    h("span", {}, swatch, " suppressed"), h("span", {}, "· none (0)"));
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
  return h("div", {}, heading, excerptList(merged, { cites: await citations() }));
}
