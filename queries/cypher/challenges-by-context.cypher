//+ id: challenges-by-context
// `example` is the alphabetically first excerpt text of the group (MIN), as in the .rq and .sql.
// The *_records columns list what each count counts, for disclosure control only (never published).
MATCH (p)-[:HOLDS_ROLE]->(r) WHERE EXISTS { (r)-[:BROADER*0..]->(:Resource {iri: $role}) }
MATCH (p)-[:MEMBER_OF]->(team) WHERE EXISTS { (team)-[:HAS_FEATURE]->(:Resource {iri: $feature}) }
MATCH (p)-[:SPOKE]->(x)-[:CODED_AS]->(c:Code)
MATCH (x)-[:IN_STUDY]->(s)
WHERE ($study IS NULL OR s.iri = $study) AND x.synthetic IS NOT NULL AND x.text IS NOT NULL AND c.label IS NOT NULL
  AND EXISTS { MATCH (c)-[:BROADER*0..]->(topical) WHERE NOT topical:Theme AND topical.label IS NOT NULL
               AND toLower(topical.label) CONTAINS toLower($topic) }
OPTIONAL MATCH (c)-[:BROADER]->(sub:Subtheme) WHERE sub.label IS NOT NULL
CALL (c) { OPTIONAL MATCH (c)-[:BROADER*1..]->(th:Theme) WHERE th.label IS NOT NULL RETURN DISTINCT th }
RETURN th.label AS theme, sub.label AS subtheme, c.label AS code,
       count(DISTINCT x) AS excerpts, count(DISTINCT p) AS participants, count(DISTINCT s) AS studies,
       count(DISTINCT CASE WHEN x.synthetic THEN x END) AS synthetic, min(x.text) AS example,
       collect(DISTINCT x.iri) AS excerpts_records, collect(DISTINCT p.iri) AS participants_records,
       collect(DISTINCT CASE WHEN x.synthetic THEN x.iri END) AS synthetic_records
ORDER BY excerpts DESC, theme IS NOT NULL, theme, subtheme IS NOT NULL, subtheme, code
