package rules

import (
	"slices"
	"strings"
	"testing"

	pg "github.com/pganalyze/pg_query_go/v6"
)

// scannedLiterals is the PostgreSQL scanner's own list of constants: the
// reference appendPostgresLiterals is held to.
func scannedLiterals(text string) ([]string, bool) {
	res, err := pg.Scan(text)
	if err != nil {
		return nil, false
	}
	var out []string
	for _, t := range res.Tokens {
		s, e := int(t.Start), int(t.End)
		switch t.Token {
		case pg.Token_SCONST, pg.Token_USCONST, pg.Token_BCONST, pg.Token_XCONST:
			lit := text[s:e]
			// Strip the prefix and the quotes (or dollar tags).
			switch {
			case lit[0] == '$':
				j := 1
				for lit[j] != '$' {
					j++
				}
				lit = lit[j+1 : len(lit)-j-1]
			case lit[0] == '\'':
				lit = lit[1 : len(lit)-1]
				if strings.ContainsAny(lit, "\n\r") && strings.Contains(lit, "'") {
					// 'a'<newline>'b' continues one constant: the lexer
					// reports its pieces (enough for the audit log).
					return nil, false
				}
			case len(lit) > 2 && lit[1] == '&':
				lit = lit[3 : len(lit)-1]
			default:
				lit = lit[2 : len(lit)-1]
			}
			out = append(out, lit)
		case pg.Token_ICONST, pg.Token_FCONST:
			out = append(out, text[s:e])
		}
	}
	return out, true
}

var literalCases = []string{
	"SELECT 1",
	"SELECT * FROM person WHERE id_card = '110105194912310025' AND id > 3.5e2",
	"SELECT 'it''s', E'a\\'b', $$dollar 'x'$$, $tag$in $ side$tag$, B'0101', X'1F', N'nat', U&'d\\0061t'",
	"SELECT -- comment 'not a literal'\n 42 /* block /* nested 'x' */ still */, \"quoted 'ident'\"",
	"SELECT a$1, $1, $12 FROM t WHERE x = $2 AND y = .5",
	"SELECT col1, t2.c3 FROM t2 WHERE c4 IN (1, 2, 3) LIMIT 10 OFFSET 5",
	"SELECT '' || 'x'",
	"SELECT 1::int, 2.0::numeric(10,2), '2026-01-01'::date",
	"INSERT INTO t VALUES ('a', 1), ('b', 2) RETURNING id",
}

func TestPostgresLiteralsMatchScanner(t *testing.T) {
	for _, text := range literalCases {
		want, ok := scannedLiterals(text)
		if !ok {
			t.Fatalf("scanner refused %q", text)
		}
		got := appendPostgresLiterals(nil, text)
		if !slices.Equal(got, want) {
			t.Errorf("%q:\n got %q\nwant %q", text, got, want)
		}
	}
}

// FuzzPostgresLiterals holds the lexer to the real scanner on every text
// the scanner accepts, and to never panicking on any text.
func FuzzPostgresLiterals(f *testing.F) {
	for _, c := range literalCases {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, text string) {
		got := appendPostgresLiterals(nil, text)
		if _, err := pg.Parse(text); err != nil {
			return // only texts the server would run are forwarded
		}
		want, ok := scannedLiterals(text)
		if ok && !slices.Equal(got, want) {
			t.Errorf("%q:\n got %q\nwant %q", text, got, want)
		}
	})
}

func BenchmarkPostgresLiterals(b *testing.B) {
	text := "SELECT abalance FROM pgbench_accounts WHERE aid = 48213"
	buf := make([]string, 0, 8)
	b.ReportAllocs()
	for b.Loop() {
		buf = appendPostgresLiterals(buf[:0], text)
	}
}
