package postgres

import (
	"testing"

	"github.com/dbfence/dbfence/rules"
)

// TestRewriteCopyRows: fields of masked columns are decoded, masked and
// written again in the row's own format; NULLs stay NULL; anything that is
// not exactly one row of the expected fields is refused.
func TestRewriteCopyRows(t *testing.T) {
	plan := []rules.ColumnPlan{{}, {Masker: starMasker{}}, {Masker: starMasker{}}}
	text := &rules.CopyFormat{Format: "text", Delimiter: '\t'}
	csv := &rules.CopyFormat{Format: "csv", Delimiter: ',', Quote: '"', Escape: '"'}
	csvBackslash := &rules.CopyFormat{Format: "csv", Delimiter: ';', Quote: '\'', Escape: '\\'}
	tests := []struct {
		desc string
		f    *rules.CopyFormat
		in   string
		want string // "" when refused
	}{
		{"text", nil, "7\t张三\t110105194912310021\n", "7\t**\t******************\n"},
		{"text NULL and escapes", nil, "7\t\\N\ta\\tb\\\\c\\nd\n", "7\t\\N\t*******\n"},
		{"text octal and hex escapes", nil, "1\t\\101\\x42\tx\n", "1\t**\t*\n"},
		{"text escaped delimiter stays one field", nil, "1\ta\\\tb\tc\n", "1\t***\t*\n"},
		{"text too few fields", nil, "1\ta\n", ""},
		{"text too many fields", nil, "1\ta\tb\tc\n", ""},
		{"text without end of line", nil, "1\ta\tb", ""},
		{"text trailing backslash", nil, "1\ta\tb\\\n", ""},
		{"csv", csv, "7,张三,110105194912310021\n", "7,\"**\",\"******************\"\n"},
		{"csv NULL and empty string", csv, "7,,\"\"\n", "7,,\"\"\n"},
		{"csv quoted delimiter, quote and newline", csv, "7,\"a,\"\"b\"\"\nc\",x\n", "7,\"*******\",\"*\"\n"},
		{"csv escape character", csvBackslash, "7;'a\\'b';'c'\n", "7;'***';'*'\n"},
		{"csv unterminated quote", csv, "7,\"abc,d\n", ""},
		{"csv text after closing quote", csv, "7,\"ab\"c,d\n", ""},
		{"csv quote inside unquoted field", csv, "7,a\"b,c\n", ""},
		{"csv too few fields", csv, "7,a\n", ""},
	}
	for _, tc := range tests {
		f := tc.f
		if f == nil {
			f = text
		}
		got, _, ok := rewriteCopyRow(nil, nil, []byte(tc.in), f, plan)
		switch {
		case tc.want == "" && ok:
			t.Errorf("%s: %q rewritten as %q, want refused", tc.desc, tc.in, got)
		case tc.want != "" && (!ok || string(got) != tc.want):
			t.Errorf("%s: %q → %q (ok %v), want %q", tc.desc, tc.in, got, ok, tc.want)
		}
	}
}

// TestCopyTextRoundTrip: a masked value written back as a text field reads
// back as exactly that value.
func TestCopyTextRoundTrip(t *testing.T) {
	for _, v := range []string{"plain", "tab\there", "back\\slash", "new\nline\r", "de|lim", "\b\f\v", ""} {
		enc := appendCopyText(nil, []byte(v), '|')
		dec, ok := unescapeCopyText(nil, enc)
		if !ok || string(dec) != v {
			t.Errorf("%q → %q → %q", v, enc, dec)
		}
	}
}

func FuzzRewriteCopy(f *testing.F) {
	f.Add([]byte("7\t张三\t110105194912310021\n"), false, byte('\t'), byte('"'), byte('"'))
	f.Add([]byte("7,\"a,\"\"b\"\"\nc\",x\n"), true, byte(','), byte('"'), byte('"'))
	f.Add([]byte("7;'a\\'b';'c'\n"), true, byte(';'), byte('\''), byte('\\'))
	f.Add([]byte("1\t\\x4\\1\t\\\n"), false, byte('\t'), byte('"'), byte('"'))
	plan := []rules.ColumnPlan{{}, {Masker: starMasker{}}, {Masker: starMasker{}}}
	f.Fuzz(func(t *testing.T, line []byte, isCSV bool, delim, quote, escape byte) {
		format := &rules.CopyFormat{Format: "text", Delimiter: delim}
		if isCSV {
			format = &rules.CopyFormat{Format: "csv", Delimiter: delim, Quote: quote, Escape: escape}
		}
		// What the server accepts: distinct delimiter and quote, neither a
		// line break nor (in text format) a backslash.
		if delim == '\n' || delim == '\r' || !isCSV && delim == '\\' ||
			isCSV && (quote == delim || quote == '\n' || quote == '\r' || escape == '\n' || escape == '\r' || escape == delim) {
			return
		}
		out, _, ok := rewriteCopyRow(nil, nil, line, format, plan)
		if !ok {
			return
		}
		// A rewritten row is itself one row of the same fields, and
		// rewriting it again changes nothing (masked fields are all '*').
		again, _, ok := rewriteCopyRow(nil, nil, out, format, plan)
		if !ok || string(again) != string(out) {
			t.Fatalf("%q → %q → %q (ok %v)", line, out, again, ok)
		}
	})
}
