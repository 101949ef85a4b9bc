--+ id: excerpts
--+ lists: {codes: "; "}
--+ note: The page is chosen first, as in the .rq; `codes` lists the code labels in code-point order.
WITH page AS (
  SELECT x.x, x.x_iri, x.text, x.synthetic, x.p, x.t, x.start, x."end", x.study_title, x.transcript,
         x.source_file, x.tool, x.offset_convention
  FROM excerpt x
  WHERE x.synthetic IS NOT NULL AND x.text IS NOT NULL AND x.start IS NOT NULL AND x.study_title IS NOT NULL
    AND x.transcript IS NOT NULL
    AND ($study IS NULL OR x.study = k($study))
    AND ($synthetic IS NULL OR x.synthetic = $synthetic)
    AND ($contains IS NULL OR contains(lower(x.text), lower($contains)))
    AND ($code IS NULL OR x.x IN (SELECT xc.x FROM excerpt_concept xc WHERE xc.c = k($code)))
    AND ($role IS NULL OR EXISTS (SELECT 1 FROM membership m JOIN ancestor a ON a.node = m.role
                                  WHERE m.p = x.p AND a.anc = k($role)))
    AND ($feature IS NULL OR EXISTS (SELECT 1 FROM membership m JOIN classification f ON f.t = m.team
                                     WHERE m.p = x.p AND f.f = k($feature)))
    AND ($mode IS NULL OR EXISTS (SELECT 1 FROM generated_by gb JOIN event_mode em ON em.e = gb.e
                                  JOIN ancestor a ON a.node = em.mode WHERE gb.t = x.t AND a.anc = k($mode)))
  ORDER BY x.study_title, x.transcript, x.start, x.x_iri
  --PAGE
), speakers AS (
  SELECT pg.x, p.pseudonym AS speaker, r.role_label AS speaker_role, tm.team_label AS team
  FROM page pg
  JOIN participant p ON p.p = pg.p AND p.pseudonym IS NOT NULL
  LEFT JOIN (SELECT m.p, l.label AS role_label FROM membership m JOIN label l ON l.node = m.role) r ON r.p = p.p
  LEFT JOIN (SELECT m.p, l.label AS team_label FROM membership m JOIN label l ON l.node = m.team) tm ON tm.p = p.p
), events AS (
  SELECT gb.t, el.label AS event, ml.label AS event_type
  FROM generated_by gb JOIN rdfs_label el ON el.node = gb.e
  JOIN event_mode em ON em.e = gb.e JOIN label ml ON ml.node = em.mode
  WHERE gb.t IN (SELECT t FROM page)
)
SELECT pg.x_iri AS excerpt, pg.text, pg.synthetic, string_agg(DISTINCT cl.label, '; ' ORDER BY cl.label) AS codes,
       sp.speaker, sp.speaker_role, sp.team, ev.event, ev.event_type, pg.study_title, pg.transcript,
       pg.start, pg."end", pg.source_file, pg.tool, pg.offset_convention
FROM page pg
JOIN excerpt_code ec ON ec.x = pg.x
JOIN label cl ON cl.node = ec.c
LEFT JOIN speakers sp ON sp.x = pg.x
LEFT JOIN events ev ON ev.t = pg.t
WHERE pg."end" IS NOT NULL
GROUP BY ALL
ORDER BY pg.study_title, pg.transcript, pg.start, excerpt
