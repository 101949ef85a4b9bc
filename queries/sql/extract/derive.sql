--+ description: >
--+   Tables derived from one graph's extracted rows, run after they are loaded ($g: the graph). ancestor =
--+   the reflexive-transitive closure of skos:broader within the graph (`skos:broader*`), over every node
--+   that has a label or takes part in an edge; `proper` says a path of length ≥ 1 exists (`skos:broader+`).
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
