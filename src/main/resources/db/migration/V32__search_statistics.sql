-- Extended statistics for the search index (bench/RESULTS.md, 2026-12-07). PostgreSQL estimates a condition on
-- several columns by multiplying their selectivities, but in the token index they depend on each other: a code implies
-- its system, parameter and resource type.
-- Multiplied, "this LOINC code" looked ~30x rarer than it is (9 rows estimated, 287 found), so a search naming one
-- patient and a common code started from every patient's rows with that code (2-10 ms) instead of from the
-- patient's own rows (0.6-1 ms). Functional-dependency statistics fix the estimate; multi-column MCV lists and the
-- same statistics on search_reference were tried too and only made planning slower.
CREATE STATISTICS IF NOT EXISTS search_token_columns (dependencies) ON res_type, param, code, system FROM search_token;
ANALYZE search_token;
