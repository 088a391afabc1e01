package mysqlsql

import (
	"errors"
	"strings"
	"testing"

	"github.com/dbfence/dbfence/fault"
)

var (
	maria1011 = Server{Version: 101119, MariaDB: true}
	mysql80   = Server{Version: 80036}
)

func TestResolve(t *testing.T) {
	tests := []struct {
		desc   string
		text   string
		mode   Mode
		server Server
		want   string // "" with refuse
		refuse bool
	}{
		{desc: "no comment is returned unchanged", text: "SELECT name FROM person", server: maria1011, want: "SELECT name FROM person"},
		{desc: "class 16: MariaDB executes /*M! */", text: "SELECT name /*M!, id_card */ FROM person", server: maria1011, want: "SELECT name  , id_card   FROM person"},
		{desc: "class 16: MySQL skips /*M! */", text: "SELECT name /*M!, id_card */ FROM person", server: mysql80, want: "SELECT name   FROM person"},
		{desc: "class 16: future version is not executed", text: "SELECT name FROM person /*!99999 LIMIT 1 */", server: maria1011, want: "SELECT name FROM person  "},
		{desc: "unversioned executable comment always runs", text: "SELECT 1 /*! +1 */", server: mysql80, want: "SELECT 1   +1  "},
		{desc: "MariaDB skips MySQL 5.7+ versions", text: "SELECT 1 /*!50700 +1 */", server: maria1011, want: "SELECT 1  "},
		{desc: "MariaDB runs versions below 50700", text: "SELECT 1 /*!50699 +1 */", server: maria1011, want: "SELECT 1   +1  "},
		{desc: "MySQL runs 50700 on 8.0", text: "SELECT 1 /*!50700 +1 */", server: mysql80, want: "SELECT 1   +1  "},
		{desc: "six-digit version at or below the server runs", text: "SELECT 1 /*!100000 +1 */", server: maria1011, want: "SELECT 1   +1  "},
		{desc: "six-digit version above the server is skipped", text: "SELECT 1 /*!101120 +1 */", server: maria1011, want: "SELECT 1  "},
		{desc: "versioned /*M! runs at or below", text: "SELECT 1 /*M!100000 +1 */", server: maria1011, want: "SELECT 1   +1  "},
		{desc: "versioned /*M! skipped above", text: "SELECT 1 /*M!999999 +1 */", server: maria1011, want: "SELECT 1  "},
		{desc: "/*M! with a MySQL 5.7 version still runs on MariaDB", text: "SELECT 1 /*M!50700 +1 */", server: maria1011, want: "SELECT 1   +1  "},
		{desc: "lower-case m! is an ordinary comment", text: "SELECT 1 /*m! +1 */", server: maria1011, want: "SELECT 1  "},
		{desc: "mysqldump style", text: "SELECT /*!40001 SQL_NO_CACHE */ * FROM t", server: maria1011, want: "SELECT   SQL_NO_CACHE   * FROM t"},
		{desc: "ordinary comment becomes a space", text: "SELECT /* id_card */ name FROM person", server: maria1011, want: "SELECT   name FROM person"},
		{desc: "ordinary comments do not nest", text: "SELECT 1 /* a /* b */, 2", server: maria1011, want: "SELECT 1  , 2"},
		{desc: "plain hint kept", text: "SELECT /*+ MAX_EXECUTION_TIME(1000) */ 1", server: mysql80, want: "SELECT /*+ MAX_EXECUTION_TIME(1000) */ 1"},
		{desc: "hint with quotes dropped", text: "SELECT /*+ QB_NAME('x') */ 1", server: mysql80, want: "SELECT   1"},
		{desc: "TiDB /*T! is an ordinary comment for the server", text: "SELECT name /*T!, id_card */ FROM person", server: maria1011, want: "SELECT name   FROM person"},
		{desc: "hash line comment", text: "SELECT 1 # , id_card\n, 2", server: maria1011, want: "SELECT 1  \n, 2"},
		{desc: "dash comment needs a space", text: "SELECT 1 -- , id_card\n, 2", server: maria1011, want: "SELECT 1  \n, 2"},
		{desc: "dash dash without space is two minus signs", text: "SELECT 1--1", server: maria1011, want: "SELECT 1--1"},
		{desc: "dash comment at the end of text", text: "SELECT 1--", server: maria1011, want: "SELECT 1 "},
		{desc: "comment markers inside strings are text", text: "SELECT '/*!', \"-- x\", `#` FROM t", server: maria1011, want: "SELECT '/*!', \"-- x\", `#` FROM t"},
		{desc: "class 17: backslash escapes the quote by default", text: `SELECT 'a\' AS a, id_card FROM person -- '`, server: maria1011, want: `SELECT 'a\' AS a, id_card FROM person -- '`},
		{desc: "class 17: NO_BACKSLASH_ESCAPES ends the string at the backslash", text: `SELECT 'a\' AS a, id_card FROM person -- '`, mode: ModeNoBackslashEscapes, server: maria1011, want: `SELECT 'a\' AS a, id_card FROM person  `},
		{desc: "class 17: ANSI_QUOTES makes a comment inside double quotes an identifier", text: `SELECT "a -- x" FROM t`, mode: ModeANSIQuotes, server: maria1011, want: `SELECT "a -- x" FROM t`},
		{desc: "doubled quotes continue a string", text: `SELECT 'it''s /*' FROM t`, server: maria1011, want: `SELECT 'it''s /*' FROM t`},
		{desc: "quotes inside an executed comment are read as strings", text: "SELECT 1 /*! '*/' */", server: maria1011, want: "SELECT 1   '*/'  "},
		{desc: "skipped executable comment ends at the first */, quotes or not", text: "SELECT 1 /*!99999 x '*/, 2", server: maria1011, want: "SELECT 1  , 2"},
		{desc: "nested comment inside a skipped executable comment is refused", text: "SELECT 1 /*!99999 /* x */ +1 */", server: maria1011, refuse: true},
		{desc: "nested comment inside an executed comment is refused", text: "SELECT 1 /*! +1 /* x */ */", server: maria1011, refuse: true},
		{desc: "nested executable comment is refused", text: "SELECT 1 /*! +1 /*M! +1 */ */", server: maria1011, refuse: true},
		{desc: "line comment inside an executed comment is refused", text: "SELECT 1 /*!  +1 -- x */", server: maria1011, refuse: true},
		{desc: "hash inside an executed comment is refused", text: "SELECT 1 /*! +1 # x */", server: maria1011, refuse: true},
		{desc: "four-digit version is refused", text: "SELECT 1 /*!1234 +1 */", server: maria1011, refuse: true},
		{desc: "seven-digit version is refused", text: "SELECT 1 /*!1011191 */", server: maria1011, refuse: true},
		{desc: "unterminated executed comment is refused", text: "SELECT 1 /*!40101 +1", server: maria1011, refuse: true},
		{desc: "unterminated skipped comment is refused", text: "SELECT 1 /*!99999 +1", server: maria1011, refuse: true},
		{desc: "unterminated ordinary comment is refused", text: "SELECT 1 /* x", server: maria1011, refuse: true},
		{desc: "unterminated string is refused", text: "SELECT 'x", server: maria1011, refuse: true},
		{desc: "unterminated quoted name is refused", text: "SELECT `x", server: maria1011, refuse: true},
		{desc: "NUL byte is refused", text: "SELECT 1\x00, id_card FROM person", server: maria1011, refuse: true},
		{desc: "comment right after -- is refused (a space would make a line comment)", text: "SELECT 1--#\n2", server: maria1011, refuse: true},
		{desc: "block comment right after -- is refused", text: "SELECT 1--/* x */2", server: maria1011, refuse: true},
		{desc: "executable comment ending right after -- is refused", text: "SELECT /*!1--*/2", server: maria1011, refuse: true},
		{desc: "close marker inside executed comment closes it once", text: "SELECT 1 /*!+1*/*/", server: maria1011, want: "SELECT 1  +1 */"},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			got, err := Resolve(tc.text, tc.mode, tc.server)
			if tc.refuse {
				var fe *fault.Error
				if !errors.As(err, &fe) || fe.Kind != fault.ParseError {
					t.Fatalf("Resolve(%q) = %q, %v; want a ParseError refusal", tc.text, got, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Resolve(%q): %v", tc.text, err)
			}
			if got != tc.want {
				t.Errorf("Resolve(%q)\n got %q\nwant %q", tc.text, got, tc.want)
			}
		})
	}
}

