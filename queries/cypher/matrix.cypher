//+ id: matrix
MATCH (x:Excerpt)-[:IN_STUDY]->(s) WHERE $study IS NULL OR s.iri = $study
MATCH (x)-[:CODED_AS]->(c)
OPTIONAL MATCH (p)-[:SPOKE]->(x)
CALL (x, c) {
  MATCH (c)-[:BROADER*0..]->(col:Theme) WHERE $columns = 'theme' AND col.label IS NOT NULL RETURN col.label AS column
  UNION
  MATCH (c)-[:BROADER*0..]->(col:Subtheme) WHERE $columns = 'subtheme' AND col.label IS NOT NULL RETURN col.label AS column
  UNION
  WITH c WHERE $columns = 'code' AND c.label IS NOT NULL RETURN c.label AS column
}
CALL (x) {
  MATCH (q)-[:SPOKE]->(x) MATCH (q)-[:HOLDS_ROLE]->(r) WHERE $rows = 'role' AND r.label IS NOT NULL
  RETURN r.label AS row
  UNION
  MATCH (q)-[:SPOKE]->(x) MATCH (q)-[:MEMBER_OF]->(t) WHERE $rows = 'team' AND t.label IS NOT NULL
  RETURN t.label AS row
  UNION
  MATCH (q)-[:SPOKE]->(x) MATCH (q)-[:MEMBER_OF]->()-[:HAS_FEATURE]->(f) WHERE $rows = 'feature' AND f.label IS NOT NULL
  RETURN f.label AS row
  UNION
  MATCH (x)-[:FROM_TRANSCRIPT]->()-[:FROM_EVENT]->()-[:HAS_MODE]->(m) WHERE $rows = 'event-type' AND m.label IS NOT NULL
  RETURN m.label AS row
  UNION
  MATCH (q)-[:SPOKE]->(x) MATCH (q)-[:HAS_ATTRIBUTE]->(a)
  WHERE $rows = 'attribute' AND a.value IS NOT NULL AND a.name IS NOT NULL AND ($attribute IS NULL OR a.name = $attribute)
  RETURN a.value AS row
}
RETURN row, column, count(DISTINCT x) AS excerpts, count(DISTINCT p) AS participants, count(DISTINCT s) AS studies,
       collect(DISTINCT x.iri) AS excerpts_records, collect(DISTINCT p.iri) AS participants_records  // never published
ORDER BY row, column
