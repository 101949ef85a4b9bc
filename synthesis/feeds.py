"""Review feeds drafted from the graph, with the judgements left to reviewers (decision 0033).

GRADE-CERQual evidence profiles and a Summary of Qualitative Findings in iSoQ's shape and codes, a JBI
meta-aggregation worksheet (synthesis/sparql/jbi.rq), and study references as RIS and CSL-JSON. Every
function takes the store and a Catalog (docs/synthesis.md, "Feeds").
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from qualkg.ontology.iris import doi_iri
from qualkg.queries.catalog import Catalog
from qualkg.store.base import GraphStore
from qualkg.synthesis.judgements import current_assessments
from qualkg.synthesis.questions import synthesis_catalog

CERQUAL_VERSION = "GRADE-CERQual 2018 (Lewin et al., Implement Sci 13:10); codes as in iSoQ"
COMPONENTS: dict[str, str] = {  # iSoQ key → component name
    "methodological_limitations": "Methodological limitations",
    "coherence": "Coherence",
    "adequacy": "Adequacy of data",
    "relevance": "Relevance",
}
CONCERNS: dict[str, str] = {"0": "No/Very minor concerns", "1": "Minor concerns", "2": "Moderate concerns",
                            "3": "Serious concerns"}
CONFIDENCE: dict[str, str] = {"hc": "High confidence", "mc": "Moderate confidence", "lc": "Low confidence",
                              "vc": "Very low confidence"}
CONFIDENCE_CODES: dict[str, str] = {"high": "hc", "moderate": "mc", "low": "lc", "very low": "vc"}  # recorded → iSoQ
SOQF_COLUMNS = ("No.", "Summarised review finding", "Review finding group", "GRADE-CERQual Assessment",
                "Explanation of GRADE-CERQual assessment", "References")


class UnknownFinding(KeyError):
    """No review finding has this notation."""


def _split(value: object, sep: str) -> list[str]:
    return [v for v in str(value or "").split(sep) if v]


def finding_detail(store: GraphStore, catalog: Catalog, finding: str) -> dict[str, list[str]]:
    """The finding's label, statement, group and its frame's review context, as key → values."""
    df = synthesis_catalog(catalog.iris).run(store, "finding-detail", {"finding": finding})
    if df.empty:
        raise UnknownFinding(finding)
    out: dict[str, list[str]] = {}
    for key, value in df.itertuples(index=False):
        out.setdefault(key, []).append(value)
    return out


# -- provenance of the evidence: which studies, marked synthetic, reviews, overlap ---------------------------

SYNTHETIC_MARK = "[synthetic data]"
NOT_ASSESSED = "not assessed"


def finding_studies(store: GraphStore, catalog: Catalog, finding: str | None = None) -> dict[str, list[dict[str, Any]]]:
    """Finding notation → its supporting studies (synthesis/sparql/finding-studies.rq), each with its `cite`."""
    df = synthesis_catalog(catalog.iris).run(store, "finding-studies", {"finding": finding})
    out: dict[str, list[dict[str, Any]]] = {}
    for record in df.to_dict(orient="records"):
        r = {str(k): v for k, v in record.items()}
        r["cite"] = cite(r)
        out.setdefault(r["finding"], []).append(r)
    return out


def cite(study: Mapping[str, Any]) -> str:
    """A study's citation with its marks: [review], [unverified], [synthetic data], [invented study]; a study
    with no recorded citation is named by its title, never by its IRI."""
    base = study["citation"] or f"{study['title']} (no citation recorded)"
    marks = [m for m, on in (("[review]", study["review"]), ("[unverified]", study["unverified"]),
                             (SYNTHETIC_MARK, study["synthetic"]), ("[invented study]", study["invented"])) if on]
    return " ".join([base, *marks])


def overlap(studies: list[dict[str, Any]]) -> str:
    """What the study records say about primary studies shared by the reviews behind one finding."""
    reviews = [s for s in studies if s["review"]]
    if len(reviews) < 2 and not any(s["includes"] for s in reviews):
        return ""
    unknown = [s["cite"] for s in reviews if not s["includes"]]
    supporting = {s["study"]: s["cite"] for s in studies}
    shared = []
    for i, a in enumerate(reviews):
        inc = set(a["includes"].split())
        shared += [f"{a['cite']} includes {supporting[p]}" for p in sorted(inc & set(supporting))]
        for b in reviews[i + 1:]:
            both = inc & set(b["includes"].split())
            if both:
                shared.append(f"{a['cite']} and {b['cite']} share {len(both)} included stud"
                              f"{'y' if len(both) == 1 else 'ies'}")
    parts = shared or (["no shared included study recorded"] if not unknown else [])
    if unknown:
        parts.append(f"overlap unknown: no included studies recorded for {len(unknown)} review(s)")
    return "; ".join(parts)


def annotate_findings(df: pd.DataFrame, studies: Mapping[str, list[dict[str, Any]]]) -> pd.DataFrame:
    """The recurring-findings rows as the question gives them, plus three columns: the references with their
    marks (cite: [review], [unverified], [synthetic data]; never a bare IRI), how many supporting studies
    rest on synthetic data, and the overlap between the reviews."""
    return df.assign(
        references=[" | ".join(s["cite"] for s in studies.get(f, [])) for f in df["finding"]],
        synthetic_studies=[sum(bool(s["synthetic"]) for s in studies.get(f, [])) for f in df["finding"]],
        review_overlap=[overlap(studies.get(f, [])) for f in df["finding"]])


def notices(store: GraphStore, catalog: Catalog, *, proposed: bool) -> list[str]:
    """Plain sentences every feed carries: demonstration frames and mapping sets, and how many mappings are
    proposed (left out, or, with `proposed`, included without review)."""
    syn = synthesis_catalog(catalog.iris)
    out = [f"The review frame \"{f.title}\" is a demonstration written by qualkg, not the findings of a "
           "published review." for f in syn.run(store, "frames", {}).itertuples(index=False) if f.synthetic]
    status = syn.run(store, "mapping-review-status", {})
    out += [f"The mapping set {r.set} is a demonstration: its mappings show how qualkg works and are not "
            "evidence." for r in status.itertuples(index=False) if r.demonstration]
    waiting = int(status["proposed"].sum()) if not status.empty else 0
    if proposed and waiting:
        out.append(f"This view includes {waiting} proposed mapping(s) that no second person has reviewed "
                   "(mappings=all); they are not evidence until reviewed.")
    elif waiting:
        out.append(f"{waiting} proposed mapping(s) without a recorded reviewer are not counted; ask with "
                   "mappings=all to see them.")
    out.append(f"A study marked {SYNTHETIC_MARK} supports a finding through SYNTHETIC codes or excerpts "
               "written for qualkg, not through its published findings.")
    return out


def _countries(studies: list[dict[str, Any]], context: list[str]) -> str:
    known = [s for s in studies if s["countries"]]
    found = sorted({c for s in known for c in s["countries"].split(", ")})
    if not studies:
        return "countries: no supporting study"
    text = f"countries recorded for {len(known)} of {len(studies)} studies"
    text += f": {', '.join(found)}" if found else ""
    missing = [s["cite"] for s in studies if not s["countries"]]
    if missing:
        text += f"; unknown for {' | '.join(missing)}"
    if context and found:
        outside = [c for c in found if c not in context]
        text += (f"; outside the review context ({', '.join(context)}): {', '.join(outside)}" if outside
                 else f"; those recorded are within the review context ({', '.join(context)})")
    return text


def _speakers(label: str, found: list[str], context: list[str], studies: list[dict[str, Any]]) -> str:
    held = [s for s in studies if s["excerpts"]]
    if not held:
        return f"{label}: unknown (qualkg holds no coded excerpts of the supporting studies)"
    found, context = sorted(found), sorted(context)
    text = f"{label} of the speakers in qualkg's excerpts ({len(held)} of {len(studies)} studies)"
    text += f": {', '.join(found)}" if found else ": not recorded"
    if context and found:
        outside = [f for f in found if f not in context]
        text += f" (outside the review context: {', '.join(outside)})" if outside else " (within the review context)"
    return text + ("; unknown for the studies without excerpts" if len(held) < len(studies) else "")


def _count(value: float | None, what: str) -> str:
    """A count for the notes; a suppressed count (None after disclosure control) says so."""
    return f"{what}: suppressed (small count)" if value is None or pd.isna(value) else f"{what}: {int(value)}"


def _recorded(assessment: Mapping[str, Any] | None, key: str, value_key: str) -> tuple[Any, str, str]:
    """(option, explanation, status) of one cell: recorded by a reviewer, or blank and "not assessed"."""
    part = (assessment or {}).get("parts", {}).get(key)
    if not assessment or not part:
        return None, "", NOT_ASSESSED
    value = part.get(value_key)
    option = int(value) if value_key == "concern" else value
    return option, part.get("comment", ""), f"assessed by {assessment['assessor']}, {assessment['at']}"


def evidence_profile(support: Mapping[str, Any], detail: Mapping[str, list[str]],
                     studies: list[dict[str, Any]], assessment: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The CERQual evidence profile of one finding: the indicators from the graph, and the options and
    explanations a reviewer recorded (`assessment`, from judgements.current_assessments) or blank.

    `support` is the finding's row of the recurring-findings question (after disclosure control, so a
    suppressed count is None); `detail` is `finding_detail`; `studies` its finding_studies rows.
    """
    reviews = sum(bool(s["review"]) for s in studies)
    synthetic = [s["cite"] for s in studies if s["synthetic"]]
    adequacy = "; ".join([f"studies: {len(studies)} ({len(studies) - reviews} primary, {reviews} reviews)",
                          "held in qualkg: " + _count(support["participants"], "participants"),
                          _count(support["excerpts"], "excerpts"),
                          _count(support["synthetic"], "of which synthetic"),
                          "the richness and quantity of the data in the studies' own reports is not recorded in "
                          "qualkg"])
    relevance = "; ".join([
        _countries(studies, detail.get("country", [])),
        _speakers("roles", _split(support["roles"], ", "), detail.get("role", []), studies),
        _speakers("features", _split(support["features"], ", "), detail.get("feature", []), studies),
        f"settings: {support['settings'] or 'not recorded'}"])
    unverified = sum(bool(s["unverified"]) for s in studies)
    notes = {
        "methodological_limitations": f"Appraise each of the {len(studies)} contributing studies: "
                                      f"{len(studies) - reviews} primary, {reviews} reviews (review findings, "
                                      f"not primary data); {unverified} unverified"
                                      + (f"; {len(synthetic)} rest on SYNTHETIC data" if synthetic else "") + "."
                                      + (f" Review overlap: {ov}." if (ov := overlap(studies)) else ""),
        "coherence": f"Studies with contradicting data: {support['refuting_studies']}. "
                     "Check the fit between the supporting data and the finding.",
        "adequacy": adequacy,
        "relevance": relevance,
    }
    profile: dict[str, Any] = {}
    for key in COMPONENTS:
        option, explanation, status = _recorded(assessment, key, "concern")
        profile[key] = {"option": option, "explanation": explanation, "status": status, "notes": notes[key]}
    option, explanation, status = _recorded(assessment, "overall", "confidence")
    profile["cerqual"] = {"option": CONFIDENCE_CODES.get(option) if option else None, "explanation": explanation,
                          "status": status}
    return {
        "finding": support["finding"],
        "label": support["label"],
        "statement": (detail.get("statement") or [""])[0],
        "group": " | ".join(detail.get("group", [])),
        "cerqual_version": CERQUAL_VERSION,
        "contributing_studies": sorted(s["cite"] for s in studies),
        "evidence_profile": profile,
        "codes": {"concern": CONCERNS, "confidence": CONFIDENCE},
    }


