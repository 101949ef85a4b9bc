//+ id: study-compare
//+ lists: {counterparts: " | ", via_findings: " | "}
MATCH (a:Study {iri: $a}), (b:Study {iri: $b})
UNWIND ['A', 'B'] AS side
WITH side, CASE side WHEN 'A' THEN a ELSE b END AS self, CASE side WHEN 'A' THEN b ELSE a END AS other
WHERE self.title IS NOT NULL
MATCH (c)-[:IN_STUDY]->(self)
WHERE c.label IS NOT NULL
  AND (c:Theme OR c:PublishedTheme OR c:PublishedFinding OR EXISTS { (:MappingRecord)-[:SOURCE]->(c) })
// a mapping straight between the two studies, in either direction
OPTIONAL MATCH (c)-[m:MAPS_TO]-(d)-[:IN_STUDY]->(other) WHERE d.label IS NOT NULL
// both mapped to the same review finding (two clauses: d2 may be c itself when A = B)
OPTIONAL MATCH (c)-[m1:MAPS_TO]->(f:ReviewFinding) WHERE f.label IS NOT NULL
OPTIONAL MATCH (d2)-[m2:MAPS_TO]->(f) WHERE d2.label IS NOT NULL AND EXISTS { (d2)-[:IN_STUDY]->(other) }
WITH side, self.title AS study, c.label AS theme,
     CASE WHEN d IS NULL THEN 0 WHEN m.predicate IN ['exactMatch', 'closeMatch'] THEN 2 ELSE 1 END AS direct,
     d.label AS otherLabel,
     CASE WHEN d2 IS NULL THEN 0
          WHEN m1.predicate IN ['exactMatch', 'closeMatch'] AND m2.predicate IN ['exactMatch', 'closeMatch'] THEN 2
          ELSE 1 END AS via,
     CASE WHEN d2 IS NULL THEN null ELSE d2.label + ' (via ' + f.label + ')' END AS viaLabel
RETURN side, study, theme,
       CASE WHEN max(direct) = 2 OR max(via) = 2 THEN 'shared'
            WHEN max(direct) = 1 OR max(via) = 1 THEN 'partly shared' ELSE 'unique' END AS status,
       collect(DISTINCT otherLabel) AS counterparts, collect(DISTINCT viaLabel) AS via_findings
ORDER BY side, theme
