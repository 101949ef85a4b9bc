//+ id: study-overview
CALL () {
  MATCH (p:Participant)-[:IN_STUDY]->(:Resource {iri: $study})
  OPTIONAL MATCH (p)-[:HOLDS_ROLE]->(r) WHERE r.label IS NOT NULL
  RETURN 'participants by role' AS section, coalesce(r.label, 'role not recorded') AS item, null AS parent,
         count(DISTINCT p) AS n, collect(DISTINCT p.iri) AS n_records
  UNION ALL
  MATCH (e)-[:IN_STUDY]->(:Resource {iri: $study}) MATCH (e)-[:HAS_MODE]->(m) WHERE m.label IS NOT NULL
  RETURN 'events by type' AS section, m.label AS item, null AS parent, count(DISTINCT e) AS n,
         collect(DISTINCT e.iri) AS n_records
  UNION ALL
  MATCH (t:Theme)-[:IN_STUDY]->(:Resource {iri: $study}) WHERE t.label IS NOT NULL
  OPTIONAL MATCH (x:Excerpt)-[:CODED_AS]->()-[:BROADER*0..]->(t)
  RETURN 'themes' AS section, t.label AS item, null AS parent, count(DISTINCT x) AS n,
         collect(DISTINCT x.iri) AS n_records
  UNION ALL
  MATCH (st:Subtheme)-[:IN_STUDY]->(:Resource {iri: $study}) WHERE st.label IS NOT NULL
  OPTIONAL MATCH (st)-[:BROADER]->(t) WHERE t.label IS NOT NULL
  OPTIONAL MATCH (x:Excerpt)-[:CODED_AS]->()-[:BROADER*0..]->(st)
  RETURN 'subthemes' AS section, st.label AS item, t.label AS parent, count(DISTINCT x) AS n,
         collect(DISTINCT x.iri) AS n_records
  UNION ALL
  MATCH (x:Excerpt)-[:IN_STUDY]->(:Resource {iri: $study})
  RETURN 'totals' AS section, 'excerpts' AS item, null AS parent, count(DISTINCT x) AS n,
         collect(DISTINCT x.iri) AS n_records
}
RETURN section, item, parent, n, n_records  // n_records: for disclosure control, never published
ORDER BY section, parent IS NOT NULL, parent, item
