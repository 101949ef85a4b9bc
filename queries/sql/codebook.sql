--+ id: codebook
--+ note: An excerpt counts for a concept when one of its codes is the concept or under it (`skos:broader*`).
WITH concepts AS (
  SELECT c.c, c.c_iri, c.kind, c.study_iri, c.definition, c.placeholder FROM concept c
  WHERE c.study IS NOT NULL AND ($study IS NULL OR c.study = k($study)) AND ($level = 'all' OR $level = c.kind)
), parents AS (
  SELECT b.node, l.label FROM broader b JOIN label l ON l.node = b.parent
), coded AS (
  SELECT xc.c AS anc, x.x, x.x_iri FROM excerpt_concept xc JOIN excerpt x ON x.x = xc.x
  WHERE xc.c IN (SELECT c FROM concepts)
)
SELECT cs.c_iri AS concept, l.label, cs.kind, pl.label AS parent, cs.definition, cs.placeholder,
       regexp_replace(cs.study_iri, '^.*/study/', '') AS study_id, count(DISTINCT cd.x) AS excerpts,
       string_agg(DISTINCT coalesce(cd.x_iri, ''), ' ') AS excerpts_records  -- never published
FROM concepts cs
JOIN label l ON l.node = cs.c
LEFT JOIN parents pl ON pl.node = cs.c
LEFT JOIN coded cd ON cd.anc = cs.c
GROUP BY ALL
ORDER BY study_id, cs.kind, l.label
