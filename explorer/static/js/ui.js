// Small DOM helpers shared by the pages: elements, tables, notices, errors, excerpt cards.
import { ApiError } from "./api.js";

/** h("p", {class: "x", onclick: f}, "text", child) — a DOM element; null/false children are skipped. */
export function h(tag, attrs = {}, ...children) {
  const svg = ["svg", "g", "path", "circle", "text", "tspan", "title", "line", "rect"].includes(tag);
  const el = svg ? document.createElementNS("http://www.w3.org/2000/svg", tag) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "text") el.textContent = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

let uid = 0;
const newId = (stem) => `${stem}-${++uid}`;

/** A labelled form field around a control; the hint is linked with aria-describedby. */
export function field(labelText, control, hint) {
  const id = control.id || newId("f");
  control.id = id;
  const hintEl = hint ? h("span", { class: "hint", id: `${id}-hint` }, hint) : null;
  if (hintEl) control.setAttribute("aria-describedby", hintEl.id);
  return h("div", { class: "field" }, h("label", { for: id }, labelText), control, hintEl);
}

/** A <select> from [{value, label}], with `value` selected. */
export function select(options, value, attrs = {}) {
  return h("select", attrs, options.map((o) =>
    h("option", { value: o.value, selected: String(o.value) === String(value ?? "") }, o.label)));
}

/** The answer's notices (synthetic content, suppression, withheld text); nothing when there are none. */
export function notices(list) {
  if (!list || list.length === 0) return document.createDocumentFragment();
  return h("div", { class: "notices", role: "note" }, h("ul", {}, list.map((n) => h("li", {}, n))));
}

/** An error box; a refused call says which scope or key is needed. */
export function errorBox(err) {
  const status = err instanceof ApiError ? err.status : null;
  const hint = status === 401 ? " Paste an API key with this scope above."
    : status === 403 ? " Your key does not carry this scope." : "";
  return h("div", { class: "error", role: "alert" },
    status ? `Refused (${status}): ${err.message}.${hint}` : `Something went wrong: ${err.message}`);
}

const syntheticBadge = () =>
  h("span", { class: "badge synthetic", title: "Written to illustrate the study design; not a quotation" }, "SYNTHETIC");

const isNull = (v) => v === null || v === undefined;

/** A data table: `columns` [{name, label, count}], rows as objects; suppressed counts say so. */
export function dataTable(columns, rows, caption) {
  return h("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": caption },
    h("table", { class: "data" },
      h("caption", {}, caption),
      h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c.label || c.name)))),
      h("tbody", {}, rows.map((r) => h("tr", {}, columns.map((c) => cell(c, r[c.name])))))));
}

function cell(column, value) {
  if (column.count && isNull(value)) return h("td", { class: "num suppressed" }, "suppressed");
  if (isNull(value)) return h("td", {}, "");
  if (value === true || value === false) return h("td", {}, value ? "yes" : "no");
  return h("td", { class: typeof value === "number" ? "num" : null }, String(value));
}

/** One excerpt card: speaker pseudonym, role, team, event, codes, the study's short citation (its full
 * title on hover), provenance; text only when given. */
function excerptCard(x, cites) {
  const hasText = typeof x.text === "string";
  const cite = cites.get(x.study_title) || x.study_title || "";
  return h("article", { class: `excerpt${x.synthetic ? " is-synthetic" : ""}` },
    h("header", {},
      x.synthetic ? syntheticBadge() : null,
      h("span", {}, h("strong", {}, x.speaker || "unattributed"), x.speaker_role ? ` · ${x.speaker_role}` : ""),
      x.team ? h("span", {}, x.team) : null,
      x.event ? h("span", {}, `${x.event}${x.event_type ? ` (${x.event_type})` : ""}`) : null),
    hasText ? h("blockquote", { class: "excerpt-text" }, x.text)
      : h("p", { class: "withheld" }, "Excerpt text withheld: reading it needs the 'excerpts' scope."),
    h("footer", {},
      `Codes: ${x.codes || "—"} · `, h("cite", { class: "study-cite", title: x.study_title || "" }, cite),
      ` · ${x.transcript || ""}`,
      isNull(x.start) ? "" : ` [${x.start}–${x.end}]`,
      x.tool ? ` · from ${x.source_file || "?"} (${x.tool})` : ""));
}

/** "Surname 2025", "Surname & Other 2025" or "Surname et al. 2025" from a citation that starts
 * "Surname I, Other J, … (2025)."; null when it does not. */
export function shortCitation(citation) {
  const m = /^(.+?)\s*\((\d{4}[a-z]?)\)/.exec(citation || "");
  if (!m) return null;
  const etAl = /et al\.?$/.test(m[1].trim());
  const names = m[1].replace(/,?\s*et al\.?$/, "").split(/\s*,\s*|\s+(?:and|&)\s+/).filter(Boolean);
  const surname = (name) => name.replace(/(\s+[A-Z]{1,3}\.?)+$/, "").trim();
  if (!names.length) return null;
  const who = names.length === 1 && !etAl ? surname(names[0])
    : names.length === 2 && !etAl ? `${surname(names[0])} & ${surname(names[1])}` : `${surname(names[0])} et al.`;
  return `${who} ${m[2]}`;
}

/** A list of excerpt cards with the answer's notices and a total, or a sentence when there are none.
 * `cites` maps a study title to its short citation; `total` is how many the whole list holds (a string
 * such as "1000+" when only a part was fetched). */
export function excerptList(answer, { rows = answer.rows, cites = new Map(), total = null } = {}) {
  const count = total ?? String(rows.length);
  return h("div", {},
    notices(answer.notices),
    rows.length === 0 ? h("p", {}, "No excerpts match.")
      : h("div", {}, h("p", { class: "excerpt-count" }, count === "1" ? "1 excerpt." : `${count} excerpts.`),
        h("div", { class: "excerpt-list" }, rows.map((x) => excerptCard(x, cites)))));
}

/** Code / subtheme / theme options in tree order, indented by level, values = concept IRIs. */
export function conceptOptions(codebookRows) {
  const byParent = new Map();
  for (const r of codebookRows) {
    const key = `${r.study_id}|${r.parent ?? ""}`;
    if (!byParent.has(key)) byParent.set(key, []);
    byParent.get(key).push(r);
  }
  const out = [];
  const walk = (study, parent, depth) => {
    for (const r of (byParent.get(`${study}|${parent}`) || []).sort((a, b) => a.label.localeCompare(b.label))) {
      out.push({ value: r.concept, label: `${"\u00a0\u00a0".repeat(depth)}${r.kind}: ${r.label} (${study})` });
      if (depth < 5) walk(study, r.label, depth + 1); // parents are labels: cap the depth so a repeated label cannot loop
    }
  };
  for (const study of [...new Set(codebookRows.map((r) => r.study_id))].sort()) walk(study, "", 0);
  return out;
}
