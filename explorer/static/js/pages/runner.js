// Question runner: pick a named question, fill its typed parameters (dropdowns for vocabularies,
// studies and fixed choices), see the table, download CSV / XLSX with the same parameters. A row about a
// code, subtheme, theme or study links to its excerpts in the excerpt browser, with the same filters.
import { EMPTY, download, get, getOnce, studyId, url } from "../api.js";
import { ANY, codebook, studyOptions, vocabOptions } from "../choices.js";
import { dataTable, errorBox, field, h, notices, select } from "../ui.js";

export const TITLE = "Question runner";
const DEFAULT_QUESTION = "challenges-by-context";

export async function render(root) {
  const questions = await getOnce("/questions");
  const picker = select(questions.map((q) => ({ value: q.id, label: q.title })),
    questions.some((q) => q.id === DEFAULT_QUESTION) ? DEFAULT_QUESTION : questions[0]?.id, { id: "question" });
  const about = h("p", { id: "question-about", class: "hint" });
  const form = h("form", { class: "controls", id: "runner-form" });
  const result = h("section", { id: "result", "aria-live": "polite", "aria-label": "Result" });
  root.append(h("form", { class: "controls", onsubmit: (e) => e.preventDefault() },
    field("Question", picker, "The named questions the API answers.")), about, form, result);

  const build = async () => {
    const q = questions.find((x) => x.id === picker.value);
    about.textContent = q.description;
    result.replaceChildren();
    const controls = await Promise.all(q.params.map(control));
    if (q.paged) controls.push({ name: "limit", el: h("input", { type: "number", min: 1, max: 10000, value: 100 }), label: "Rows (limit)" });
    form.replaceChildren(...controls.map((c) => field(c.label || c.name, c.el, c.hint)),
      h("div", { class: "actions" }, h("button", { type: "submit" }, "Run question")));
    form.onsubmit = (e) => {
      e.preventDefault();
      // A cleared text field is sent empty: the API says what it takes instead of applying the default unseen.
      const params = Object.fromEntries(controls.map((c) => [c.name,
        c.el.tagName === "INPUT" && c.el.value === "" ? EMPTY : c.el.value]));
      run(q, params, result);
    };
  };
  picker.addEventListener("change", () => build().catch((err) => form.replaceChildren(errorBox(err))));
  await build();
}

/** The input for one parameter: a dropdown wherever the values are known, else a text/number field. */
async function control(p) {
  const base = { name: p.name, label: `${p.name}${p.required ? " (required)" : ""}`, hint: p.description };
  const none = p.required ? [] : [ANY];
  if (p.type === "concept") return { ...base, el: select([...none, ...(await vocabOptions(p.vocab))], p.default) };
  if (p.type === "study") return { ...base, el: select([...none, ...(await studyOptions())], p.default) };
  if (p.type === "bool") {
    return { ...base, el: select([...none, { value: "true", label: "true" }, { value: "false", label: "false" }], p.default) };
  }
  if (p.choices) return { ...base, el: select(p.choices.map((c) => ({ value: c, label: c })), p.default) };
  if (p.type === "iri") {
    // The iri parameters name codebook concepts: offer them (values are IRIs).
    return { ...base, el: select([ANY, ...conceptChoices(await codebook())], p.default) };
  }
  if (p.type === "int") return { ...base, el: h("input", { type: "number", min: p.minimum, max: p.maximum, value: p.default }) };
  return { ...base, el: h("input", { type: "text", value: p.default ?? "", maxlength: 500 }) };
}

const conceptChoices = (rows) => rows
  .map((r) => ({ value: r.concept, label: `${r.study_id}: ${r.kind} ${r.label}` }))
  .sort((a, b) => a.label.localeCompare(b.label));

async function run(q, params, result) {
  result.replaceChildren(h("p", {}, "Running…"));
  result.dataset.state = "loading";
  try {
    const answer = await get(`/questions/${q.id}`, params);
    const columns = q.columns.filter((c) => answer.columns.includes(c.name));
    const links = ["csv", "xlsx"].map((fmt) => h("a", {
      // A real link (works as is for open scopes); the click goes through fetch so the key is sent.
      href: url(`/questions/${q.id}`, { ...params, format: fmt }), class: `download-${fmt}`, onclick: (e) => {
        e.preventDefault();
        download(`/questions/${q.id}`, { ...params, format: fmt }, `${q.id}.${fmt}`).catch((err) => result.append(errorBox(err)));
      },
    }, `Download ${fmt.toUpperCase()}`));
    const table = dataTable(columns, answer.rows, q.title);
    await linkExcerpts(table, q, params, answer.rows);
    result.replaceChildren(notices(answer.notices),
      h("p", {}, `${answer.rows.length} row(s).`),
      h("div", { class: "downloads" }, links),
      table);
    result.dataset.state = "ready";
  } catch (err) {
    result.replaceChildren(errorBox(err));
    result.dataset.state = "error";
  }
}

const EXCERPT_FILTERS = ["study", "role", "feature", "mode"];

/** The excerpt-browser filters behind one result row: the question's own filters that the excerpt browser
 * has, the row's study, and its most specific code, subtheme or theme (by label: one set of filters per
 * concept with that label, so a label shared by two studies gives two links). None: nothing to link. */
function filtersOf(q, params, row, concepts) {
  const base = {};
  for (const k of EXCERPT_FILTERS) if (q.params.some((p) => p.name === k) && params[k]) base[k] = params[k];
  const study = row.study_id || (q.id === "studies" && row.study ? studyId(row.study) : null);
  if (study) base.study = study;
  if (typeof row.concept === "string" && row.concept) return [{ ...base, code: row.concept }];
  for (const level of ["code", "subtheme", "theme"]) {
    const label = row[level];
    if (typeof label !== "string" || !label) continue;
    return concepts.filter((c) => c.kind === level && c.label === label && (!base.study || c.study_id === base.study))
      .map((c) => ({ ...base, study: c.study_id, code: c.concept }));
  }
  return base.study && row.excerpts !== 0 ? [base] : [];
}

/** Add an "Excerpts" column to the result table: links to each row's excerpts in the excerpt browser. */
async function linkExcerpts(table, q, params, rows) {
  const concepts = await codebook();
  const links = rows.map((r) => filtersOf(q, params, r, concepts));
  if (!links.some((l) => l.length)) return;
  table.querySelector("thead tr").append(h("th", { scope: "col" }, "Excerpts"));
  [...table.querySelectorAll("tbody tr")].forEach((tr, i) => tr.append(h("td", {}, links[i].map((f, k) =>
    [k ? " · " : null, h("a", { class: "row-excerpts", href: `#excerpts?${new URLSearchParams(f)}` },
      links[i].length > 1 ? `list (${f.study})` : "list")]))));
}
