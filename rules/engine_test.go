package rules

import (
	"net/netip"
	"testing"

	"github.com/dbfence/dbfence/fault"
	"github.com/dbfence/dbfence/rules/mysqlsql"
)

// mariaSession is a MariaDB 10.11 session in database gov.
func mariaSession(user string) *Session {
	return &Session{Protocol: ProtocolMySQL, User: user, Database: "gov", ServerVersion: 101119, MariaDB: true, Charset: "utf8mb4",
		ClientAddr: netip.MustParseAddr("127.0.0.1")}
}

func TestModeBitsMatchReader(t *testing.T) {
	pairs := []struct {
		desc   string
		rules  SQLMode
		reader mysqlsql.Mode
	}{
		{"ANSI_QUOTES", ModeANSIQuotes, mysqlsql.ModeANSIQuotes},
		{"NO_BACKSLASH_ESCAPES", ModeNoBackslashEscapes, mysqlsql.ModeNoBackslashEscapes},
		{"PIPES_AS_CONCAT", ModePipesAsConcat, mysqlsql.ModePipesAsConcat},
		{"HIGH_NOT_PRECEDENCE", ModeHighNotPrecedence, mysqlsql.ModeHighNotPrecedence},
		{"IGNORE_SPACE", ModeIgnoreSpace, mysqlsql.ModeIgnoreSpace},
	}
	for _, p := range pairs {
		if uint8(p.rules) != uint8(p.reader) {
			t.Errorf("%s: rules bit %d, reader bit %d", p.desc, p.rules, p.reader)
		}
	}
}

func TestParseSQLMode(t *testing.T) {
	tests := []struct {
		desc string
		in   string
		want SQLMode
	}{
		{desc: "MariaDB default", in: "STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION", want: 0},
		{desc: "single flags", in: "ansi_quotes,NO_BACKSLASH_ESCAPES", want: ModeANSIQuotes | ModeNoBackslashEscapes},
		{desc: "ANSI expands", in: "ANSI", want: ModeANSIQuotes | ModePipesAsConcat | ModeIgnoreSpace},
		{desc: "ORACLE cannot be analysed", in: "ORACLE,PIPES_AS_CONCAT", want: ModeUnanalysable | ModePipesAsConcat},
		{desc: "empty", in: "", want: 0},
	}
	for _, tc := range tests {
		if got := ParseSQLMode(tc.in); got != tc.want {
			t.Errorf("%s: ParseSQLMode(%q) = %b, want %b", tc.desc, tc.in, got, tc.want)
		}
	}
}

