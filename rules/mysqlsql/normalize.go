package mysqlsql

import "strings"

// AppendNormalized appends the normalized form of a resolved statement text
// (the output of Resolve, which holds no comment other than plain hints) to
// dst: string and number literals become "?", runs of whitespace become one
// space, everything else is kept byte for byte, identifier case included.
//
// It is the audit's statement shape and, with the literal kinds (AppendShape),
// the decision cache's key. Two texts with the same normalized form and
// literal kinds differ only in literal values, so a decision that does not
// depend on literal values (see facts.Statement's LiteralDependent) holds for
// both. The scan is conservative: a token is replaced only when it is
// certainly a literal; quoted text after "@" (a variable name) and words
// after "." (a qualified name) are kept.
func AppendNormalized(dst []byte, text string, mode Mode) []byte {
	dst, _ = normalize(dst, nil, nil, false, text, mode)
	return dst
}

// The kinds of literal AppendShape tells apart.
const (
	kindString    = 's' // a quoted string
	kindInteger   = 'i' // a decimal integer below 1e15
	kindNumber    = 'n' // any other number: decimal, float, large integer, hex, bit
	kindParameter = 'p' // a ? parameter marker
)

// AppendShape appends the normalized form (AppendNormalized), a NUL, and the
// kind of each "?" of the normalized form (literal or parameter marker), in
// order, to dst. The decision can depend on the kind, not only on the value:
// whether `col = literal` is an exact lookup (isLookupLiteral) does, as an
// integer a double represents exactly tests one value, a float a range.
func AppendShape(dst []byte, text string, mode Mode) []byte {
	var buf [32]byte
	dst, kinds := normalize(dst, nil, buf[:0], true, text, mode)
	dst = append(dst, 0)
	return append(dst, kinds...)
}

// literalKind is the kind of a literal as normalize found it.
func literalKind(lit string) byte {
	switch {
	case lit[0] == '\'' || lit[0] == '"':
		return kindString
	case len(lit) > 1 && lit[0] == '0' && (lit[1] == 'x' || lit[1] == 'b'):
		return kindNumber
	}
	digits := strings.TrimLeft(lit, "0")
	for i := 0; i < len(digits); i++ {
		if !isDigit(digits[i]) {
			return kindNumber
		}
	}
	if len(digits) > 15 {
		return kindNumber
	}
	return kindInteger
}

// AppendLiterals appends the literals AppendNormalized replaces with "?", in
// order and as written (quotes included), to dst. The audit log stores them
// encrypted next to the normalized text.
func AppendLiterals(dst []string, text string, mode Mode) []string {
	normalize(nil, &dst, nil, false, text, mode)
	return dst
}

// normalize is AppendNormalized that also collects the literals into lits
// when it is not nil, and appends the literal kinds to kinds (returned) when
// wantKinds is set. kinds is passed and returned by value so that a
// caller's stack array can hold them.
func normalize(dst []byte, lits *[]string, kinds []byte, wantKinds bool, text string, mode Mode) ([]byte, []byte) {
	literal := func(s string, next int) {
		dst = append(dst, '?')
		if lits != nil {
			*lits = append(*lits, s)
		}
		if wantKinds {
			k := literalKind(s)
			if k == kindInteger && next < len(text) && text[next] == '.' {
				k = kindNumber // 1. is a decimal
			}
			kinds = append(kinds, k)
		}
	}
	space := false // a whitespace run is pending
	for i := 0; i < len(text); {
		c := text[i]
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' {
			space = true
			i++
			continue
		}
		if space {
			if len(dst) > 0 {
				dst = append(dst, ' ')
			}
			space = false
		}
		prev := byte(0)
		if i > 0 {
			prev = text[i-1]
		}
		switch {
		case c == '\'' || c == '"' && mode&ModeANSIQuotes == 0:
			end, err := skipString(text, i, mode&ModeNoBackslashEscapes == 0)
			if err != nil { // unreadable: keep the rest verbatim
				return append(dst, text[i:]...), kinds
			}
			if prev == '@' {
				dst = append(dst, text[i:end]...)
			} else {
				literal(text[i:end], end)
			}
			i = end
		case c == '`' || c == '"':
			end, err := skipString(text, i, false)
			if err != nil {
				return append(dst, text[i:]...), kinds
			}
			dst = append(dst, text[i:end]...)
			i = end
		case isWordByte(c):
			end := i
			for end < len(text) && (isWordByte(text[end]) || text[end] == '.' && end+1 < len(text) && isDigit(text[end+1]) && isDigit(text[end-1])) {
				end++
			}
			// A number with an exponent sign: 1.5e-3 is read as one literal.
			if end < len(text) && (text[end] == '-' || text[end] == '+') && end > i && (text[end-1] == 'e' || text[end-1] == 'E') && end+1 < len(text) && isDigit(text[end+1]) && isDecimalMantissa(text[i:end-1]) {
				end++
				for end < len(text) && isDigit(text[end]) {
					end++
				}
				if end < len(text) && isWordByte(text[end]) { // not a number after all
					for end < len(text) && isWordByte(text[end]) {
						end++
					}
					dst = append(dst, text[i:end]...)
					i = end
					continue
				}
				literal(text[i:end], end)
				i = end
				continue
			}
			word := text[i:end]
			if prev != '.' && prev != '@' && isNumber(word) {
				literal(word, end)
			} else {
				dst = append(dst, word...)
			}
			i = end
		default:
			if c == '?' && wantKinds {
				kinds = append(kinds, kindParameter)
			}
			dst = append(dst, c)
			i++
		}
	}
	return dst, kinds
}

// Normalized returns AppendNormalized(nil, text, mode) as a string.
func Normalized(text string, mode Mode) string {
	return string(AppendNormalized(make([]byte, 0, len(text)), text, mode))
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// isWordByte reports whether c can be part of an unquoted identifier or number.
func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || isDigit(c) || c == '_' || c == '$' || c >= 0x80
}

// isDecimalMantissa reports whether s is digits with at most one '.' inside.
func isDecimalMantissa(s string) bool {
	if s == "" || !isDigit(s[0]) {
		return false
	}
	dot := false
	for k := 0; k < len(s); k++ {
		switch {
		case isDigit(s[k]):
		case s[k] == '.' && !dot:
			dot = true
		default:
			return false
		}
	}
	return true
}

// isNumber reports whether a word is a numeric literal: decimal (with an
// optional fraction and unsigned exponent), 0x hex or 0b binary.
func isNumber(w string) bool {
	if len(w) > 2 && w[0] == '0' && (w[1] == 'x' || w[1] == 'b') {
		for k := 2; k < len(w); k++ {
			c := w[k]
			if w[1] == 'b' && c != '0' && c != '1' {
				return false
			}
			if w[1] == 'x' && !(isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
		return true
	}
	mant := w
	for k := 0; k < len(w); k++ {
		if w[k] == 'e' || w[k] == 'E' {
			mant = w[:k]
			exp := w[k+1:]
			if exp == "" {
				return false
			}
			for e := 0; e < len(exp); e++ {
				if !isDigit(exp[e]) {
					return false
				}
			}
			break
		}
	}
	return isDecimalMantissa(mant)
}
