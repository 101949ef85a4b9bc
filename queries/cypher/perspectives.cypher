//+ id: perspectives
MATCH (x:Excerpt)-[:IN_STUDY]->(s) WHERE $study IS NULL OR s.iri = $study
MATCH (x)-[:CODED_AS]->(c)
MATCH (p)-[:SPOKE]->(x)
MATCH (p)-[:HOLDS_ROLE]->(r)
MATCH (c)-[:BROADER*0..]->(th:Theme) WHERE th.label IS NOT NULL
OPTIONAL MATCH (c)-[:BROADER*0..]->(st:Subtheme)-[:BROADER]->(th) WHERE st.label IS NOT NULL
WITH x, p, th.label AS theme, coalesce(st.label, '') AS subtheme,
     EXISTS { (r)-[:BROADER*0..]->(:Resource {iri: $peer}) } AS isPeer,
     EXISTS { (r)-[:BROADER*0..]->(:Resource {iri: $other}) } AS isOther
WHERE isPeer OR isOther
WITH theme, subtheme,
     count(DISTINCT CASE WHEN isPeer THEN x END) AS pe, count(DISTINCT CASE WHEN isPeer THEN p END) AS pp,
     count(DISTINCT CASE WHEN isOther THEN x END) AS oe, count(DISTINCT CASE WHEN isOther THEN p END) AS op,
     collect(DISTINCT CASE WHEN isPeer THEN x.iri END) AS per, collect(DISTINCT CASE WHEN isPeer THEN p.iri END) AS ppr,
     collect(DISTINCT CASE WHEN isOther THEN x.iri END) AS oer, collect(DISTINCT CASE WHEN isOther THEN p.iri END) AS opr
RETURN theme, subtheme, pe AS peer_excerpts, pp AS peer_participants, oe AS other_excerpts, op AS other_participants,
       CASE WHEN pe > 0 AND oe > 0 THEN 'both' WHEN pe > 0 THEN 'peers only' ELSE 'non-peers only' END AS spoken_by,
       per AS peer_excerpts_records, ppr AS peer_participants_records,  // never published
       oer AS other_excerpts_records, opr AS other_participants_records
ORDER BY theme, subtheme
