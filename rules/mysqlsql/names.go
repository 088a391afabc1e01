package mysqlsql

import (
	"unicode"
	"unicode/utf8"
)

// Identifier comparison. The server compares column names, aliases and CTE
// names one character at a time by utf8mb3_general_ci weights: ASCII letters
// fold by case, and so do some other letters, but not as Go folds them (İ and
// ı weigh as I, ſ does not weigh as s, K weighs as k). Names are therefore
// compared with ASCII-only folding, and a comparison that depends on a
// non-ASCII letter with case is not decided: the statement is refused.
// Caseless characters (CJK among them) weigh as themselves and compare
// exactly.

// nameCmp is the outcome of comparing two identifiers.
type nameCmp uint8

const (
	namesDiffer nameCmp = iota
	namesEqual
	namesUncertain // the server's folding of a non-ASCII letter decides
)

// compareNames compares identifiers as the server does, or says it cannot.
func compareNames(a, b string) nameCmp {
	if a == b {
		return namesEqual
	}
	out := namesEqual
	for a != "" && b != "" {
		ra, na := utf8.DecodeRuneInString(a)
		rb, nb := utf8.DecodeRuneInString(b)
		a, b = a[na:], b[nb:]
		switch {
		case ra == rb && (ra != utf8.RuneError || na > 1 && nb > 1):
		case ra < utf8.RuneSelf && rb < utf8.RuneSelf:
			if asciiLowerByte(byte(ra)) != asciiLowerByte(byte(rb)) {
				return namesDiffer
			}
		case hasCase(ra) || hasCase(rb):
			out = namesUncertain // later characters may still differ for sure
		default:
			return namesDiffer // caseless characters weigh as themselves
		}
	}
	if a != "" || b != "" {
		return namesDiffer // one weight per character: lengths must agree
	}
	return out
}

// hasCase reports whether a non-ASCII rune may fold to another character in
// the server: it has case in Go's tables (including the lower-case letters
// without an upper-case form, which general_ci weighs as their base
// letter), it is outside the BMP (utf8mb3 names cannot hold it), or it is
// not a valid character.
func hasCase(r rune) bool {
	if r < utf8.RuneSelf {
		return false
	}
	return r > 0xFFFF || r == utf8.RuneError || unicode.SimpleFold(r) != r ||
		unicode.IsUpper(r) || unicode.IsLower(r) || unicode.IsTitle(r) ||
		unicode.ToUpper(r) != r || unicode.ToLower(r) != r
}

// hasCasedNonASCII reports whether s holds a character hasCase reports.
func hasCasedNonASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			for _, r := range s[i:] {
				if hasCase(r) {
					return true
				}
			}
			return false
		}
	}
	return false
}

func asciiLowerByte(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// asciiLower lowers ASCII letters only (strings.ToLower folds K to k and
// İ to i̇, which the server does not).
func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				b[j] = asciiLowerByte(b[j])
			}
			return string(b)
		}
	}
	return s
}

// sameName compares identifiers; an undecidable comparison marks the
// statement unsupported (and counts as different).
func (w *walker) sameName(a, b string) bool {
	switch compareNames(a, b) {
	case namesEqual:
		return true
	case namesUncertain:
		w.st.AddUnsupported("identifier comparison involving a non-ASCII letter with case")
	}
	return false
}
