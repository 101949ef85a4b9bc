// Excerpt browser: filter by study, theme/code, role, team feature, event type, synthetic flag and
// text; each excerpt with its speaker's pseudonym, role, team and event, and a badge when synthetic.
import { get } from "../api.js";
import { ANY, codebook, studyOptions, vocabOptions } from "../choices.js";
import { conceptOptions, errorBox, excerptList, field, h, select } from "../ui.js";

export const TITLE = "Excerpt browser";
const PAGE = 25;

export async function render(root) {
  const [studies, roles, features, modes, concepts] = await Promise.all([
    studyOptions(), vocabOptions("role"), vocabOptions("feature"), vocabOptions("mode"), codebook()]);
  const controls = {
    study: select([ANY, ...studies], "", { id: "ex-study" }),
    code: select([ANY, ...conceptOptions(concepts)], "", { id: "ex-code" }),
    role: select([ANY, ...roles], "", { id: "ex-role" }),
    feature: select([ANY, ...features], "", { id: "ex-feature" }),
    mode: select([ANY, ...modes], "", { id: "ex-mode" }),
    synthetic: select([ANY, { value: "true", label: "only synthetic" }, { value: "false", label: "only non-synthetic" }], "",
      { id: "ex-synthetic" }),
    contains: h("input", { type: "search", id: "ex-contains", maxlength: 500 }),
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

  let offset = 0;
  const show = async () => {
    const params = Object.fromEntries(Object.entries(controls).map(([k, el]) => [k, el.value]));
    results.dataset.state = "loading";
    try {
      // One row more than a page tells whether a next page exists.
      const answer = await get("/excerpts", { ...params, limit: PAGE + 1, offset });
      const more = answer.rows.length > PAGE;
      const rows = answer.rows.slice(0, PAGE);
      const pager = h("div", { class: "pager" },
        h("button", { type: "button", class: "secondary", disabled: offset === 0,
          onclick: () => { offset = Math.max(0, offset - PAGE); show(); } }, "Previous page"),
        h("span", {}, rows.length ? `Excerpts ${offset + 1}–${offset + rows.length}` : "No excerpts"),
        h("button", { type: "button", class: "secondary", disabled: !more,
          onclick: () => { offset += PAGE; show(); } }, "Next page"));
      results.replaceChildren(pager, excerptList(answer, rows));
      results.dataset.state = "ready";
    } catch (err) {
      results.replaceChildren(errorBox(err));
      results.dataset.state = "error";
    }
  };
  form.addEventListener("submit", (e) => { e.preventDefault(); offset = 0; show(); });
  await show();
}