// TestCheckMySQLNoPolicy covers the reader-level behaviour every role gets.
func TestCheckMySQLNoPolicy(t *testing.T) {
	e, err := NewEngine(nil, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		desc        string
		text        string
		mode        SQLMode
		charset     string
		wantRefusal fault.Kind
		wantForward string
		wantKinds   []string
		wantSession []bool
	}{
		{desc: "one select", text: "SELECT c FROM sbtest1 WHERE id=1", wantForward: "SELECT c FROM sbtest1 WHERE id=1", wantKinds: []string{"select"}, wantSession: []bool{false}},
		{desc: "multi-statement gets one verdict per statement", text: "SELECT 1; SELECT id_card FROM person", wantForward: "SELECT 1; SELECT id_card FROM person", wantKinds: []string{"select", "select"}, wantSession: []bool{false, false}},
		{desc: "executable comment resolved in Forward", text: "SELECT name /*M!, id_card */ FROM person", wantForward: "SELECT name  , id_card   FROM person", wantKinds: []string{"select"}, wantSession: []bool{false}},
		{desc: "parse error refused", text: "SELEC 1", wantRefusal: fault.ParseError},
		{desc: "empty text refused", text: "  ", wantRefusal: fault.ParseError},
		{desc: "unreadable comment refused", text: "SELECT 1 /*! +1 /* x */ */", wantRefusal: fault.ParseError},
		{desc: "SET NAMES changes the session", text: "SET NAMES gbk", wantForward: "SET NAMES gbk", wantKinds: []string{"set"}, wantSession: []bool{true}},
		{desc: "SET sql_mode changes the session", text: "SET SESSION sql_mode='ANSI_QUOTES'", wantForward: "SET SESSION sql_mode='ANSI_QUOTES'", wantKinds: []string{"set"}, wantSession: []bool{true}},
		{desc: "SET @@var changes the session", text: "SET @@session.autocommit=0", wantForward: "SET @@session.autocommit=0", wantKinds: []string{"set"}, wantSession: []bool{true}},
		{desc: "SET user variable does not", text: "SET @v = 1", wantForward: "SET @v = 1", wantKinds: []string{"set"}, wantSession: []bool{false}},
		{desc: "USE changes the session", text: "USE gov", wantForward: "USE gov", wantKinds: []string{"use"}, wantSession: []bool{true}},
		{desc: "SET ROLE changes the session", text: "SET ROLE clerk_role", wantForward: "SET ROLE clerk_role", wantKinds: []string{"set"}, wantSession: []bool{true}},
		{desc: "sql_mode change followed by a statement refused", text: "SET sql_mode='NO_BACKSLASH_ESCAPES'; SELECT 'a\\' AS a, id_card FROM person -- '", wantRefusal: fault.StatementDenied},
		{desc: "SET NAMES followed by a statement refused", text: "SET NAMES gbk; SELECT 1", wantRefusal: fault.StatementDenied},
		{desc: "sql_mode change as the last statement allowed", text: "SELECT 1; SET sql_mode=''", wantForward: "SELECT 1; SET sql_mode=''", wantKinds: []string{"select", "set"}, wantSession: []bool{false, true}},
		{desc: "PREPARE from a literal", text: "PREPARE p FROM 'SELECT 1'", wantForward: "PREPARE p FROM 'SELECT 1'", wantKinds: []string{"prepare"}, wantSession: []bool{false}},
		{desc: "PREPARE from a variable is allowed for unrestricted", text: "PREPARE p FROM @s", wantForward: "PREPARE p FROM @s", wantKinds: []string{"prepare"}, wantSession: []bool{false}},
		{desc: "EXECUTE may change the session", text: "EXECUTE p", wantForward: "EXECUTE p", wantKinds: []string{"execute"}, wantSession: []bool{true}},
		{desc: "ORACLE mode refused", text: "SELECT 1", mode: ModeUnanalysable, wantRefusal: fault.ParseError},
		{desc: "class 17 under NO_BACKSLASH_ESCAPES: comment stripped", text: `SELECT 'a\' AS a, id_card FROM person -- '`, mode: ModeNoBackslashEscapes, wantForward: `SELECT 'a\' AS a, id_card FROM person  `, wantKinds: []string{"select"}, wantSession: []bool{false}},
		{desc: "gbk text is forwarded in gbk", text: "SELECT '\xbf\x5c', name FROM person -- '", charset: "gbk", wantForward: "SELECT '\xbf\x5c', name FROM person  ", wantKinds: []string{"select"}, wantSession: []bool{false}},
		{desc: "invalid gbk refused", text: "SELECT '\xff\xff'", charset: "gbk", wantRefusal: fault.UnsupportedCharset},
		{desc: "unsupported charset refused", text: "SELECT 1", charset: "ujis", wantRefusal: fault.UnsupportedCharset},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			sess := mariaSession("anyone")
			sess.SQLMode = tc.mode
			if tc.charset != "" {
				sess.Charset = tc.charset
			}
			v := e.CheckMySQL(sess, tc.text)
			if tc.wantRefusal != 0 {
				if v.Refusal == nil || v.Refusal.Kind != tc.wantRefusal {
					t.Fatalf("refusal %v, want %v", v.Refusal, tc.wantRefusal)
				}
				if v.Forward != "" {
					t.Errorf("refused verdict forwards %q", v.Forward)
				}
				return
			}
			if v.Refusal != nil {
				t.Fatalf("unexpected refusal: %v", v.Refusal)
			}
			if v.Forward != tc.wantForward {
				t.Errorf("Forward %q, want %q", v.Forward, tc.wantForward)
			}
			if len(v.Statements) != len(tc.wantKinds) {
				t.Fatalf("%d statements, want %d", len(v.Statements), len(tc.wantKinds))
			}
			for i, sv := range v.Statements {
				if sv.Kind != tc.wantKinds[i] || sv.ChangesSession != tc.wantSession[i] || sv.Outcome != Allow || sv.Columns != nil || sv.Normalized == "" {
					t.Errorf("statement %d: %+v; want kind %s, changes session %v, allowed, no columns, normalized", i, sv, tc.wantKinds[i], tc.wantSession[i])
				}
			}
		})
	}
}

func TestCheckMySQLCachesDecisions(t *testing.T) {
	e, err := NewEngine(nil, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	sess := mariaSession("app")
	a := e.CheckMySQL(sess, "SELECT c FROM sbtest1 WHERE id=1")
	b := e.CheckMySQL(sess, "SELECT c FROM sbtest1 WHERE id=2")
	if n := e.state.Load().cache.len(); n != 1 {
		t.Errorf("cache holds %d entries, want 1 shared by both literals", n)
	}
	if b.Forward != "SELECT c FROM sbtest1 WHERE id=2" || a.Forward != "SELECT c FROM sbtest1 WHERE id=1" {
		t.Errorf("forwards %q / %q must be each text's own", a.Forward, b.Forward)
	}
	e.CheckMySQL(sess, "SELECT c FROM sbtest1 LIMIT 1")
	if n := e.state.Load().cache.len(); n != 1 {
		t.Errorf("a LIMIT decision was cached (%d entries); it depends on the literal", n)
	}
}

func TestAdmitWithoutPolicy(t *testing.T) {
	e, err := NewEngine(nil, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ferr := e.Admit("anyone", netip.MustParseAddr("203.0.113.9")); ferr != nil {
		t.Errorf("Admit without policy: %v", ferr)
	}
}
