--+ id: cooccurrence
--+ note: >
--+   The overlapping pairs are found when a graph is projected (derive.sql: cooccurring); here they are
--+   kept when both excerpts pass the filters, as the .rq's two sides. c is computed in double precision
--+   and rounded half away from zero, which for these non-negative ratios gives the .rq's ROUND exactly.
WITH kept AS (
  SELECT x.x, x.x_iri FROM excerpt x
  WHERE x.study IS NOT NULL AND ($study IS NULL OR x.study = k($study))
    AND ($role IS NULL OR EXISTS (SELECT 1 FROM membership m JOIN ancestor a ON a.node = m.role
                                  WHERE m.p = x.p AND a.anc = k($role)))
    AND ($feature IS NULL OR EXISTS (SELECT 1 FROM membership m JOIN classification f ON f.t = m.team
                                     WHERE m.p = x.p AND f.f = k($feature)))
), counted AS (
  SELECT ec.c, count(DISTINCT kept.x) AS n, string_agg(DISTINCT kept.x_iri, ' ') AS n_records
  FROM kept JOIN excerpt_code ec ON ec.x = kept.x GROUP BY ec.c
), paired AS (
  SELECT co.c1, co.c2, count(DISTINCT (co.lo, co.hi)) AS n12, string_agg(DISTINCT co.pair, ' ') AS n12_records
  FROM cooccurring co
  WHERE co.x1 IN (SELECT x FROM kept) AND co.x2 IN (SELECT x FROM kept)
  GROUP BY co.c1, co.c2
)
SELECT l1.label AS code1, l2.label AS code2, p.n12, n1.n AS n1, n2.n AS n2,
       round(1000 * p.n12 / (n1.n + n2.n - p.n12)) / 1000 AS c,
       p.n12_records, n1.n_records AS n1_records, n2.n_records AS n2_records  -- never published
FROM paired p
JOIN counted n1 ON n1.c = p.c1 JOIN counted n2 ON n2.c = p.c2
JOIN label l1 ON l1.node = p.c1 JOIN label l2 ON l2.node = p.c2
ORDER BY p.n12 DESC, code1, code2
