//+ id: studies
//+ note: Twin of sparql/studies.rq on the Neo4j projection (projection/neo4j.py).
MATCH (s:Study) WHERE s.title IS NOT NULL
OPTIONAL MATCH (s)-[:REPORTED_IN]->(pub) WHERE pub.doi IS NOT NULL
RETURN s.iri AS study, s.title AS title, pub.doi AS doi, pub.citation AS citation,
       s.design AS design, s.sample AS sample, s.setting AS setting, s.analysis AS analysis,
       CASE WHEN EXISTS { MATCH (s)-[:REPORTED_IN]->(r) WHERE r.kind IN ['ReviewArticle', 'SystematicReview'] }
            THEN 'review' ELSE 'primary study' END AS kind,
       // Synthetic data: as studies.rq, with the projection's `synthetic_data` for qk:hasSyntheticData.
       (coalesce(s.synthetic_data, false) OR coalesce(s.synthetic, false)
        OR EXISTS { MATCH (n)-[:IN_STUDY]->(s) WHERE n.synthetic = true }) AS synthetic,
       COUNT { (p:Participant)-[:IN_STUDY]->(s) } AS participants,
       COUNT { MATCH (e)-[:IN_STUDY]->(s) MATCH (e)-[:HAS_MODE]->() } AS events,
       COUNT { (x:Excerpt)-[:IN_STUDY]->(s) } AS excerpts,
       // The records each count counts, for disclosure control only: never published.
       COLLECT { MATCH (p:Participant)-[:IN_STUDY]->(s) RETURN DISTINCT p.iri } AS participants_records,
       COLLECT { MATCH (e)-[:IN_STUDY]->(s) MATCH (e)-[:HAS_MODE]->() RETURN DISTINCT e.iri } AS events_records,
       COLLECT { MATCH (x:Excerpt)-[:IN_STUDY]->(s) RETURN DISTINCT x.iri } AS excerpts_records
ORDER BY title
