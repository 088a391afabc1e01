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
			if s > 0 && (text[s-1] == 'N' || text[s-1] == 'n') && (s == 1 || !isIdentChar(text[s-2])) {
				s-- // N'...': the scanner reports the N as a keyword of its own
			}
			lit := text[s:e]
			if lit[0] == '\'' && strings.ContainsAny(lit, "\n\r") && strings.Contains(lit[1:len(lit)-1], "'") {
				// 'a'<newline>'b' continues one constant: the lexer
				// reports its pieces (enough for the audit log).
				return nil, false
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

// TestPostgresShape: every constant becomes a parameter numbered after the
// text's own, in order of appearance (pg_query's normalization numbers
// LIMIT/OFFSET by grammar position and keeps type modifiers; the shape
// need not copy those quirks, only be literal-free and stable).
func TestPostgresShape(t *testing.T) {
	for _, c := range []struct{ text, want string }{
		{"SELECT 1", "SELECT $1"},
		{"SELECT * FROM person WHERE id_card = '110105194912310025' AND id > 3.5e2", "SELECT * FROM person WHERE id_card = $1 AND id > $2"},
		{"SELECT a FROM t WHERE x = $2 AND y = 'v' -- 'c'", "SELECT a FROM t WHERE x = $2 AND y = $3 -- 'c'"},
		{"SELECT E'a\\'b', $q$x$q$, B'01', U&'d'", "SELECT $1, $2, $3, $4"},
		{"SELECT 1::int, '2026-01-01'::date", "SELECT $1::int, $2::date"},
		{"SELECT \"quoted 'id'\" FROM t LIMIT 10 OFFSET 5", "SELECT \"quoted 'id'\" FROM t LIMIT $1 OFFSET $2"},
	} {
		if got := postgresShape(c.text); got != c.want {
			t.Errorf("%q:\n got %q\nwant %q", c.text, got, c.want)
		}
	}
	for _, text := range literalCases {
		shape, lits := postgresShapeAndLiterals(text, []string{})
		if want := appendPostgresLiterals(nil, text); !slices.Equal(lits, want) {
			t.Errorf("%q: one-scan literals %q, want %q", text, lits, want)
		}
		if _, err := pg.Parse(shape); err != nil {
			t.Errorf("shape %q of %q does not parse: %v", shape, text, err)
		}
	}
	if a, b := postgresShape("SELECT * FROM t WHERE id = 42 AND s = 'x'"), postgresShape("SELECT * FROM t WHERE id = 7 AND s = 'yy'"); a != b {
		t.Errorf("texts differing in constants have different shapes: %q %q", a, b)
	}
}

// FuzzPostgresShape: no constant of a text the server would run survives in
// its shape, and the shape of a shape is itself.
func FuzzPostgresShape(f *testing.F) {
	for _, c := range literalCases {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, text string) {
		shape := postgresShape(text)
		if _, err := pg.Parse(text); err != nil {
			return
		}
		if lits := appendPostgresLiterals(nil, shape); len(lits) != 0 {
			t.Errorf("%q: shape %q still holds constants %q", text, shape, lits)
		}
	})
}

func BenchmarkPostgresShape(b *testing.B) {
	text := "SELECT abalance FROM pgbench_accounts WHERE aid = 48213"
	b.ReportAllocs()
	for b.Loop() {
		_ = postgresShape(text)
	}
}
