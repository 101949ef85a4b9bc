--+ description: >
--+   What is derived from one graph's extracts ($g: the graph; a staged extract is readable under its
--+   table name). excerpt: one row per coded excerpt, a single value per property (any one, should the
--+   graph hold several), with its study's title and its transcript's label (the order of the excerpt
--+   list). excerpt_concept: each excerpt with every concept at or above one of its codes. ancestor: the reflexive-transitive closure of skos:broader within the graph
--+   (`skos:broader*`) over every node that has a label or takes part in an edge; `proper` says a path
--+   of length ≥ 1 exists (`skos:broader+`). cooccurring: every pair of excerpts of one transcript whose
--+   spans overlap (an excerpt with itself included) with a code of each, c1's IRI before c2's; `lo`, `hi`:
--+   the pair's keys in order, `pair`: its two IRIs as the .rq writes them.
INSERT INTO excerpt
WITH f AS (
  SELECT s, replace(replace(replace(p, 'https://w3id.org/qualkg/ns#', 'qk:'), 'http://www.w3.org/ns/oa#', 'oa:'),
                    'http://www.w3.org/ns/prov#', 'prov:') AS p, v
  FROM excerpt_facts
), xs AS (
  SELECT DISTINCT s AS x FROM f WHERE p = 'http://www.w3.org/1999/02/22-rdf-syntax-ns#type'
), own AS (
  SELECT s, max(v) FILTER (p = 'qk:inStudy') AS study, max(v) FILTER (p = 'qk:spokenBy') AS speaker,
         max(v) FILTER (p = 'prov:wasQuotedFrom') AS t, max(v) FILTER (p = 'qk:isSynthetic') AS synthetic,
         max(v) FILTER (p = 'qk:sourceFile') AS source_file, max(v) FILTER (p = 'qk:sourceTool') AS tool,
         max(v) FILTER (p = 'qk:offsetConvention') AS offset_convention
  FROM f WHERE s IN (SELECT x FROM xs) GROUP BY s
), selectors AS (
  SELECT tg.s AS x, sel.v AS sel FROM f tg JOIN f sel ON sel.s = tg.v AND sel.p = 'oa:hasSelector'
  WHERE tg.p = 'oa:hasTarget' AND tg.s IN (SELECT x FROM xs)
), spans AS (
  SELECT sl.x, max(v) FILTER (p = 'oa:start') AS "start", max(v) FILTER (p = 'oa:end') AS "end",
         max(v) FILTER (p = 'oa:exact') AS "text"
  FROM selectors sl JOIN f ON f.s = sl.sel GROUP BY sl.x
)
SELECT $g, k(xs.x), xs.x, k(own.study), k(own.speaker), own.speaker, k(own.t),
       TRY_CAST(spans."start" AS BIGINT), TRY_CAST(spans."end" AS BIGINT), spans."text",
       TRY_CAST(own.synthetic AS BOOLEAN), own.source_file, own.tool, own.offset_convention,
       (SELECT max(title) FROM study WHERE g = $g AND s = k(own.study)),
       (SELECT max(label) FROM rdfs_label WHERE g = $g AND node = k(own.t))
FROM xs LEFT JOIN own ON own.s = xs.x LEFT JOIN spans ON spans.x = xs.x;

INSERT INTO excerpt_code
SELECT DISTINCT $g, k(s), k(v), v FROM excerpt_facts
WHERE p = 'http://www.w3.org/ns/oa#hasBody'
  AND s IN (SELECT s FROM excerpt_facts WHERE p = 'http://www.w3.org/1999/02/22-rdf-syntax-ns#type');

INSERT INTO ancestor
WITH RECURSIVE nodes AS (
  SELECT node FROM label WHERE g = $g
  UNION SELECT node FROM broader WHERE g = $g
  UNION SELECT parent FROM broader WHERE g = $g
), walk(node, anc, proper) AS (
  SELECT node, node, false FROM nodes
  UNION
  SELECT w.node, b.parent, true FROM walk w JOIN broader b ON b.g = $g AND b.node = w.anc
)
SELECT $g, node, anc, bool_or(proper) FROM walk GROUP BY node, anc;

INSERT INTO excerpt_concept
SELECT DISTINCT $g, ec.x, a.anc FROM excerpt_code ec JOIN ancestor a ON a.g = $g AND a.node = ec.c WHERE ec.g = $g;

INSERT INTO cooccurring
SELECT $g, a.x, b.x, ac.c, bc.c, least(a.x, b.x), greatest(a.x, b.x),
       CASE WHEN a.x_iri <= b.x_iri THEN a.x_iri || '|' || b.x_iri ELSE b.x_iri || '|' || a.x_iri END
FROM excerpt a
JOIN excerpt b ON b.g = $g AND b.t = a.t AND a.start < b."end" AND b.start < a."end"
JOIN excerpt_code ac ON ac.g = $g AND ac.x = a.x
JOIN excerpt_code bc ON bc.g = $g AND bc.x = b.x AND ac.c_iri < bc.c_iri
WHERE a.g = $g;
