// Package rules owns what dbfence decides about SQL: the policy model, the
// catalog of tables and columns, the analysis of statements into
// dialect-neutral facts and the decision on each statement.
//
// Protocol engines call the rules with a Session and a SQL text and get back
// a Verdict (verdict.go): what to forward, what to refuse and how each result
// column is treated. The rules never touch the wire.
//
//	CheckMySQL(sess, text)
//	  │ charset: decode gbk/gb18030 (refuse invalid bytes, unknown sets)
//	  │ mysqlsql.Resolve: executable comments as the server reads them
//	  │ decision cache: normalized text + db + modes + role + policy version
//	  │   (one cache per catalog snapshot; hit → done)
//	  │ mysqlsql.Parse (TiDB parser, session sql_mode)
//	  │ mysqlsql.Analyzer.Analyze → facts.Statement (lineage, shaping, flows)
//	  ▼ compiledPolicy.decide → StatementVerdict (+ column plan with maskers)
//
// Sub-packages: mysqlsql reads and analyses MySQL text; facts is the
// dialect-neutral model the decision reads; catalog is the schema snapshot.
//
// # Decisions for restricted roles (fail closed)
//
// A column is hidden when the role masks or denies its class (or level).
// Unknown lineage (unknown table, column, function or view) counts as
// hidden for roles that hide anything. The rules, in the order checked:
// statements not fully understood, dynamic SQL, DDL/CALL/LOAD/HANDLER/
// GRANT/user management/EXECUTE, kinds not in the role's list, SHOW of
// warnings/errors/processlist/code, EXPLAIN ANALYZE, system tables outside
// a small information_schema allowlist, LOAD_FILE/SLEEP/BENCHMARK/locks,
// stored functions and UDFs, table allow/deny patterns → refused. Hidden
// data flowing into a variable, setting or table → refused; into a file →
// approval needed. Hidden columns in row-shaping positions → refused except
// exact lookups (col = literal, col IN (literals)) in WHERE, ON and HAVING.
// Output columns: a masked column read directly (through aliases, views,
// CTEs, derived tables, UNION ALL) is masked; through any function,
// operator, cast, aggregate, window or subquery → refused; denied columns →
// refused. Classified data without WHERE and without LIMIT ≤ row_cap →
// approval needed (the row cap itself is enforced while streaming).
//
// # Bypass catalogue (shared/guide/bypass-catalogue.md)
//
// Closed here: 1 aliases/views/CTEs; 2 functions/operators/casts; 3 nested
// scopes (JSON_TABLE and LATERAL do not parse and are refused); 4 set
// operations; 5 star, NATURAL/USING, TABLE, HANDLER (refused); 6 aggregates
// and windows (refused over hidden columns); 7 row shaping except exact
// lookups; 9 variables and settings; 10 copies into tables (INSERT/REPLACE
// ... SELECT, UPDATE ... SET, CTAS, ON DUPLICATE KEY); 11 OUTFILE/DUMPFILE
// (approval), LOAD_FILE, LOAD DATA; 12 DDL, CALL, stored functions, UDFs;
// 13 dynamic SQL (PREPARE FROM '...' is analysed; EXECUTE is refused, so SQL
// level prepared statements are unusable for restricted roles); 15 every
// statement of a text is decided, a mode or charset change must come last;
// 16 executable comments; 17 ANSI_QUOTES, NO_BACKSLASH_ESCAPES,
// PIPES_AS_CONCAT, HIGH_NOT_PRECEDENCE, IGNORE_SPACE (ORACLE/MSSQL/... modes
// refused); 18 gbk/gb18030 decoded, others refused; 19 names per
// lower_case_table_names, USE tracked within a text; 21 system schemas,
// PROCEDURE ANALYSE, SHOW PROCESSLIST; 22 FEDERATED/CONNECT need DDL.
//
// Partly closed, by design or elsewhere: 8 errors and warnings — statements
// whose values would go to error text through functions are refused, SHOW
// WARNINGS/ERRORS and GET DIAGNOSTICS are refused, but an allowed exact
// lookup with a mistyped literal (address = 0) still makes the server count
// conversion warnings, and server error text must be redacted by the
// protocol engine; 14 protocol paths are the engine's; 20 SET ROLE is
// allowed (decisions follow the login user, not the backend role) and
// COM_CHANGE_USER is the engine's; 23 MySQL has no notice channel; 24 the
// bulk check is per statement (WHERE 1=1 passes it, only the streaming row
// cap bounds it) and there is no rolling per-user budget yet; 25 types and
// free-text content detection are the masking library's.
//
// Inference by exact lookups (one bit per guess), by timing and by error
// presence cannot be closed at a proxy.
package rules