func TestResolveNoCommentDoesNotAllocate(t *testing.T) {
	text := "SELECT c FROM sbtest1 WHERE id=4711"
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := Resolve(text, 0, maria1011); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Resolve allocated %v times for comment-free text, want 0", allocs)
	}
}

func TestNormalized(t *testing.T) {
	tests := []struct {
		desc string
		text string
		mode Mode
		want string
	}{
		{desc: "numbers and strings become ?", text: "SELECT c FROM sbtest1 WHERE id=4711 AND k = 'x''y'", want: "SELECT c FROM sbtest1 WHERE id=? AND k = ?"},
		{desc: "whitespace collapses", text: "  SELECT\n\t1  ,  2 ", want: "SELECT ? , ?"},
		{desc: "identifiers keep their case", text: "SELECT ID_Card FROM Person", want: "SELECT ID_Card FROM Person"},
		{desc: "digit-leading identifiers are kept", text: "SELECT 1abc, 1e5, 1.5e-3, 0x1F, 0b101 FROM t", want: "SELECT 1abc, ?, ?, ?, ? FROM t"},
		{desc: "qualified digit names are kept", text: "SELECT t.1 FROM db1.2t", want: "SELECT t.1 FROM db1.2t"},
		{desc: "quoted variables are kept", text: "SELECT @'a', @@sql_mode, @v1", want: "SELECT @'a', @@sql_mode, @v1"},
		{desc: "ANSI_QUOTES double quotes are names", text: `SELECT CONCAT("id_card")`, mode: ModeANSIQuotes, want: `SELECT CONCAT("id_card")`},
		{desc: "double quotes are strings by default", text: `SELECT CONCAT("id_card")`, want: `SELECT CONCAT(?)`},
		{desc: "backquoted names are kept", text: "SELECT `a b` FROM `t`", want: "SELECT `a b` FROM `t`"},
		{desc: "NO_BACKSLASH_ESCAPES", text: `SELECT 'a\', id_card`, mode: ModeNoBackslashEscapes, want: `SELECT ?, id_card`},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			if got := Normalized(tc.text, tc.mode); got != tc.want {
				t.Errorf("Normalized(%q) = %q, want %q", tc.text, got, tc.want)
			}
		})
	}
}

func TestAppendLiterals(t *testing.T) {
	tests := []struct {
		desc string
		text string
		mode Mode
		want []string
	}{
		{"strings and numbers in order", "SELECT name FROM person WHERE id = 42 AND id_card = '110105194912310021'", 0, []string{"42", "'110105194912310021'"}},
		{"variables and qualified names are not literals", "SELECT @`v`, t.1x, @'w' FROM t", 0, nil},
		{"double quotes are identifiers under ANSI_QUOTES", `SELECT "id_card" FROM person WHERE id = 7`, ModeANSIQuotes, []string{"7"}},
		{"double quotes are strings otherwise", `SELECT "x" FROM dual`, 0, []string{`"x"`}},
		{"exponent numbers are one literal", "SELECT 1.5e-3", 0, []string{"1.5e-3"}},
	}
	for _, tc := range tests {
		got := AppendLiterals(nil, tc.text, tc.mode)
		if strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("%s: got %q want %q", tc.desc, got, tc.want)
		}
	}
}
