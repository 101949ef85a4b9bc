--+ id: teams
--+ lists: {features: "; "}
--+ note: A team without features has features null, as the .rq's GROUP_CONCAT over no value.
WITH teams AS (
  SELECT DISTINCT t.t, t.study_iri FROM team t
  WHERE t.study IS NOT NULL AND ($study IS NULL OR t.study = k($study))
    AND ($feature IS NULL OR EXISTS (SELECT 1 FROM classification f WHERE f.t = t.t AND f.f = k($feature)))
), features AS (
  SELECT f.t, l.label FROM classification f JOIN label l ON l.node = f.f
), units AS (
  SELECT u.t, l.label FROM unit_of u JOIN label l ON l.node = u.o
)
SELECT tl.label AS team, ol.label AS organisation, string_agg(DISTINCT fl.label, '; ' ORDER BY fl.label) AS features,
       regexp_replace(tm.study_iri, '^.*/study/', '') AS study_id, count(DISTINCT mb.p) AS participants,
       string_agg(DISTINCT coalesce(mb.p_iri, ''), ' ') AS participants_records  -- never published
FROM teams tm
JOIN label tl ON tl.node = tm.t
LEFT JOIN units ol ON ol.t = tm.t
LEFT JOIN features fl ON fl.t = tm.t
LEFT JOIN membership mb ON mb.team = tm.t
GROUP BY tl.label, ol.label, study_id
ORDER BY study_id, team
