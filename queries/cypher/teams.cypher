//+ id: teams
//+ lists: {features: "; "}
MATCH (t:Team)-[:IN_STUDY]->(s)
WHERE t.label IS NOT NULL AND ($study IS NULL OR s.iri = $study)
  AND ($feature IS NULL OR EXISTS { (t)-[:HAS_FEATURE]->(:Resource {iri: $feature}) })
OPTIONAL MATCH (t)-[:UNIT_OF]->(o) WHERE o.label IS NOT NULL
OPTIONAL MATCH (t)-[:HAS_FEATURE]->(f) WHERE f.label IS NOT NULL
OPTIONAL MATCH (p)-[:MEMBER_OF]->(t)
WITH t.label AS team, o.label AS organisation, collect(DISTINCT f.label) AS features,
     last(split(s.iri, '/study/')) AS study_id, count(DISTINCT p) AS participants,
     collect(DISTINCT p.iri) AS participants_records
// No feature: null, as the SPARQL GROUP_CONCAT over an unbound value is an error, hence unbound.
RETURN team, organisation, CASE size(features) WHEN 0 THEN null ELSE features END AS features, study_id, participants,
       participants_records  // for disclosure control only: never published
ORDER BY study_id, team
