package mysqlsql

import (
	"strings"

	"github.com/dbfence/dbfence/fault"
)

// Mode is the subset of sql_mode that changes how MySQL text is lexed. Its
// bits are the same as rules.SQLMode so the engine converts with Mode(x).
type Mode uint8

const (
	// ModeANSIQuotes: "..." quotes an identifier, not a string.
	ModeANSIQuotes Mode = 1 << iota
	// ModeNoBackslashEscapes: a backslash inside a string is an ordinary character.
	ModeNoBackslashEscapes
	// ModePipesAsConcat: || is string concatenation, not logical OR.
	ModePipesAsConcat
	// ModeHighNotPrecedence: NOT binds tighter than comparison operators.
	ModeHighNotPrecedence
	// ModeIgnoreSpace: a space is allowed between a function name and "(".
	ModeIgnoreSpace
)

// ModeLatin1 is not an sql_mode flag: the engine sets it when the
// connection's character set is latin1, where the server reads byte 0xA0
// (no-break space) as whitespace and the parser as part of a name.
const ModeLatin1 Mode = 1 << 6

// Server identifies the backend whose reading of executable comments the
// reader reproduces.
type Server struct {
	// Version is the executable-comment version number (101119 for 10.11.19,
	// 80036 for 8.0.36).
	Version uint32
	// MariaDB is true for MariaDB, which executes /*M! */ comments and ignores
	// /*!NNNNN */ comments whose version is a MySQL 5.7+ number (50700–99999).
	MariaDB bool
}

// executes reports whether the server runs the content of an executable
// comment with the given version (0 = no version) and marker.
func (s Server) executes(version uint32, mariaMarker bool) bool {
	if mariaMarker && !s.MariaDB {
		return false
	}
	if version == 0 {
		return true
	}
	if version > s.Version {
		return false
	}
	// MariaDB's lexer: MySQL 5.7+ version numbers name MySQL features it does
	// not have, so /*!50700 .. */ to /*!99999 .. */ are skipped (but not /*M!).
	if s.MariaDB && !mariaMarker && version >= 50700 && version <= 99999 {
		return false
	}
	return true
}

// readError is the refusal for text the reader will not interpret.
func readError(format string, args ...any) *fault.Error {
	return fault.New(fault.ParseError, "dbfence cannot read this SQL text safely: "+format, args...)
}

// Resolve returns the server's view of text: the bytes the server executes,
// which are also the bytes the analyser parses and the engine forwards.
//
//   - /*! ... */ and /*!NNNNN ... */ (and /*M! */ on MariaDB) that the server
//     executes are inlined, their markers replaced by spaces;
//   - executable comments the server skips, ordinary comments and line
//     comments (# and "-- ") become one space;
//   - optimizer hints /*+ ... */ with plain content stay as they are (the
//     server and the parser both read them as hints or comments), others
//     become one space.
//
// Strings and quoted identifiers are skipped per mode. Anything whose reading
// is not certain is refused with a ParseError: a NUL byte, an unterminated
// string or comment, a version of other than 5 or 6 digits, and any comment
// or line comment inside an executed comment (MySQL and MariaDB disagree on
// nesting). When text holds no comment Resolve returns it unchanged without
// allocating.
func Resolve(text string, mode Mode, server Server) (string, error) {
	var out []byte // nil until the first change
	flushed := 0   // text[:flushed] has been copied to out
	var joinErr error
	replace := func(from, to int, with string) {
		// "--" followed by a comment is two minus signs to the server; a
		// space in the comment's place would make the server read "-- " as
		// a line comment. Refuse instead.
		if followsDashDash(out, text[flushed:from]) {
			joinErr = readError("a comment directly after \"--\"")
		}
		if out == nil {
			out = make([]byte, 0, len(text))
		}
		out = append(out, text[flushed:from]...)
		out = append(out, with...)
		flushed = to
	}
	inExec := false // inside an executed /*! */ comment
	for i := 0; i < len(text); {
		c := text[i]
		switch {
		case c == 0:
			return "", readError("NUL byte in statement text")
		case c == '\'' || c == '"' && mode&ModeANSIQuotes == 0:
			end, err := skipString(text, i, mode&ModeNoBackslashEscapes == 0)
			if err != nil {
				return "", err
			}
			i = end
		case c == '`' || c == '"':
			end, err := skipString(text, i, false)
			if err != nil {
				return "", err
			}
			i = end
		case c == '#' || c == '-' && isDashComment(text, i):
			if inExec {
				return "", readError("line comment inside an executable comment")
			}
			end := strings.IndexByte(text[i:], '\n')
			if end < 0 {
				end = len(text)
			} else {
				end += i
			}
			replace(i, end, " ")
			i = end
		case c == '*' && inExec && i+1 < len(text) && text[i+1] == '/':
			replace(i, i+2, " ")
			inExec = false
			i += 2
		case c == '/' && i+1 < len(text) && text[i+1] == '*':
			if inExec {
				return "", readError("comment nested inside an executable comment")
			}
			end, exec, err := readComment(text, i, server)
			if err != nil {
				return "", err
			}
			switch {
			case exec > 0: // executed: drop the marker, read on as SQL
				replace(i, exec, " ")
				inExec = true
				i = exec
			case end < 0: // a hint kept as it is
				i = -end
			default:
				replace(i, end, " ")
				i = end
			}
		case c == 0xa0 && mode&ModeLatin1 != 0:
			// "x\xa0UNION\xa0SELECT id_card" is one alias to the parser
			// and a UNION to the server; "--\xa0" starts a comment for the
			// server only.
			return "", readError("byte 0xA0 outside a string: in latin1 the server reads it as a space")
		default:
			i++
		}
	}
	if inExec {
		return "", readError("unterminated executable comment")
	}
	if joinErr != nil {
		return "", joinErr
	}
	if out == nil {
		return text, nil
	}
	return string(append(out, text[flushed:]...)), nil
}

