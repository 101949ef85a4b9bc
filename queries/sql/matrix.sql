--+ id: matrix
--+ note: One branch per choice of rows and of columns, as the UNION branches of the .rq.
WITH xs AS (
  SELECT x.x, x.x_iri, x.p, x.p_iri, x.study, x.t FROM excerpt x
  WHERE x.study IS NOT NULL AND ($study IS NULL OR x.study = k($study))
), cols AS (
  SELECT xc.x, l.label AS "column" FROM excerpt_concept xc
  JOIN concept kc ON kc.c = xc.c AND kc.kind = $columns JOIN label l ON l.node = xc.c
  WHERE $columns IN ('theme', 'subtheme')
  UNION ALL
  SELECT ec.x, l.label FROM excerpt_code ec JOIN label l ON l.node = ec.c WHERE $columns = 'code'
), rws AS (
  SELECT xs.x, l.label AS "row" FROM xs JOIN membership m ON m.p = xs.p JOIN label l ON l.node = m.role
  WHERE $rows = 'role'
  UNION ALL
  SELECT xs.x, l.label FROM xs JOIN membership m ON m.p = xs.p JOIN label l ON l.node = m.team WHERE $rows = 'team'
  UNION ALL
  SELECT xs.x, l.label FROM xs JOIN membership m ON m.p = xs.p JOIN classification f ON f.t = m.team
  JOIN label l ON l.node = f.f WHERE $rows = 'feature'
  UNION ALL
  SELECT xs.x, l.label FROM xs JOIN generated_by gb ON gb.t = xs.t JOIN event_mode em ON em.e = gb.e
  JOIN label l ON l.node = em.mode WHERE $rows = 'event-type'
  UNION ALL
  SELECT xs.x, a.value FROM xs JOIN attribute a ON a.p = xs.p
  WHERE $rows = 'attribute' AND ($attribute IS NULL OR a.name = $attribute)
)
SELECT r."row", c."column", count(DISTINCT xs.x) AS excerpts, count(DISTINCT xs.p) AS participants,
       count(DISTINCT xs.study) AS studies,
       string_agg(DISTINCT xs.x_iri, ' ') AS excerpts_records,  -- never published
       string_agg(DISTINCT coalesce(xs.p_iri, ''), ' ') AS participants_records
FROM xs JOIN cols c ON c.x = xs.x JOIN rws r ON r.x = xs.x
GROUP BY r."row", c."column"
ORDER BY r."row", c."column"
