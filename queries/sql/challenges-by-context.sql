--+ id: challenges-by-context
--+ note: >
--+   `example` is the alphabetically first excerpt text of the group (MIN), as in the .rq and .cypher.
--+   The *_records columns list what each count counts, for disclosure control only (never published).
WITH codes AS (  -- codes whose label, or a non-theme ancestor's label, contains the topic
  SELECT DISTINCT c.c FROM concept c
  JOIN ancestor a ON a.node = c.c
  JOIN label tl ON tl.node = a.anc
  WHERE c.kind = 'code' AND contains(lower(tl.label), lower($topic))
    AND NOT EXISTS (SELECT 1 FROM concept t WHERE t.c = a.anc AND t.kind = 'theme')
), speakers AS (  -- in a role at or under $role, in a team with $feature (one membership)
  SELECT DISTINCT m.p FROM membership m
  JOIN ancestor r ON r.node = m.role AND r.anc = k($role)
  JOIN classification f ON f.t = m.team AND f.f = k($feature)
), hits AS (
  SELECT x.x, x.x_iri, x.p, x.p_iri, x.study, x.synthetic, x.text, ec.c
  FROM excerpt x JOIN excerpt_code ec ON ec.x = x.x
  WHERE x.study IS NOT NULL AND x.synthetic IS NOT NULL AND x.text IS NOT NULL
    AND ($study IS NULL OR x.study = k($study))
    AND ec.c IN (SELECT c FROM codes) AND x.p IN (SELECT p FROM speakers)
), subthemes AS (
  SELECT b.node, sl.label FROM broader b
  JOIN concept s ON s.c = b.parent AND s.kind = 'subtheme' JOIN label sl ON sl.node = b.parent
), themes AS (
  SELECT a.node, tl.label FROM ancestor a
  JOIN concept t ON t.c = a.anc AND t.kind = 'theme' JOIN label tl ON tl.node = a.anc
  WHERE a.proper
)
SELECT th.label AS theme, st.label AS subtheme, cl.label AS code,
       count(DISTINCT h.x) AS excerpts, count(DISTINCT h.p) AS participants, count(DISTINCT h.study) AS studies,
       count(DISTINCT CASE WHEN h.synthetic THEN h.x END) AS synthetic, min(h.text) AS example,
       string_agg(DISTINCT h.x_iri, ' ') AS excerpts_records, string_agg(DISTINCT h.p_iri, ' ') AS participants_records,
       coalesce(string_agg(DISTINCT CASE WHEN h.synthetic THEN h.x_iri END, ' '), '') AS synthetic_records
FROM hits h
JOIN label cl ON cl.node = h.c
LEFT JOIN subthemes st ON st.node = h.c
LEFT JOIN themes th ON th.node = h.c
GROUP BY th.label, st.label, cl.label
ORDER BY excerpts DESC, theme NULLS FIRST, subtheme NULLS FIRST, code
