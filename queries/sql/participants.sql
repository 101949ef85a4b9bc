--+ id: participants
--+ note: Grouped by pseudonym, role label, team label and study, as the .rq groups them.
WITH roles AS (
  SELECT m.p, l.label FROM membership m JOIN label l ON l.node = m.role
), teams AS (
  SELECT m.p, l.label FROM membership m JOIN label l ON l.node = m.team
)
SELECT p.pseudonym, r.label AS role_name, tm.label AS team, regexp_replace(p.study_iri, '^.*/study/', '') AS study_id,
       count(DISTINCT ep.e) AS events, count(DISTINCT x.x) AS excerpts
FROM participant p
LEFT JOIN roles r ON r.p = p.p
LEFT JOIN teams tm ON tm.p = p.p
LEFT JOIN event_participant ep ON ep.p = p.p
LEFT JOIN excerpt x ON x.p = p.p
WHERE p.pseudonym IS NOT NULL AND p.study IS NOT NULL AND ($study IS NULL OR p.study = k($study))
  AND ($role IS NULL OR EXISTS (SELECT 1 FROM membership m JOIN ancestor a ON a.node = m.role
                                WHERE m.p = p.p AND a.anc = k($role)))
GROUP BY p.pseudonym, r.label, tm.label, study_id
ORDER BY study_id, p.pseudonym
