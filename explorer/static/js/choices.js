// Option lists for dropdowns, read from the API: studies, vocabulary concepts, codebooks.
import { getOnce, studyId } from "./api.js";
import { shortCitation } from "./ui.js";

export const ANY = { value: "", label: "(any)" };

/** Studies as {value: id, label}; studies with excerpts first (they are what one explores). */
export async function studyOptions() {
  const answer = await getOnce("/studies");
  const rows = [...answer.rows].sort((a, b) => (b.excerpts !== 0) - (a.excerpts !== 0) || a.title.localeCompare(b.title));
  return rows.map((r) => ({ value: studyId(r.study), label: `${studyId(r.study)} — ${r.title}`, excerpts: r.excerpts }));
}

/** The concepts of a vocabulary (role, feature, mode) as {value: id, label}, narrower ones indented. */
export async function vocabOptions(name) {
  const concepts = await getOnce(`/vocab/${name}`);
  const out = [];
  const walk = (parent, depth) => {
    for (const c of concepts.filter((x) => (x.broader || null) === parent)) {
      out.push({ value: c.id, label: `${"\u00a0\u00a0".repeat(depth)}${c.label}`, concept: c });
      walk(c.id, depth + 1);
    }
  };
  walk(null, 0);
  return out;
}

/** A study's codebook rows (or every study's, with no id). */
export async function codebook(study, level = "all") {
  return (await getOnce("/questions/codebook", { study, level })).rows;
}

/** Study title → its short citation ("Anestis et al. 2025"; the study id when the citation has no author
 * and year), for excerpt cards, which name their study by title. */
export async function citations() {
  const answer = await getOnce("/studies");
  return new Map(answer.rows.map((r) => [r.title, shortCitation(r.citation) || studyId(r.study)]));
}
