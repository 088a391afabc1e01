package rules

import "strings"

// ParseSQLMode reads the server's @@sql_mode value into the lexing flags.
// Combination modes are expanded as the server does (ANSI sets ANSI_QUOTES
// and PIPES_AS_CONCAT); modes that change the grammar beyond what the
// analyser reads (ORACLE, MSSQL, DB2, MAXDB, POSTGRESQL) set ModeUnanalysable,
// so every statement of the session is refused rather than misread.
func ParseSQLMode(s string) SQLMode {
	var m SQLMode
	for _, f := range strings.Split(strings.ToUpper(s), ",") {
		switch strings.TrimSpace(f) {
		case "ANSI_QUOTES":
			m |= ModeANSIQuotes
		case "NO_BACKSLASH_ESCAPES":
			m |= ModeNoBackslashEscapes
		case "PIPES_AS_CONCAT":
			m |= ModePipesAsConcat
		case "HIGH_NOT_PRECEDENCE":
			m |= ModeHighNotPrecedence
		case "IGNORE_SPACE":
			m |= ModeIgnoreSpace
		case "ANSI":
			m |= ModeANSIQuotes | ModePipesAsConcat | ModeIgnoreSpace
		case "ORACLE", "MSSQL", "DB2", "MAXDB", "POSTGRESQL", "EMPTY_STRING_IS_NULL", "SIMULTANEOUS_ASSIGNMENT":
			m |= ModeUnanalysable
		}
	}
	return m
}
