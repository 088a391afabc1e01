// Package mysqlsql owns reading MySQL and MariaDB SQL text the way the server
// reads it, and analysing it into dialect-neutral facts (rules/facts).
//
// Reading is in three steps, each failing closed with a ParseError:
//
//	raw bytes ──Charset.Decode──▶ UTF-8 text          (gbk/gb18030 decoded, others read as they are)
//	          ──Resolve─────────▶ the server's view     (executable comments applied per server
//	                                                     version, comments removed, per sql_mode quoting)
//	          ──Parse───────────▶ TiDB syntax trees     (parsed with the session's sql_mode)
//
// The resolved text is both what is parsed and what the engine forwards, so
// the analyser and the server read the same bytes; comments whose reading is
// uncertain are refused rather than guessed at. AppendNormalized turns
// resolved text into the statement shape used for audit, AppendShape into
// the one (with literal kinds) the decision cache is keyed by.
// Analyzer.Analyze walks a syntax tree (with the catalog for `*`, views and
// name resolution) and fills a facts.Statement. Identifiers are compared as
// the server does where that is certain (names.go) and refused otherwise.
//
// The package imports no wire library and nothing from package rules.
package mysqlsql
