package rules

import (
	"strconv"
	"strings"
)

// literalSpan is where one constant is in a text: the whole token
// (prefix and quotes included) and its body.
type literalSpan struct{ start, end, bodyStart, bodyEnd int }

// scanPostgresLiterals appends the constants of a PostgreSQL text to dst,
// in order, and returns the highest parameter number ($n) it holds. It is a
// lexer, not a parser: it knows comments (-- and nested block comments),
// quoted identifiers, standard strings (a doubled quote is a quote;
// standard_conforming_strings is pinned on), E-strings with backslash
// escapes, B, X, U& and N strings, dollar quoting and numbers; it never
// fails (an unterminated constant runs to the end of the text). Nothing
// after a NUL byte is read: the server reads a C string.
func scanPostgresLiterals(dst []literalSpan, text string) ([]literalSpan, int) {
	if k := strings.IndexByte(text, 0); k >= 0 {
		text = text[:k]
	}
	maxParam := 0
	n := len(text)
	for i := 0; i < n; {
		c := text[i]
		switch {
		case c == '-' && i+1 < n && text[i+1] == '-':
			for i < n && text[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < n && text[i+1] == '*':
			depth := 0
			for i < n {
				if text[i] == '/' && i+1 < n && text[i+1] == '*' {
					depth++
					i += 2
				} else if text[i] == '*' && i+1 < n && text[i+1] == '/' {
					depth--
					i += 2
					if depth == 0 {
						break
					}
				} else {
					i++
				}
			}
		case c == '"':
			i = skipQuoted(text, i+1, '"', false)
		case c == '\'':
			end := skipQuoted(text, i+1, '\'', false)
			dst = append(dst, literalSpan{i, end, i + 1, max(i+1, end-1)})
			i = end
		case (c == 'e' || c == 'E') && i+1 < n && text[i+1] == '\'' && !identBefore(text, i):
			end := skipQuoted(text, i+2, '\'', true)
			dst = append(dst, literalSpan{i, end, i + 2, max(i+2, end-1)})
			i = end
		case (c == 'b' || c == 'B' || c == 'x' || c == 'X' || c == 'n' || c == 'N') && i+1 < n && text[i+1] == '\'' && !identBefore(text, i):
			end := skipQuoted(text, i+2, '\'', false)
			dst = append(dst, literalSpan{i, end, i + 2, max(i+2, end-1)})
			i = end
		case (c == 'u' || c == 'U') && i+2 < n && text[i+1] == '&' && (text[i+2] == '\'' || text[i+2] == '"') && !identBefore(text, i):
			end := skipQuoted(text, i+3, text[i+2], false)
			if text[i+2] == '\'' {
				dst = append(dst, literalSpan{i, end, i + 3, max(i+3, end-1)})
			}
			i = end
		case c == '$':
			// $n is a parameter; $tag$ ... $tag$ a dollar-quoted string.
			j := i + 1
			for j < n && text[j] != '$' && isIdentChar(text[j]) && !(j == i+1 && text[j] >= '0' && text[j] <= '9') {
				j++
			}
			if j < n && text[j] == '$' && !identBefore(text, i) {
				tag := text[i : j+1]
				body := j + 1
				end := indexFrom(text, tag, body)
				if end < 0 {
					dst = append(dst, literalSpan{i, n, body, n})
					i = n
				} else {
					dst = append(dst, literalSpan{i, end + len(tag), body, end})
					i = end + len(tag)
				}
				continue
			}
			i++
			p := 0
			for i < n && text[i] >= '0' && text[i] <= '9' {
				if p < 1<<20 {
					p = p*10 + int(text[i]-'0')
				}
				i++
			}
			maxParam = max(maxParam, p)
		case (c >= '0' && c <= '9') || (c == '.' && i+1 < n && text[i+1] >= '0' && text[i+1] <= '9'):
			if c != '.' && identBefore(text, i) {
				i++ // a digit inside a name
				continue
			}
			start := i
			for i < n && (isIdentChar(text[i]) || text[i] == '.' ||
				((text[i] == '+' || text[i] == '-') && (text[i-1] == 'e' || text[i-1] == 'E'))) {
				i++
			}
			dst = append(dst, literalSpan{start, i, start, i})
		case isIdentChar(c):
			for i < n && isIdentChar(text[i]) {
				i++
			}
		default:
			i++
		}
	}
	return dst, maxParam
}

// appendPostgresLiterals appends the constants of text as written (string
// constants with their prefix and quotes or dollar tags, as MySQL's are
// kept, so that '1' and 1 stay apart; numbers as written), for the audit
// log, which keeps them encrypted.
func appendPostgresLiterals(dst []string, text string) []string {
	var buf [16]literalSpan
	spans, _ := scanPostgresLiterals(buf[:0], text)
	for _, sp := range spans {
		dst = append(dst, text[sp.start:sp.end])
	}
	return dst
}

// postgresShape returns text with every constant replaced by a parameter
// $n numbered after the text's own parameters, as pg_query's normalization
// does: the statement's shape, with no literal value in it (for the audit
// log, approvals and the decision cache). Texts that differ only in
// constants have the same shape.
func postgresShape(text string) string {
	shape, _ := postgresShapeAndLiterals(text, nil)
	return shape
}

// postgresShapeAndLiterals returns text's shape (postgresShape) and appends
// its constants to lits (appendPostgresLiterals), from one scan of the text.
func postgresShapeAndLiterals(text string, lits []string) (string, []string) {
	var buf [16]literalSpan
	spans, maxParam := scanPostgresLiterals(buf[:0], text)
	end := len(text)
	if k := strings.IndexByte(text, 0); k >= 0 {
		end = k
	}
	if len(spans) == 0 {
		return text[:end], lits
	}
	var b strings.Builder
	b.Grow(end + 2*len(spans))
	prev := 0
	for i, sp := range spans {
		if lits != nil {
			lits = append(lits, text[sp.start:sp.end])
		}
		b.WriteString(text[prev:sp.start])
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(maxParam + i + 1))
		prev = sp.end
	}
	b.WriteString(text[prev:end])
	return b.String(), lits
}

// skipQuoted returns the index after the closing quote of a constant whose
// body starts at i; a doubled quote is part of the body, and so is a
// backslash-escaped character when backslash is set.
func skipQuoted(text string, i int, quote byte, backslash bool) int {
	for i < len(text) {
		switch c := text[i]; {
		case backslash && c == '\\':
			i += 2
		case c == quote:
			if i+1 < len(text) && text[i+1] == quote {
				i += 2
				continue
			}
			return i + 1
		default:
			i++
		}
	}
	return len(text)
}

// identBefore reports whether text[i] continues an identifier or number.
func identBefore(text string, i int) bool { return i > 0 && isIdentChar(text[i-1]) }

func isIdentChar(c byte) bool {
	return c == '_' || c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '$'
}

func indexFrom(s, sub string, from int) int {
	for i := from; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}
