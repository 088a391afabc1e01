// Package pgsql reads PostgreSQL statement texts with the real PostgreSQL
// grammar (pg_query_go, libpg_query): it splits a text into statements, names
// each statement's kind, and normalizes it (constants → $n) for the audit log.
//
// It does not yet compute lineage facts: the rules refuse every PostgreSQL
// statement for restricted roles until it does (fail closed), and relay
// parsed statements for unrestricted roles.
package pgsql
