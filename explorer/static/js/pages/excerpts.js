// Excerpt browser: filter by study, theme/code, role, team feature, event type, synthetic flag and
// text; each excerpt with its speaker's pseudonym, role, team, event and study's short citation, and a
// badge when synthetic. Filters can come in the address (#excerpts?code=…&role=…), as the question
// runner's rows link here.
import { get } from "../api.js";
import { ANY, citations, codebook, studyOptions, vocabOptions } from "../choices.js";
import { conceptOptions, errorBox, excerptList, field, h, select } from "../ui.js";

export const TITLE = "Excerpt browser";
const PAGE = 25;
const FETCH = 1000; // excerpts fetched per filter choice: the total is exact up to this many

/** The filters given in the address after `#excerpts?`. */
export function addressFilters() {
  const query = window.location.hash.split("?")[1] || "";
  return Object.fromEntries(new URLSearchParams(query));
}

export async function render(root) {
  const [studies, roles, features, modes, concepts, cites] = await Promise.all([
    studyOptions(), vocabOptions("role"), vocabOptions("feature"), vocabOptions("mode"), codebook(), citations()]);
  const given = addressFilters();
  const controls = {
    study: select([ANY, ...studies], given.study, { id: "ex-study" }),
    code: select([ANY, ...conceptOptions(concepts)], given.code, { id: "ex-code" }),
    role: select([ANY, ...roles], given.role, { id: "ex-role" }),
    feature: select([ANY, ...features], given.feature, { id: "ex-feature" }),
    mode: select([ANY, ...modes], given.mode, { id: "ex-mode" }),
    synthetic: select([ANY, { value: "true", label: "only synthetic" }, { value: "false", label: "only non-synthetic" }],
      given.synthetic, { id: "ex-synthetic" }),
    contains: h("input", { type: "search", id: "ex-contains", maxlength: 500, value: given.contains }),
  };
  const labels = { study: "Study", code: "Theme / subtheme / code", role: "Speaker role", feature: "Team feature",
    mode: "Event type", synthetic: "Synthetic", contains: "Text contains" };
  const hints = { code: "Includes everything coded below it.", role: "Includes narrower roles.",
    contains: "Searches excerpt text (needs the 'excerpts' scope to be useful)." };
  const form = h("form", { class: "controls", id: "excerpt-filters" },
    Object.entries(controls).map(([k, el]) => field(labels[k], el, hints[k])),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Show excerpts")));
  const results = h("section", { id: "excerpt-results", "aria-live": "polite", "aria-label": "Excerpts" });
  root.append(form, results);

  let all = [];
  let answer = null;
  let offset = 0;
  const page = () => {
    const rows = all.slice(offset, offset + PAGE);
    const total = all.length >= FETCH ? `more than ${FETCH - 1}` : String(all.length);
    const pager = h("div", { class: "pager" },
      h("button", { type: "button", class: "secondary", disabled: offset === 0,
        onclick: () => { offset = Math.max(0, offset - PAGE); page(); } }, "Previous page"),
      h("span", { id: "excerpt-range" }, rows.length ? `Excerpts ${offset + 1}–${offset + rows.length} of ${total}` : "No excerpts"),
      h("button", { type: "button", class: "secondary", disabled: offset + PAGE >= all.length,
        onclick: () => { offset += PAGE; page(); } }, "Next page"));
    results.replaceChildren(pager, excerptList(answer, { rows, cites, total }));
  };
  const show = async () => {
    const params = Object.fromEntries(Object.entries(controls).map(([k, el]) => [k, el.value]));
    results.dataset.state = "loading";
    try {
      answer = await get("/excerpts", { ...params, limit: FETCH, offset: 0 });
      all = answer.rows;
      offset = 0;
      page();
      results.dataset.state = "ready";
    } catch (err) {
      results.replaceChildren(errorBox(err));
      results.dataset.state = "error";
    }
  };
  form.addEventListener("submit", (e) => { e.preventDefault(); show(); });
  await show();
}
