//+ id: cooccurrence
// Separate MATCH clauses for the two excerpts: one pattern would forbid x1 = x2 (Cypher never uses a
// relationship twice in a pattern), and an excerpt carrying both codes co-occurs with itself.
MATCH (x1:Excerpt)-[:IN_STUDY]->(s) WHERE $study IS NULL OR s.iri = $study
MATCH (x1)-[:CODED_AS]->(c1)
MATCH (x1)-[:FROM_TRANSCRIPT]->(t)
MATCH (x2:Excerpt)-[:FROM_TRANSCRIPT]->(t)
MATCH (x2)-[:CODED_AS]->(c2)
WHERE c1.iri < c2.iri AND x1.start < x2.end AND x2.start < x1.end
  AND ($role IS NULL OR (EXISTS { MATCH (p)-[:SPOKE]->(x1) MATCH (p)-[:HOLDS_ROLE]->()-[:BROADER*0..]->(:Resource {iri: $role}) }
                     AND EXISTS { MATCH (p)-[:SPOKE]->(x2) MATCH (p)-[:HOLDS_ROLE]->()-[:BROADER*0..]->(:Resource {iri: $role}) }))
  AND ($feature IS NULL OR (EXISTS { MATCH (p)-[:SPOKE]->(x1) MATCH (p)-[:MEMBER_OF]->()-[:HAS_FEATURE]->(:Resource {iri: $feature}) }
                        AND EXISTS { MATCH (p)-[:SPOKE]->(x2) MATCH (p)-[:MEMBER_OF]->()-[:HAS_FEATURE]->(:Resource {iri: $feature}) }))
WITH c1, c2, collect(DISTINCT CASE WHEN x1.iri <= x2.iri THEN x1.iri + '|' + x2.iri ELSE x2.iri + '|' + x1.iri END) AS pairs
WITH c1, c2, size(pairs) AS n12, pairs AS n12_records
WHERE c1.label IS NOT NULL AND c2.label IS NOT NULL
CALL (c1) {
  MATCH (y:Excerpt)-[:CODED_AS]->(c1) MATCH (y)-[:IN_STUDY]->(sy) WHERE ($study IS NULL OR sy.iri = $study)
    AND ($role IS NULL OR EXISTS { MATCH (p)-[:SPOKE]->(y) MATCH (p)-[:HOLDS_ROLE]->()-[:BROADER*0..]->(:Resource {iri: $role}) })
    AND ($feature IS NULL OR EXISTS { MATCH (p)-[:SPOKE]->(y) MATCH (p)-[:MEMBER_OF]->()-[:HAS_FEATURE]->(:Resource {iri: $feature}) })
  RETURN count(DISTINCT y) AS n1, collect(DISTINCT y.iri) AS n1_records
}
CALL (c2) {
  MATCH (y:Excerpt)-[:CODED_AS]->(c2) MATCH (y)-[:IN_STUDY]->(sy) WHERE ($study IS NULL OR sy.iri = $study)
    AND ($role IS NULL OR EXISTS { MATCH (p)-[:SPOKE]->(y) MATCH (p)-[:HOLDS_ROLE]->()-[:BROADER*0..]->(:Resource {iri: $role}) })
    AND ($feature IS NULL OR EXISTS { MATCH (p)-[:SPOKE]->(y) MATCH (p)-[:MEMBER_OF]->()-[:HAS_FEATURE]->(:Resource {iri: $feature}) })
  RETURN count(DISTINCT y) AS n2, collect(DISTINCT y.iri) AS n2_records
}
WITH c1, c2, n12, n1, n2, n12_records, n1_records, n2_records WHERE n1 > 0 AND n2 > 0  // the SPARQL joins drop codes with no counted excerpt
RETURN c1.label AS code1, c2.label AS code2, n12, n1, n2, round(1000.0 * n12 / (n1 + n2 - n12)) / 1000.0 AS c,
       n12_records, n1_records, n2_records  // what each count counts, for disclosure control: never published
ORDER BY n12 DESC, code1, code2