def evidence_profile_table(profile: Mapping[str, Any]) -> pd.DataFrame:
    """The profile as rows for CSV/XLSX: one per component and one for the overall assessment."""
    ep = profile["evidence_profile"]
    rows = [{"finding": profile["finding"], "review_finding": profile["label"], "component": name, "isoq_key": key,
             "option": ep[key]["option"], "allowed": ", ".join(f"{c} = {t}" for c, t in CONCERNS.items()),
             "explanation": ep[key]["explanation"], "status": ep[key]["status"], "notes": ep[key]["notes"]}
            for key, name in COMPONENTS.items()]
    rows.append({"finding": profile["finding"], "review_finding": profile["label"],
                 "component": "Overall CERQual assessment",
                 "isoq_key": "cerqual", "option": ep["cerqual"]["option"],
                 "allowed": ", ".join(f"{c} = {t}" for c, t in CONFIDENCE.items()),
                 "explanation": ep["cerqual"]["explanation"], "status": ep["cerqual"]["status"],
                 "notes": f"Contributing studies: {' | '.join(profile['contributing_studies'])}. "
                          f"{profile['cerqual_version']}"})
    return pd.DataFrame(rows)


def dropdowns(table: pd.DataFrame) -> dict[str, list[list[str] | None]]:
    """The option lists a spreadsheet offers as dropdowns: iSoQ's concern codes on the component rows and
    confidence codes on the overall row of an evidence profile; confidence labels in a SoQF."""
    if "isoq_key" in table.columns:
        return {"option": [list(CONFIDENCE) if k == "cerqual" else list(CONCERNS) for k in table["isoq_key"]]}
    if "GRADE-CERQual Assessment" in table.columns:
        return {"GRADE-CERQual Assessment": [[*CONFIDENCE.values(), NOT_ASSESSED]] * len(table)}
    return {}


