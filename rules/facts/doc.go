// Package facts owns the dialect-neutral description of what one SQL
// statement does: which objects it reads and writes, where every output
// column's value comes from (lineage), which columns shape the rows, and where
// data flows other than to the client. Dialect analysers (rules/mysqlsql, and
// later a PostgreSQL one) fill a Statement; the decision in package rules
// reads only a Statement, never SQL text or a syntax tree.
//
// The model is built for failing closed: whatever an analyser cannot resolve
// is recorded as such (Unknown lineage, Unsupported constructs) rather than
// left out, and the decision treats it as sensitive.
package facts
