// Package rules owns what dbfence decides about SQL: the policy model, the
// catalog of tables and columns, the analysis of statements into
// dialect-neutral facts and the decision on each statement.
//
// Protocol engines call the rules with a Session and a SQL text and get back
// a Verdict (verdict.go): what to forward, what to refuse and how each result
// column is treated. The rules never touch the wire.
package rules