def soqf(store: GraphStore, catalog: Catalog) -> pd.DataFrame:
    """Summary of Qualitative Findings: every finding, its group and marked references; the CERQual
    assessment a reviewer recorded, else "not assessed"."""
    findings = synthesis_catalog(catalog.iris).run(store, "findings", {})
    studies = finding_studies(store, catalog)
    recorded = current_assessments(store, catalog.iris)
    rows = []
    for f in findings.itertuples(index=False):
        a = recorded.get((str(f.finding), "cerqual"))
        option, explanation, status = _recorded(a, "overall", "confidence")
        rows.append({"No.": f.finding, "Summarised review finding": f.statement, "Review finding group": f.group,
                     "GRADE-CERQual Assessment": CONFIDENCE[CONFIDENCE_CODES[option]] if option else NOT_ASSESSED,
                     "Explanation of GRADE-CERQual assessment": explanation,
                     "References": " | ".join(s["cite"] for s in studies.get(str(f.finding), [])),
                     "Assessment status": status})
    return pd.DataFrame(rows, columns=[*SOQF_COLUMNS, "Assessment status"])


JBI_SOURCES = {
    "PublishedTheme": "verbatim: a theme as the publication names it",
    "PublishedFinding": "verbatim: a fragment the study record quotes",
}


