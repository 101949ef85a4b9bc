//+ id: recurring-findings
//+ lists: {citations: " | ", countries: ", ", settings: " | ", roles: ", ", features: ", "}
// Each CALL aggregates without a grouping key, so it yields one row (zeros, empty lists) even when
// nothing matches: the COALESCE(…, 0) / COALESCE(…, "") of the SPARQL.
MATCH (f:ReviewFinding)
WHERE f.notation IS NOT NULL AND f.label IS NOT NULL AND ($finding IS NULL OR f.notation = $finding)
CALL (f) {
  MATCH (f)-[:DERIVED_FROM*1..]->()-[:IN_STUDY]->(study)
  WITH DISTINCT study
  OPTIONAL MATCH (study)-[:REPORTED_IN]->(pub) WHERE pub.citation IS NOT NULL
  WITH study, pub,
       EXISTS { (study)-[:REPORTED_IN]->(rp) WHERE rp.kind IN ['ReviewArticle', 'SystematicReview'] } AS isReview,
       coalesce(study.unverified, false) AS isUnverified
  RETURN count(DISTINCT study) AS ns, count(DISTINCT CASE WHEN NOT isReview THEN study END) AS np,
         count(DISTINCT CASE WHEN isReview THEN study END) AS nr,
         count(DISTINCT CASE WHEN isUnverified THEN study END) AS nunv,
         collect(DISTINCT coalesce(pub.citation, study.iri) + CASE WHEN isReview THEN ' [review]' ELSE '' END
                 + CASE WHEN isUnverified THEN ' [unverified]' ELSE '' END) AS cites
}
CALL (f) {
  MATCH (f)-[:DERIVED_FROM*1..]->(concept)-[:IN_STUDY]->()
  MATCH (code)-[:BROADER*0..]->(concept)
  MATCH (x:Excerpt)-[:CODED_AS]->(code)
  OPTIONAL MATCH (p)-[:SPOKE]->(x)
  RETURN count(DISTINCT x) AS nx, count(DISTINCT p) AS npart, count(DISTINCT CASE WHEN x.synthetic = true THEN x END) AS nsyn,
         collect(DISTINCT x.iri) AS xr, collect(DISTINCT p.iri) AS pr,
         collect(DISTINCT CASE WHEN x.synthetic = true THEN x.iri END) AS sr
}
CALL (f) {
  MATCH (f)-[:DERIVED_FROM*1..]->()-[:IN_STUDY]->(study)
  UNWIND coalesce(study.countries, []) AS country
  RETURN collect(DISTINCT country) AS countries
}
CALL (f) {
  MATCH (f)-[:DERIVED_FROM*1..]->()-[:IN_STUDY]->(study) WHERE study.setting IS NOT NULL
  RETURN collect(DISTINCT study.setting) AS settings
}
CALL (f) {
  MATCH (f)-[:DERIVED_FROM*1..]->(concept)-[:IN_STUDY]->()
  MATCH (code)-[:BROADER*0..]->(concept)
  MATCH (x:Excerpt)-[:CODED_AS]->(code)
  MATCH (p)-[:SPOKE]->(x)
  MATCH (p)-[:HOLDS_ROLE]->(r) WHERE r.label IS NOT NULL
  RETURN collect(DISTINCT r.label) AS roles
}
CALL (f) {
  MATCH (f)-[:DERIVED_FROM*1..]->(concept)-[:IN_STUDY]->()
  MATCH (code)-[:BROADER*0..]->(concept)
  MATCH (x:Excerpt)-[:CODED_AS]->(code)
  MATCH (p)-[:SPOKE]->(x)
  MATCH (p)-[:MEMBER_OF]->()-[:HAS_FEATURE]->(feat) WHERE feat.label IS NOT NULL
  RETURN collect(DISTINCT feat.label) AS features
}
CALL (f) {
  MATCH (rc)-[:MAPS_TO {predicate: 'refutes'}]->(f)
  MATCH (rc)-[:IN_STUDY]->(rstudy)
  RETURN count(DISTINCT rstudy) AS nref
}
RETURN f.notation AS finding, f.label AS label, CASE WHEN f:AnalyticalTheme THEN 'analytical' ELSE 'descriptive' END AS kind,
       ns AS studies, np AS primary_studies, nr AS reviews, npart AS participants, nx AS excerpts, nsyn AS synthetic,
       countries, settings, roles, features, nref AS refuting_studies, nunv AS unverified_studies, cites AS citations,
       pr AS participants_records, xr AS excerpts_records, sr AS synthetic_records  // never published
ORDER BY studies DESC, finding
