--+ description: The tables derive.sql fills (the others are made from the extracts' headers).
CREATE TABLE excerpt (g VARCHAR, x UBIGINT, x_iri VARCHAR, study UBIGINT, p UBIGINT, p_iri VARCHAR, t UBIGINT,
                      "start" BIGINT, "end" BIGINT, "text" VARCHAR, synthetic BOOLEAN, source_file VARCHAR,
                      tool VARCHAR, offset_convention VARCHAR, study_title VARCHAR, transcript VARCHAR);
CREATE TABLE excerpt_code (g VARCHAR, x UBIGINT, c UBIGINT, c_iri VARCHAR);
CREATE TABLE ancestor (g VARCHAR, node UBIGINT, anc UBIGINT, proper BOOLEAN);
CREATE TABLE excerpt_concept (g VARCHAR, x UBIGINT, c UBIGINT);
CREATE TABLE cooccurring (g VARCHAR, x1 UBIGINT, x2 UBIGINT, c1 UBIGINT, c2 UBIGINT, lo UBIGINT, hi UBIGINT,
                          pair VARCHAR);
