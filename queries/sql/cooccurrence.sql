--+ id: cooccurrence
--+ note: >
--+   The excerpts that pass the filters are chosen once; pairs meet on the transcript, as in the .rq.
--+   c is computed in double precision and rounded half away from zero, which for these non-negative
--+   ratios of integers gives the .rq's decimal ROUND (half up) exactly.
WITH kept AS (
  SELECT x.x, x.x_iri, x.t, x.start, x."end" FROM excerpt x
  WHERE x.study IS NOT NULL AND ($study IS NULL OR x.study = k($study))
    AND ($role IS NULL OR EXISTS (SELECT 1 FROM membership m JOIN ancestor a ON a.node = m.role
                                  WHERE m.p = x.p AND a.anc = k($role)))
    AND ($feature IS NULL OR EXISTS (SELECT 1 FROM membership m JOIN classification f ON f.t = m.team
                                     WHERE m.p = x.p AND f.f = k($feature)))
), coded AS (
  SELECT kept.*, ec.c, ec.c_iri FROM kept JOIN excerpt_code ec ON ec.x = kept.x
), counted AS (
  SELECT c, count(DISTINCT x) AS n, string_agg(DISTINCT x_iri, ' ') AS n_records FROM coded GROUP BY c
), pairs AS (
  SELECT a.c AS c1, b.c AS c2,
         CASE WHEN a.x_iri <= b.x_iri THEN a.x_iri || '|' || b.x_iri ELSE b.x_iri || '|' || a.x_iri END AS pair
  FROM coded a JOIN coded b ON b.t = a.t AND a.start < b."end" AND b.start < a."end" AND a.c_iri < b.c_iri
  WHERE a.t IS NOT NULL AND a.start IS NOT NULL AND b.start IS NOT NULL
), paired AS (
  SELECT c1, c2, count(DISTINCT pair) AS n12, string_agg(DISTINCT pair, ' ') AS n12_records FROM pairs GROUP BY c1, c2
)
SELECT l1.label AS code1, l2.label AS code2, p.n12, n1.n AS n1, n2.n AS n2,
       round(1000 * p.n12 / (n1.n + n2.n - p.n12)) / 1000 AS c,
       p.n12_records, n1.n_records AS n1_records, n2.n_records AS n2_records  -- never published
FROM paired p
JOIN counted n1 ON n1.c = p.c1 JOIN counted n2 ON n2.c = p.c2
JOIN label l1 ON l1.node = p.c1 JOIN label l2 ON l2.node = p.c2
ORDER BY p.n12 DESC, code1, code2