def _source(row: Mapping[str, Any]) -> str:
    if row["study_finding_synthetic"]:
        return "invented: a SYNTHETIC code written for qualkg, not the study's words"
    if row["placeholder"]:
        return "placeholder label: renamed by qualkg, not the study's words"
    return JBI_SOURCES.get(row["study_finding_kind"], "the study's codebook label")


def jbi(store: GraphStore, catalog: Catalog, finding: str | None = None, *,
        excerpts: bool = True) -> tuple[pd.DataFrame, list[str]]:
    """JBI meta-aggregation worksheet rows (synthesis/sparql/jbi.rq, or jbi-outline.rq without `excerpts`)
    with the recorded credibility ("not assessed" otherwise) and where each label comes from; and the
    warnings JBI's rules give (a synthesised finding from fewer than two categories, a category with fewer
    than two findings)."""
    syn = synthesis_catalog(catalog.iris)
    df = syn.run(store, "jbi" if excerpts else "jbi-outline", {"finding": finding})
    recorded = current_assessments(store, catalog.iris, finding)
    credibility = {(n, part["studyFinding"]): part["credibility"]
                   for (n, method), a in recorded.items() if method == "jbi" for part in a["parts"].values()}
    df = df.assign(
        study_finding_source=[_source({str(k): v for k, v in r.items()}) for r in df.to_dict(orient="records")],
        credibility=[credibility.get((n, iri), NOT_ASSESSED) for n, iri in zip(df["finding"], df["study_finding_iri"],
                                                                                strict=True)])
    if excerpts:
        df = df.assign(illustration=[t if isinstance(t, str) and t else "no illustration held"
                                     for t in df["illustration"]])
    return df, jbi_warnings(df, whole=finding is None)


