//+ id: contexts
//+ lists: {features: "; "}
MATCH (t:Team)-[:IN_STUDY]->(s)
WHERE t.label IS NOT NULL AND ($study IS NULL OR s.iri = $study)
  AND ($feature IS NULL OR EXISTS { (t)-[:HAS_FEATURE]->(:Resource {iri: $feature}) })
WITH DISTINCT t, COLLECT { MATCH (t)-[:HAS_FEATURE]->(f) WHERE f.label IS NOT NULL RETURN DISTINCT f.label AS l ORDER BY l } AS features
OPTIONAL MATCH (t)-[:UNIT_OF]->(o) WHERE o.label IS NOT NULL
OPTIONAL MATCH (p)-[:MEMBER_OF]->(t), (p)-[:SPOKE]->(x)-[:CODED_AS]->()-[:BROADER*0..]->(th:Theme)
  WHERE th.label IS NOT NULL
// No feature: null, as the SPARQL GROUP_CONCAT over an unbound value is an error, hence unbound.
RETURN t.label AS team, o.label AS organisation, CASE size(features) WHEN 0 THEN null ELSE features END AS features,
       th.label AS theme,
       count(DISTINCT x) AS excerpts, count(DISTINCT p) AS participants,
       collect(DISTINCT x.iri) AS excerpts_records, collect(DISTINCT p.iri) AS participants_records  // never published
ORDER BY team, theme IS NOT NULL, theme
