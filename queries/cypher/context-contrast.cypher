//+ id: context-contrast
MATCH (f:ReviewFinding)
WHERE f.notation IS NOT NULL AND f.label IS NOT NULL AND ($finding IS NULL OR f.notation = $finding)
MATCH (f)-[:DERIVED_FROM*1..]->(concept)-[:IN_STUDY]->()
MATCH (code)-[:BROADER*0..]->(concept)
MATCH (x:Excerpt)-[:CODED_AS]->(code)
MATCH (p)-[:SPOKE]->(x)
MATCH (p)-[:MEMBER_OF]->(team)
WITH f, x, p, team, EXISTS { (team)-[:HAS_FEATURE]->(:Resource {iri: $feature}) } AS has
RETURN f.notation AS finding, f.label AS label,
       count(DISTINCT CASE WHEN has THEN x END) AS with_excerpts, count(DISTINCT CASE WHEN has THEN p END) AS with_participants,
       count(DISTINCT CASE WHEN has THEN team END) AS with_teams,
       count(DISTINCT CASE WHEN NOT has THEN x END) AS without_excerpts,
       count(DISTINCT CASE WHEN NOT has THEN p END) AS without_participants,
       count(DISTINCT CASE WHEN NOT has THEN team END) AS without_teams,
       count(DISTINCT CASE WHEN x.synthetic = true THEN x END) AS synthetic,
       // The records each count counts, for disclosure control only: never published.
       collect(DISTINCT CASE WHEN has THEN x.iri END) AS with_excerpts_records,
       collect(DISTINCT CASE WHEN has THEN p.iri END) AS with_participants_records,
       collect(DISTINCT CASE WHEN has THEN team.iri END) AS with_teams_records,
       collect(DISTINCT CASE WHEN NOT has THEN x.iri END) AS without_excerpts_records,
       collect(DISTINCT CASE WHEN NOT has THEN p.iri END) AS without_participants_records,
       collect(DISTINCT CASE WHEN NOT has THEN team.iri END) AS without_teams_records,
       collect(DISTINCT CASE WHEN x.synthetic = true THEN x.iri END) AS synthetic_records
ORDER BY finding