def jbi_warnings(df: pd.DataFrame, *, whole: bool = True) -> list[str]:
    """JBI's minimums: two study findings per category and (on the `whole` worksheet, not one category's
    rows) two categories per synthesised finding."""
    out = []
    per_category = df.groupby(["finding", "category"])["study_finding_iri"].nunique()
    out += [f"Category {key[0]} \"{key[1]}\" has {k} study finding (JBI aggregates at least two)."
            for key, k in per_category.items() if isinstance(key, tuple) and k < 2]
    categories: dict[str, set[str]] = {}
    for synthesised, category, n in zip(df["synthesised_finding"], df["category"], df["finding"], strict=True):
        if whole and synthesised != category:  # the worksheet names the category itself when no analytical theme has it
            for one in str(synthesised).split(" | "):
                categories.setdefault(one, set()).add(n)
    out += [f"Synthesised finding \"{name}\" is built from {len(c)} category (JBI needs at least two)."
            for name, c in sorted(categories.items()) if len(c) < 2]
    return out


# -- references -------------------------------------------------------------------------------

RIS_TYPES = {"JournalArticle": "JOUR", "ReviewArticle": "JOUR", "SystematicReview": "JOUR", "Preprint": "UNPB"}
CSL_TYPES = {"JournalArticle": "article-journal", "ReviewArticle": "article-journal",
             "SystematicReview": "article-journal", "Preprint": "article"}


