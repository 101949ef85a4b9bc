// Studies: citation with DOI link; design, sample, setting, analysis and kind (primary study or review);
// a SYNTHETIC badge where the study's data are synthetic; design counts and the theme tree with excerpt counts.
import { get, studyId } from "../api.js";
import { codebook } from "../choices.js";
import { errorBox, h, notices } from "../ui.js";

export const TITLE = "Studies";
const MAX_DEPTH = 6;

const count = (n) => (n === null || n === undefined ? h("span", { class: "suppressed" }, "suppressed") : String(n));

export async function render(root) {
  const answer = await get("/studies");
  const coded = answer.rows.filter((r) => r.excerpts !== 0);
  const others = answer.rows.filter((r) => r.excerpts === 0);
  root.append(notices(answer.notices),
    h("p", {}, `${answer.rows.length} studies; ${coded.length} with coded excerpts.`),
    h("section", { "aria-labelledby": "coded-h" }, h("h2", { id: "coded-h" }, "Studies with coded excerpts"),
      coded.map((r) => study(r, true))));
  if (others.length) {
    root.append(h("section", { "aria-labelledby": "other-h" },
      h("h2", { id: "other-h" }, "Study-level records (no coded excerpts yet)"),
      others.map((r) => study(r, false))));
  }
  // The coded studies' design and theme trees are what this page is for: load them now.
  await Promise.all([...root.querySelectorAll("details[data-study][open]")].map(fill));
}

const about = (label, value) => h("div", {}, h("dt", {}, label),
  h("dd", {}, value ? String(value) : h("span", { class: "muted" }, "not recorded")));

function study(r, open) {
  const id = studyId(r.study);
  const details = h("details", { "data-study": id, open },
    h("summary", {}, "Design counts and theme tree"), h("div", { class: "detail-body" }, h("p", {}, "Loading…")));
  details.addEventListener("toggle", () => { if (details.open && !details.dataset.filled) fill(details); });
  return h("article", { class: "study", id: `study-${id}`, "data-kind": r.kind },
    h("h3", {}, r.title),
    h("p", { class: "badges" },
      h("span", { class: `badge kind study-kind ${r.kind === "review" ? "review" : "primary"}` }, r.kind || "primary study"),
      r.synthetic ? h("span", { class: "badge synthetic",
        title: "Participant-level data in this study (participants, transcripts, excerpts) are synthetic" },
      "SYNTHETIC") : null,
      r.synthetic ? h("span", { class: "hint" }, " participant-level data invented for illustration") : null),
    r.citation ? h("p", { class: "citation" }, r.citation) : null,
    h("p", {}, r.doi ? h("a", { class: "doi", href: `https://doi.org/${r.doi}`, rel: "noopener" }, `doi:${r.doi}`)
      : h("span", { class: "muted" }, "No DOI recorded."), h("span", { class: "muted" }, ` · study id ${id}`)),
    h("dl", { class: "about" },
      about("Design", r.design), about("Sample", r.sample), about("Setting", r.setting), about("Analysis", r.analysis)),
    h("dl", { class: "counts" },
      h("div", {}, h("dt", {}, "Participants"), h("dd", {}, count(r.participants))),
      h("div", {}, h("dt", {}, "Events"), h("dd", {}, count(r.events))),
      h("div", {}, h("dt", {}, "Excerpts"), h("dd", {}, count(r.excerpts)))),
    details);
}

async function fill(details) {
  details.dataset.filled = "1";
  const body = details.querySelector(".detail-body");
  const id = details.dataset.study;
  try {
    const [overview, concepts] = await Promise.all([get(`/studies/${id}`), codebook(id)]);
    const section = (name) => overview.rows.filter((x) => x.section === name);
    body.replaceChildren(notices(overview.notices),
      h("div", { class: "design" },
        countList("Participants by role", section("participants by role")),
        countList("Events by type", section("events by type"))),
      h("h4", {}, "Theme tree (excerpts coded with each concept or below it)"),
      concepts.length ? tree(concepts) : h("p", { class: "muted" }, "No codebook."));
  } catch (err) {
    body.replaceChildren(errorBox(err));
  }
}

function countList(title, rows) {
  return h("div", {}, h("h4", {}, title),
    rows.length ? h("ul", {}, rows.map((x) => h("li", {}, `${x.item}: `, count(x.n)))) : h("p", { class: "muted" }, "None recorded."));
}

/** Themes → subthemes → codes, nested by each row's parent label (parents are given by label, so the
depth is capped: a label repeated across levels cannot make the tree loop). */
function tree(rows) {
  const children = (parent) => rows.filter((r) => (r.parent ?? null) === parent).sort((a, b) => a.label.localeCompare(b.label));
  const branch = (list, depth) => h("ul", { class: "tree" }, list.map((r) => h("li", { "data-kind": r.kind },
    h("span", { class: "badge kind" }, r.kind), " ", r.label, " ", h("span", { class: "count" }, "(", count(r.excerpts), ")"),
    depth < MAX_DEPTH && children(r.label).length ? branch(children(r.label), depth + 1) : null)));
  return branch(children(null), 1);
}
