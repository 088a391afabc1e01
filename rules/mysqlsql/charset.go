package mysqlsql

import (
	"strings"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/dbfence/dbfence/fault"
)

// Charset is how the reader treats the bytes of a connection character set.
type Charset struct {
	// Name is the MySQL character set name, lower case.
	Name string
	// enc is nil for sets read directly: every byte that matters to the lexer
	// (quotes, backslash, comment markers) is ASCII and never part of a
	// multi-byte character. Otherwise text is decoded to UTF-8 for analysis.
	enc encoding.Encoding
}

// LookupCharset returns the reader for a connection character set, or an
// UnsupportedCharset refusal. utf8, utf8mb3, utf8mb4, latin1, ascii and binary
// are read directly; gbk and gb18030 (whose second bytes can be 0x5C, the
// backslash) are decoded and re-encoded.
func LookupCharset(name string) (Charset, *fault.Error) {
	switch n := strings.ToLower(name); n {
	case "utf8", "utf8mb3", "utf8mb4", "latin1", "ascii", "binary":
		return Charset{Name: n}, nil
	case "gbk":
		return Charset{Name: n, enc: simplifiedchinese.GBK}, nil
	case "gb18030":
		return Charset{Name: n, enc: simplifiedchinese.GB18030}, nil
	case "":
		return Charset{}, fault.New(fault.UnsupportedCharset, "dbfence does not know the connection character set")
	default:
		return Charset{}, fault.New(fault.UnsupportedCharset, "dbfence cannot analyse SQL in character set %q; use utf8mb4 or gbk", name)
	}
}

// Direct reports whether the set's text is analysed as it is.
func (c Charset) Direct() bool { return c.enc == nil }

// Decode returns raw client text as UTF-8 for analysis. It refuses input that
// does not survive a round trip (invalid or unmappable bytes), so Encode of
// the result gives back exactly what the client sent.
func (c Charset) Decode(raw string) (string, *fault.Error) {
	if c.enc == nil {
		return raw, nil
	}
	if isASCII(raw) {
		return raw, nil
	}
	text, err := c.enc.NewDecoder().String(raw)
	if err != nil {
		return "", fault.Wrap(fault.UnsupportedCharset, err, "invalid "+c.Name+" text")
	}
	back, err := c.enc.NewEncoder().String(text)
	if err != nil || back != raw {
		return "", fault.New(fault.UnsupportedCharset, "invalid %s byte sequence in statement text", c.Name)
	}
	return text, nil
}

// Encode converts analysed UTF-8 text back to the connection character set.
func (c Charset) Encode(text string) (string, *fault.Error) {
	if c.enc == nil || isASCII(text) {
		return text, nil
	}
	raw, err := c.enc.NewEncoder().String(text)
	if err != nil {
		return "", fault.Wrap(fault.UnsupportedCharset, err, "statement text cannot be encoded in "+c.Name)
	}
	return raw, nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
