//+ id: codebook
UNWIND [['Theme', 'theme'], ['Subtheme', 'subtheme'], ['Code', 'code']] AS level
MATCH (concept:Concept)-[:IN_STUDY]->(s)
WHERE level[0] IN labels(concept) AND concept.label IS NOT NULL
  AND ($study IS NULL OR s.iri = $study) AND ($level = 'all' OR $level = level[1])
OPTIONAL MATCH (concept)-[:BROADER]->(parent) WHERE parent.label IS NOT NULL
OPTIONAL MATCH (x:Excerpt)-[:CODED_AS]->()-[:BROADER*0..]->(concept)
RETURN concept.iri AS concept, concept.label AS label, level[1] AS kind, parent.label AS parent,
       concept.definition AS definition, coalesce(concept.placeholder, false) AS placeholder,
       last(split(s.iri, '/study/')) AS study_id, count(DISTINCT x) AS excerpts,
       collect(DISTINCT x.iri) AS excerpts_records  // for disclosure control only: never published
ORDER BY study_id, kind, label