def _present(value: object) -> str | None:
    """A field's text, or None when it is missing (unbound, NaN, None or empty): never 'nan' or 'None'."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    text = str(value).strip()
    return text or None


def references(store: GraphStore, catalog: Catalog, finding: str | None = None) -> list[dict[str, Any]]:
    """One record per study mapped to a finding: id, title, authors (printed order), authors_complete, year,
    journal, volume, issue, pages, venue, doi, kind, unverified, synthetic_data, invented; a missing field is None.

    Authors follow bibo:authorList; a record without one falls back to its dcterms:creator names ordered
    by where they appear in the citation string.
    """
    syn = synthesis_catalog(catalog.iris)
    refs = syn.run(store, "references", {"finding": finding})
    authors: dict[str, list[tuple[int, str]]] = {}
    for study, author, position in syn.run(store, "references-authors", {"finding": finding}).itertuples(index=False):
        authors.setdefault(str(study), []).append((int(position), str(author)))
    out = []
    for record in refs.to_dict(orient="records"):
        r = {str(k): _present(v) for k, v in record.items()}
        study = str(r["study"])
        cite = r["citation"] or ""
        listed = authors.get(study, [])
        names = [a for _, a in sorted(listed)] if all(p > 0 for p, _ in listed) else sorted(
            (a for _, a in listed), key=lambda a: (cite.find(a) if a in cite else len(cite) + 1, a))
        out.append({"id": study.rsplit("/", 1)[-1], "iri": study, "title": r["title"], "authors": names,
                    **{k: r[k] for k in ("year", "journal", "volume", "issue", "pages", "venue", "doi")},
                    "kind": r["kind"] or "JournalArticle",
                    **{k: bool(record[k]) for k in ("authors_complete", "unverified", "synthetic_data", "invented")}})
    return out


def _note(ref: Mapping[str, Any]) -> str:
    """The reference's qualkg note: its id, and every caveat a reader of the reference list must see."""
    parts = [f"qualkg study {ref['id']}"]
    if not ref["authors_complete"]:
        parts.append("author list incomplete (et al.): only the first authors are recorded")
    if ref["unverified"]:
        parts.append("details unverified")
    if ref["synthetic_data"]:
        parts.append("qualkg holds SYNTHETIC data for this study, not from the publication")
    if ref["invented"]:
        parts.append("INVENTED study: not a real publication")
    return "; ".join(parts)


def _pages(pages: str | None) -> tuple[str | None, str | None]:
    """'10-12' → ('10', '12'); 'e216' → ('e216', None)."""
    if not pages:
        return None, None
    start, sep, end = pages.replace("\u2013", "-").partition("-")
    return start.strip(), (end.strip() or None) if sep else None


def to_ris(refs: list[dict[str, Any]]) -> str:
    """RIS (the exchange format iSoQ, EndNote and Zotero read), one record per study; absent fields absent."""
    lines: list[str] = []
    for ref in refs:
        start, end = _pages(ref["pages"])
        fields = [("TY", RIS_TYPES.get(ref["kind"], "JOUR")), *(("AU", _ris_author(a)) for a in ref["authors"]),
                  ("TI", ref["title"]), ("PY", ref["year"]), ("JO", ref["journal"]), ("VL", ref["volume"]),
                  ("IS", ref["issue"]), ("SP", start), ("EP", end),
                  ("T2", ref["venue"] if not ref["journal"] else None), ("DO", ref["doi"]),
                  ("UR", doi_iri(ref["doi"]) if ref["doi"] else None), ("N1", _note(ref))]
        lines += [f"{tag}  - {value}" for tag, value in fields if value]
        lines += ["ER  - ", ""]
    return "\n".join(lines)


def _ris_author(name: str) -> str:
    """'Van Hecke A' → 'Van Hecke, A' (family, initials)."""
    family, _, given = name.rpartition(" ")
    return f"{family}, {given}" if family else name


def to_csl_json(refs: list[dict[str, Any]]) -> str:
    """CSL-JSON (citeproc, Zotero, pandoc); absent fields absent."""
    items = []
    for ref in refs:
        item: dict[str, Any] = {"id": ref["id"], "type": CSL_TYPES.get(ref["kind"], "article-journal"),
                                "title": ref["title"], "note": _note(ref)}
        if ref["authors"]:
            item["author"] = [_csl_author(a) for a in ref["authors"]]
        if ref["year"] and ref["year"].isdigit():
            item["issued"] = {"date-parts": [[int(ref["year"])]]}
        container = ref["journal"] or ref["venue"]
        optional = {"container-title": container, "volume": ref["volume"], "issue": ref["issue"],
                    "page": ref["pages"], "DOI": ref["doi"], "URL": doi_iri(ref["doi"]) if ref["doi"] else None}
        item.update({k: v for k, v in optional.items() if v})
        items.append(item)
    return json.dumps(items, ensure_ascii=False, indent=2)


def _csl_author(name: str) -> dict[str, str]:
    family, _, given = name.rpartition(" ")
    return {"family": family, "given": given} if family else {"family": name}