// followsDashDash reports whether the output so far (out, then pending)
// ends with "--".
func followsDashDash(out []byte, pending string) bool {
	var last2 [2]byte
	n := 0
	for i := len(pending) - 1; i >= 0 && n < 2; i-- {
		last2[1-n] = pending[i]
		n++
	}
	for i := len(out) - 1; i >= 0 && n < 2; i-- {
		last2[1-n] = out[i]
		n++
	}
	return n == 2 && last2[0] == '-' && last2[1] == '-'
}

// isDashComment reports whether "--" at i starts a line comment: the server
// requires a whitespace or control character (or the end) after it.
func isDashComment(text string, i int) bool {
	if i+1 >= len(text) || text[i+1] != '-' {
		return false
	}
	if i+2 == len(text) {
		return true
	}
	n := text[i+2]
	return n <= ' ' || n == 0x7f
}

// skipString returns the offset after the quoted token starting at i.
// Doubled quotes continue the token; backslash escapes when escapes is true.
func skipString(text string, i int, escapes bool) (int, error) {
	q := text[i]
	for j := i + 1; j < len(text); j++ {
		switch text[j] {
		case 0:
			return 0, readError("NUL byte in statement text")
		case '\\':
			if escapes {
				j++
			}
		case q:
			if j+1 < len(text) && text[j+1] == q {
				j++
				continue
			}
			return j + 1, nil
		}
	}
	if q == '`' || q == '"' {
		return 0, readError("unterminated quoted name")
	}
	return 0, readError("unterminated string")
}

// readComment reads the comment starting with "/*" at i. It returns:
//   - exec > 0: the comment is executed; exec is the offset after its marker;
//   - end > 0: the comment is skipped by the server; end is the offset after it;
//   - end < 0: an optimizer hint kept verbatim, ending at -end.
func readComment(text string, i int, server Server) (end, exec int, err error) {
	j := i + 2
	maria := false
	switch {
	case strings.HasPrefix(text[j:], "!"):
		j++
	case strings.HasPrefix(text[j:], "M!"):
		maria = true
		j += 2
	default:
		close := strings.Index(text[j:], "*/")
		if close < 0 {
			return 0, 0, readError("unterminated comment")
		}
		end = j + close + 2
		if strings.HasPrefix(text[j:], "+") && plainHint(text[j+1:end-2]) {
			return -end, 0, nil
		}
		return end, 0, nil
	}
	digits := 0
	for j+digits < len(text) && text[j+digits] >= '0' && text[j+digits] <= '9' {
		digits++
	}
	var version uint32
	switch digits {
	case 0:
	case 5, 6:
		for _, d := range text[j : j+digits] {
			version = version*10 + uint32(d-'0')
		}
	default:
		return 0, 0, readError("executable comment version must have 5 or 6 digits")
	}
	if !server.executes(version, maria) {
		// The server skips it as a comment that ends at the first "*/"
		// (without regard to quotes), allowing one nested level: refuse nesting.
		body := text[j+digits:]
		close := strings.Index(body, "*/")
		if close < 0 {
			return 0, 0, readError("unterminated executable comment")
		}
		if strings.Contains(body[:close], "/*") {
			return 0, 0, readError("comment nested inside an executable comment")
		}
		return j + digits + close + 2, 0, nil
	}
	return 0, j + digits, nil
}

// plainHint reports whether a hint body holds only characters whose reading
// no lexer can disagree on (no quotes, no comment markers).
func plainHint(body string) bool {
	for k := 0; k < len(body); k++ {
		c := body[k]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte(" \t\r\n_(),.=@", c) >= 0:
		default:
			return false
		}
	}
	return true
}
