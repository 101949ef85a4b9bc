--+ id: contexts
--+ lists: {features: "; "}
--+ note: A team without features has features null, as the .rq's GROUP_CONCAT over no value.
WITH teams AS (
  SELECT DISTINCT t.t FROM team t
  WHERE t.study IS NOT NULL AND ($study IS NULL OR t.study = k($study))
    AND ($feature IS NULL OR EXISTS (SELECT 1 FROM classification f WHERE f.t = t.t AND f.f = k($feature)))
), featured AS (
  SELECT tm.t, (SELECT string_agg(DISTINCT l.label, '; ' ORDER BY l.label) FROM classification f
                JOIN label l ON l.node = f.f WHERE f.t = tm.t) AS features
  FROM teams tm
), spoken AS (
  SELECT m.team AS t, x.x, x.x_iri, x.p, x.p_iri, tl.label AS theme
  FROM membership m JOIN excerpt x ON x.p = m.p JOIN excerpt_concept xc ON xc.x = x.x
  JOIN concept tk ON tk.c = xc.c AND tk.kind = 'theme' JOIN label tl ON tl.node = xc.c
  WHERE m.team IN (SELECT t FROM teams)
), units AS (
  SELECT u.t, l.label FROM unit_of u JOIN label l ON l.node = u.o
)
SELECT tl.label AS team, ol.label AS organisation, ft.features, sp.theme,
       count(DISTINCT sp.x) AS excerpts, count(DISTINCT sp.p) AS participants,
       string_agg(DISTINCT coalesce(sp.x_iri, ''), ' ') AS excerpts_records,  -- never published
       string_agg(DISTINCT coalesce(sp.p_iri, ''), ' ') AS participants_records
FROM featured ft
JOIN label tl ON tl.node = ft.t
LEFT JOIN units ol ON ol.t = ft.t
LEFT JOIN spoken sp ON sp.t = ft.t
GROUP BY tl.label, ol.label, ft.features, sp.theme
ORDER BY team, sp.theme NULLS FIRST
