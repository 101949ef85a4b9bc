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
       count(DISTINCT CASE WHEN x.synthetic = true THEN x END) AS synthetic
ORDER BY finding
