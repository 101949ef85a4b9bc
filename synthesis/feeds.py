"""Review feeds drafted from the graph, with the judgements left to reviewers (decision 0033).

GRADE-CERQual evidence profiles and a Summary of Qualitative Findings in iSoQ's shape and codes, a JBI
meta-aggregation worksheet (synthesis/sparql/jbi.rq), and study references as RIS and CSL-JSON. Every
function takes the store and a Catalog (docs/synthesis.md, "Feeds").
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pandas as pd

from qualkg.ontology.iris import doi_iri
from qualkg.queries.catalog import Catalog
from qualkg.store.base import GraphStore
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


def _relevance(label: str, found: list[str], context: list[str]) -> str:
    found, context = sorted(found), sorted(context)
    if not found:
        return f"{label}: not reported"
    if not context:
        return f"{label}: {', '.join(found)}"
    outside = [f for f in found if f not in context]
    verdict = "all within the review context" if not outside else f"outside the review context: {', '.join(outside)}"
    return f"{label}: {', '.join(found)} ({verdict}; context: {', '.join(context)})"


def _count(value: float | None, what: str) -> str:
    """A count for the notes; a suppressed count (None after disclosure control) says so."""
    return f"{what}: suppressed (small count)" if value is None or pd.isna(value) else f"{what}: {int(value)}"


def evidence_profile(support: Mapping[str, Any], detail: Mapping[str, list[str]]) -> dict[str, Any]:
    """The CERQual evidence-profile draft of one finding.

    `support` is the finding's row of the recurring-findings question (after disclosure control,
    so a suppressed count is None); `detail` is `finding_detail`. Options and explanations are left
    empty: judging them is the reviewers' work.
    """
    studies = sorted(_split(support["citations"], " | "))
    adequacy = "; ".join([f"studies: {support['studies']} ({support['primary_studies']} primary, "
                          f"{support['reviews']} reviews)",
                          _count(support["participants"], "participants"), _count(support["excerpts"], "excerpts"),
                          _count(support["synthetic"], "of which synthetic")])
    relevance = "; ".join([
        _relevance("countries", _split(support["countries"], ", "), detail.get("country", [])),
        _relevance("roles", _split(support["roles"], ", "), detail.get("role", [])),
        _relevance("features", _split(support["features"], ", "), detail.get("feature", [])),
        f"settings: {support['settings'] or 'not reported'}"])
    notes = {
        "methodological_limitations": f"Appraise each of the {support['studies']} contributing studies; "
                                      f"{support['reviews']} are reviews (review findings, not primary data); "
                                      f"{support['unverified_studies']} unverified.",
        "coherence": f"Refuting studies: {support['refuting_studies']}. "
                     "Check the fit between the supporting data and the finding.",
        "adequacy": adequacy,
        "relevance": relevance,
    }
    return {
        "finding": support["finding"],
        "label": support["label"],
        "statement": (detail.get("statement") or [""])[0],
        "group": " | ".join(detail.get("group", [])),
        "cerqual_version": CERQUAL_VERSION,
        "contributing_studies": studies,
        "evidence_profile": {
            **{key: {"option": None, "explanation": "", "notes": notes[key]} for key in COMPONENTS},
            "cerqual": {"option": None, "explanation": ""},
        },
        "codes": {"concern": CONCERNS, "confidence": CONFIDENCE},
    }


def evidence_profile_table(profile: Mapping[str, Any]) -> pd.DataFrame:
    """The profile as rows for CSV/XLSX: one per component and one for the overall assessment."""
    ep = profile["evidence_profile"]
    rows = [{"finding": profile["finding"], "review_finding": profile["label"], "component": name, "isoq_key": key,
             "option": ep[key]["option"], "allowed": ", ".join(f"{c} = {t}" for c, t in CONCERNS.items()),
             "explanation": ep[key]["explanation"], "notes": ep[key]["notes"]} for key, name in COMPONENTS.items()]
    rows.append({"finding": profile["finding"], "review_finding": profile["label"],
                 "component": "Overall CERQual assessment",
                 "isoq_key": "cerqual", "option": ep["cerqual"]["option"],
                 "allowed": ", ".join(f"{c} = {t}" for c, t in CONFIDENCE.items()),
                 "explanation": ep["cerqual"]["explanation"],
                 "notes": f"Contributing studies: {' | '.join(profile['contributing_studies'])}. "
                          f"{profile['cerqual_version']}"})
    return pd.DataFrame(rows)


def soqf(store: GraphStore, catalog: Catalog) -> pd.DataFrame:
    """Summary of Qualitative Findings skeleton: every finding, its group and references; assessments empty."""
    findings = synthesis_catalog(catalog.iris).run(store, "findings", {})
    cites = catalog.run(store, "recurring-findings", {}).set_index("finding")["citations"]
    return pd.DataFrame([{
        "No.": f.finding, "Summarised review finding": f.statement, "Review finding group": f.group,
        "GRADE-CERQual Assessment": "", "Explanation of GRADE-CERQual assessment": "",
        "References": cites.get(f.finding, "")} for f in findings.itertuples(index=False)], columns=list(SOQF_COLUMNS))


def jbi(store: GraphStore, catalog: Catalog, finding: str | None = None) -> pd.DataFrame:
    """JBI meta-aggregation worksheet rows (see synthesis/sparql/jbi.rq)."""
    return synthesis_catalog(catalog.iris).run(store, "jbi", {"finding": finding})


# -- references -------------------------------------------------------------------------------

RIS_TYPES = {"JournalArticle": "JOUR", "ReviewArticle": "JOUR", "SystematicReview": "JOUR", "Preprint": "UNPB"}
CSL_TYPES = {"JournalArticle": "article-journal", "ReviewArticle": "article-journal",
             "SystematicReview": "article-journal", "Preprint": "article"}


def references(store: GraphStore, catalog: Catalog, finding: str | None = None) -> list[dict[str, Any]]:
    """One record per study mapped to a finding: id, title, authors (ordered), year, venue, doi, kind, unverified.

    RDF keeps dcterms:creator unordered; the order is restored from the citation string (which
    lists the first three in order), the rest follow alphabetically.
    """
    syn = synthesis_catalog(catalog.iris)
    refs = syn.run(store, "references", {"finding": finding})
    authors: dict[str, list[str]] = {}
    for study, author in syn.run(store, "references-authors", {"finding": finding}).itertuples(index=False):
        authors.setdefault(study, []).append(author)
    out = []
    for r in refs.to_dict(orient="records"):
        cite = r["citation"] or ""
        names = sorted(authors.get(r["study"], []), key=lambda a: (cite.find(a) if a in cite else len(cite) + 1, a))
        out.append({"id": r["study"].rsplit("/", 1)[-1], "iri": r["study"], "title": r["title"], "authors": names,
                    "year": r["year"], "venue": r["venue"], "doi": r["doi"], "kind": r["kind"] or "JournalArticle",
                    "unverified": bool(r["unverified"])})
    return out


def _note(ref: Mapping[str, Any]) -> str:
    return f"qualkg study {ref['id']}" + ("; details unverified" if ref["unverified"] else "")


def to_ris(refs: list[dict[str, Any]]) -> str:
    """RIS (the exchange format iSoQ, EndNote and Zotero read), one record per study."""
    lines: list[str] = []
    for ref in refs:
        lines.append(f"TY  - {RIS_TYPES.get(ref['kind'], 'JOUR')}")
        lines += [f"AU  - {_ris_author(a)}" for a in ref["authors"]]
        lines.append(f"TI  - {ref['title']}")
        if ref["year"]:
            lines.append(f"PY  - {ref['year']}")
        if ref["venue"]:
            lines.append(f"JO  - {ref['venue']}")
        if ref["doi"]:
            lines += [f"DO  - {ref['doi']}", f"UR  - {doi_iri(ref['doi'])}"]
        lines += [f"N1  - {_note(ref)}", "ER  - ", ""]
    return "\n".join(lines)


def _ris_author(name: str) -> str:
    """'Van Hecke A' → 'Van Hecke, A' (family, initials)."""
    family, _, given = name.rpartition(" ")
    return f"{family}, {given}" if family else name


def to_csl_json(refs: list[dict[str, Any]]) -> str:
    """CSL-JSON (citeproc, Zotero, pandoc)."""
    items = []
    for ref in refs:
        item: dict[str, Any] = {"id": ref["id"], "type": CSL_TYPES.get(ref["kind"], "article-journal"),
                                "title": ref["title"], "note": _note(ref)}
        if ref["authors"]:
            item["author"] = [_csl_author(a) for a in ref["authors"]]
        if ref["year"]:
            item["issued"] = {"date-parts": [[int(ref["year"])]]}
        if ref["venue"]:
            item["container-title"] = ref["venue"]
        if ref["doi"]:
            item["DOI"], item["URL"] = ref["doi"], doi_iri(ref["doi"])
        items.append(item)
    return json.dumps(items, ensure_ascii=False, indent=2)


def _csl_author(name: str) -> dict[str, str]:
    family, _, given = name.rpartition(" ")
    return {"family": family, "given": given} if family else {"family": name}
