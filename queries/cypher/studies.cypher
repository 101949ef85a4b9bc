//+ id: studies
//+ note: Twin of sparql/studies.rq on the Neo4j projection (projection/neo4j.py).
MATCH (s:Study) WHERE s.title IS NOT NULL
OPTIONAL MATCH (s)-[:REPORTED_IN]->(pub) WHERE pub.doi IS NOT NULL
RETURN s.iri AS study, s.title AS title, pub.doi AS doi, pub.citation AS citation,
       COUNT { (p:Participant)-[:IN_STUDY]->(s) } AS participants,
       COUNT { MATCH (e)-[:IN_STUDY]->(s) MATCH (e)-[:HAS_MODE]->() } AS events,
       COUNT { (x:Excerpt)-[:IN_STUDY]->(s) } AS excerpts
ORDER BY title
