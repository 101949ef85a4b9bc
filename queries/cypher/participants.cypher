//+ id: participants
MATCH (p:Participant)-[:IN_STUDY]->(s)
WHERE p.pseudonym IS NOT NULL AND ($study IS NULL OR s.iri = $study)
  AND ($role IS NULL OR EXISTS { (p)-[:HOLDS_ROLE]->()-[:BROADER*0..]->(:Resource {iri: $role}) })
OPTIONAL MATCH (p)-[:HOLDS_ROLE]->(r) WHERE r.label IS NOT NULL
OPTIONAL MATCH (p)-[:MEMBER_OF]->(t) WHERE t.label IS NOT NULL
OPTIONAL MATCH (e)-[:HAS_PARTICIPANT]->(p)
OPTIONAL MATCH (p)-[:SPOKE]->(x)
RETURN p.pseudonym AS pseudonym, r.label AS role_name, t.label AS team, last(split(s.iri, '/study/')) AS study_id,
       count(DISTINCT e) AS events, count(DISTINCT x) AS excerpts
ORDER BY study_id, pseudonym
