//+ id: excerpts
//+ lists: {codes: "; "}
MATCH (x:Excerpt)-[:IN_STUDY]->(s)
WHERE ($study IS NULL OR s.iri = $study) AND s.title IS NOT NULL
  AND x.synthetic IS NOT NULL AND x.text IS NOT NULL AND x.start IS NOT NULL AND x.end IS NOT NULL
  AND ($synthetic IS NULL OR x.synthetic = $synthetic)
  AND ($code IS NULL OR EXISTS { (x)-[:CODED_AS]->()-[:BROADER*0..]->(:Resource {iri: $code}) })
  AND ($contains IS NULL OR toLower(x.text) CONTAINS toLower($contains))
  AND ($role IS NULL OR EXISTS { MATCH (p)-[:SPOKE]->(x) MATCH (p)-[:HOLDS_ROLE]->()-[:BROADER*0..]->(:Resource {iri: $role}) })
  AND ($feature IS NULL OR EXISTS { MATCH (p)-[:SPOKE]->(x) MATCH (p)-[:MEMBER_OF]->()-[:HAS_FEATURE]->(:Resource {iri: $feature}) })
  AND ($mode IS NULL OR EXISTS {
    (x)-[:FROM_TRANSCRIPT]->()-[:FROM_EVENT]->()-[:HAS_MODE]->()-[:BROADER*0..]->(:Resource {iri: $mode}) })
MATCH (x)-[:FROM_TRANSCRIPT]->(t) WHERE t.label IS NOT NULL
MATCH (x)-[:CODED_AS]->(c) WHERE c.label IS NOT NULL
OPTIONAL MATCH (p)-[:SPOKE]->(x) WHERE p.pseudonym IS NOT NULL
OPTIONAL MATCH (p)-[:HOLDS_ROLE]->(r) WHERE r.label IS NOT NULL
OPTIONAL MATCH (p)-[:MEMBER_OF]->(team) WHERE team.label IS NOT NULL
OPTIONAL MATCH (t)-[:FROM_EVENT]->(e)-[:HAS_MODE]->(m) WHERE e.label IS NOT NULL AND m.label IS NOT NULL
RETURN x.iri AS excerpt, x.text AS text, x.synthetic AS synthetic, collect(DISTINCT c.label) AS codes,
       p.pseudonym AS speaker, r.label AS speaker_role, team.label AS team, e.label AS event, m.label AS event_type,
       s.title AS study_title, t.label AS transcript, x.start AS start, x.end AS end,
       x.source_file AS source_file, x.tool AS tool, x.offset_convention AS offset_convention
ORDER BY study_title, transcript, start, excerpt
