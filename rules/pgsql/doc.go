// Package pgsql reads PostgreSQL statement texts with the real PostgreSQL
// grammar (pg_query_go, libpg_query) and analyses them into the
// dialect-neutral facts of rules/facts.
//
// Parse splits a text into statements, names each statement's kind and
// keeps its parse tree; Normalized replaces constants with $n for the audit
// log. Analyze turns one parsed statement into facts (objects, output
// lineage and predicted RowDescription origins, row shaping, flows,
// functions, session effects) for the decision in package rules, resolving
// names the way the server does:
//
//   - relations through the session's search_path (Env): "$user" expands to
//     the current user, pg_temp is ignored, schemas that do not exist are
//     skipped, pg_catalog is searched first unless listed; an unqualified
//     name under an unknown search_path is Unsupported;
//   - functions, operators and types against built-in tables (functions.go)
//     only when they resolve to pg_catalog: written pg_catalog.x, or
//     unqualified with pg_catalog searched before any other schema;
//     anything else is an unknown function with unknown lineage;
//   - views through their pg_get_viewdef text (read under an empty
//     search_path, cached on the catalog snapshot); system relations of
//     pg_catalog and information_schema are not expanded: their columns are
//     known and hold no personal data, and reading them is recorded in
//     SystemObjects.
//
// The analysis fails closed: whatever it does not fully understand becomes
// an Unsupported entry, unknown lineage or an unknown function, so that
// restricted roles are refused rather than shown data. Decisions of note:
//
//   - whole-row references (p, p.*, row_to_json(p), p::text, (p).col, ...)
//     read every column of the relation through "row" (never directly);
//   - origins follow markTargetListOrigin (parse_target.c, PostgreSQL 13+):
//     a plain column of a table or view (the view, not its base table),
//     through subqueries in FROM and non-recursive CTEs; merged USING
//     columns, set operations, VALUES, functions, recursive CTEs,
//     RETURNING and COPY are not predicted;
//   - a function in FROM whose result columns are not certain (unnest of an
//     array that may be composite, record-returning functions without a
//     column list, unknown functions) has unknown columns, so * over it
//     leaves the outputs not fully known;
//   - NOTIFY records no flow (its payload is a literal of the statement; the
//     kind is decided by the role's statement list); pg_notify() is
//     dangerous;
//   - nextval/setval (write a sequence) and txid_current/pg_current_xact_id
//     (assign a transaction id) are dangerous; currval/lastval are built-ins;
//   - UPDATE's target columns are not recorded as row shaping
//     (facts.InSetTarget), as for MySQL: what is written is judged by the
//     flow of the assigned values;
//   - MERGE, data-modifying WITH queries, XMLTABLE and JSON_TABLE are
//     Unsupported;
//   - a text whose parse tree may nest deeper than maxDepth (2,000 levels)
//     is refused before libpg_query sees it: its output recurses on the C
//     stack without a check, and an overflow kills the process (depth.go
//     estimates the depth from the text's tokens).
//
// The package imports no wire library and nothing from package rules.
package pgsql
