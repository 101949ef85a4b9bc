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
), keyed AS (  -- the .rq groups by labels: one group may hold several teams
  SELECT tm.t, tl.label AS team, ol.label AS organisation, regexp_replace(tm.study_iri, '^.*/study/', '') AS study_id
  FROM teams tm JOIN label tl ON tl.node = tm.t LEFT JOIN units ol ON ol.t = tm.t
), featured AS (  -- features and members counted apart: joined, each team's rows would multiply
  SELECT kd.team, kd.organisation, kd.study_id, string_agg(DISTINCT fl.label, '; ' ORDER BY fl.label) AS features
  FROM keyed kd LEFT JOIN features fl ON fl.t = kd.t GROUP BY kd.team, kd.organisation, kd.study_id
), members AS (
  SELECT kd.team, kd.organisation, kd.study_id, count(DISTINCT mb.p) AS participants,
         string_agg(DISTINCT coalesce(mb.p_iri, ''), ' ') AS participants_records  -- never published
  FROM keyed kd LEFT JOIN membership mb ON mb.team = kd.t GROUP BY kd.team, kd.organisation, kd.study_id
)
SELECT f.team, f.organisation, f.features, f.study_id, m.participants, m.participants_records
FROM featured f JOIN members m ON m.team = f.team AND m.organisation IS NOT DISTINCT FROM f.organisation
  AND m.study_id = f.study_id
ORDER BY f.study_id, f.team
