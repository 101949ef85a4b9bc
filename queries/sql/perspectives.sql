--+ id: perspectives
--+ note: One row per (excerpt, speaker, role, theme, subtheme) as the .rq's solutions, then counted.
WITH said AS (
  SELECT x.x, x.x_iri, x.p, x.p_iri, ec.c, m.role FROM excerpt x
  JOIN excerpt_code ec ON ec.x = x.x
  JOIN membership m ON m.p = x.p AND m.role IS NOT NULL
  WHERE x.study IS NOT NULL AND ($study IS NULL OR x.study = k($study))
), sided AS (
  SELECT s.*, EXISTS (SELECT 1 FROM ancestor a WHERE a.node = s.role AND a.anc = k($peer)) AS is_peer,
         EXISTS (SELECT 1 FROM ancestor a WHERE a.node = s.role AND a.anc = k($other)) AS is_other
  FROM said s
), themed AS (
  SELECT sd.*, tl.label AS theme, th.anc AS th FROM sided sd
  JOIN ancestor th ON th.node = sd.c JOIN concept tk ON tk.c = th.anc AND tk.kind = 'theme'
  JOIN label tl ON tl.node = th.anc
  WHERE sd.is_peer OR sd.is_other
), subthemes AS (  -- a subtheme at or above the code whose parent is the theme
  SELECT a.node, b.parent AS th, sl.label FROM ancestor a
  JOIN concept sk ON sk.c = a.anc AND sk.kind = 'subtheme'
  JOIN broader b ON b.node = a.anc JOIN label sl ON sl.node = a.anc
)
SELECT t.theme, coalesce(st.label, '') AS subtheme,
       count(DISTINCT CASE WHEN t.is_peer THEN t.x END) AS peer_excerpts,
       count(DISTINCT CASE WHEN t.is_peer THEN t.p END) AS peer_participants,
       count(DISTINCT CASE WHEN t.is_other THEN t.x END) AS other_excerpts,
       count(DISTINCT CASE WHEN t.is_other THEN t.p END) AS other_participants,
       CASE WHEN peer_excerpts > 0 AND other_excerpts > 0 THEN 'both'
            WHEN peer_excerpts > 0 THEN 'peers only' ELSE 'non-peers only' END AS spoken_by,
       string_agg(DISTINCT coalesce(CASE WHEN t.is_peer THEN t.x_iri END, ''), ' ') AS peer_excerpts_records,
       string_agg(DISTINCT coalesce(CASE WHEN t.is_peer THEN t.p_iri END, ''), ' ') AS peer_participants_records,
       string_agg(DISTINCT coalesce(CASE WHEN t.is_other THEN t.x_iri END, ''), ' ') AS other_excerpts_records,
       string_agg(DISTINCT coalesce(CASE WHEN t.is_other THEN t.p_iri END, ''), ' ') AS other_participants_records
FROM themed t
LEFT JOIN subthemes st ON st.node = t.c AND st.th = t.th
GROUP BY t.theme, coalesce(st.label, '')
ORDER BY t.theme, subtheme
