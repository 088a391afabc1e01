package rules

import "strings"

// appendPostgresLiterals appends the constants of a PostgreSQL text, in
// order and as written (string constants without their quotes, escapes
// left as they are; numbers as written), for the audit log, which keeps
// them encrypted. It is a lexer, not a parser: it knows comments (-- and
// nested /* */), quoted identifiers, standard strings (” doubles a quote;
// standard_conforming_strings is pinned on), E” strings with backslash
// escapes, B”, X”, U&” and N” strings, dollar quoting and numbers; it
// never fails (an unterminated constant runs to the end of the text).
// Parameters ($1) are not literals.
func appendPostgresLiterals(dst []string, text string) []string {
	if k := strings.IndexByte(text, 0); k >= 0 {
		text = text[:k] // the server reads a C string: nothing after NUL
	}
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
			dst = append(dst, text[i+1:max(i+1, end-1)])
			i = end
		case (c == 'e' || c == 'E') && i+1 < n && text[i+1] == '\'' && !identBefore(text, i):
			end := skipQuoted(text, i+2, '\'', true)
			dst = append(dst, text[i+2:max(i+2, end-1)])
			i = end
		case (c == 'b' || c == 'B' || c == 'x' || c == 'X' || c == 'n' || c == 'N') && i+1 < n && text[i+1] == '\'' && !identBefore(text, i):
			end := skipQuoted(text, i+2, '\'', false)
			dst = append(dst, text[i+2:max(i+2, end-1)])
			i = end
		case (c == 'u' || c == 'U') && i+2 < n && text[i+1] == '&' && (text[i+2] == '\'' || text[i+2] == '"') && !identBefore(text, i):
			end := skipQuoted(text, i+3, text[i+2], false)
			if text[i+2] == '\'' {
				dst = append(dst, text[i+3:max(i+3, end-1)])
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
					dst = append(dst, text[body:])
					i = n
				} else {
					dst = append(dst, text[body:end])
					i = end + len(tag)
				}
				continue
			}
			i++
			for i < n && text[i] >= '0' && text[i] <= '9' {
				i++
			}
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
			dst = append(dst, text[start:i])
		case isIdentChar(c):
			for i < n && isIdentChar(text[i]) {
				i++
			}
		default:
			i++
		}
	}
	return dst
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
