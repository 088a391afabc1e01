package mysql

import (
	"database/sql"
	"encoding/binary"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gm "github.com/go-mysql-org/go-mysql/mysql"
	gomysql "github.com/go-sql-driver/mysql"

	"github.com/dbfence/dbfence/fault"
	"github.com/dbfence/dbfence/rules"
)

// setupTestDB creates a scratch database with a small people table, directly
// on the backend.
func setupTestDB(t testing.TB) *sql.DB {
	t.Helper()
	requireBackend(t)
	root := openDB(t, backendAddr(), "root", "", "", "multiStatements=true")
	stmts := []string{
		"CREATE DATABASE IF NOT EXISTS dbfence_test_proxy",
		"CREATE TABLE IF NOT EXISTS dbfence_test_proxy.people (id INT PRIMARY KEY, name VARCHAR(32), phone BIGINT, birthday DATE) DEFAULT CHARSET utf8mb4",
		"REPLACE INTO dbfence_test_proxy.people VALUES (1,'张三',13812345678,'1987-05-06'),(2,'欧阳娜娜',13900001111,'1990-01-02'),(3,NULL,NULL,NULL)",
		"CREATE USER IF NOT EXISTS 'dbf_u1'@'%' IDENTIFIED BY 'p1'",
		"GRANT SELECT ON dbfence_test_proxy.* TO 'dbf_u1'@'%'",
	}
	for _, s := range stmts {
		if _, err := root.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	return root
}

func TestChangeUserReauthenticatesAndRedecides(t *testing.T) {
	setupTestDB(t)
	addr := startProxy(t, passGate{}, nil)
	rc, ok := dialRaw(t, addr, "root", "", "")
	if ok[0] != hdrOK {
		t.Fatalf("login failed: %x", ok)
	}
	// COM_CHANGE_USER with mysql_native_password over the initial scramble is
	// answered with an auth switch carrying a new scramble.
	p := []byte{gm.COM_CHANGE_USER}
	p = append(append(p, "dbf_u1"...), 0)
	p = append(p, 0) // empty auth response: the server switches
	p = append(append(p, "dbfence_test_proxy"...), 0)
	p = append(p, 45, 0)
	p = append(append(p, "mysql_native_password"...), 0)
	rc.command(p)
	if final := rc.finishAuth("p1"); final[0] != hdrOK {
		t.Fatalf("change user failed: %d %s", errCode(final), final)
	}
	rows, code := rc.query("SELECT CURRENT_USER(), DATABASE()")
	if code != 0 || len(rows) != 1 || rows[0][0] != "dbf_u1@%" || rows[0][1] != "dbfence_test_proxy" {
		t.Fatalf("after change user: %v %d", rows, code)
	}
	// A user the policy does not admit is refused and the session ends.
	p = []byte{gm.COM_CHANGE_USER}
	p = append(append(p, "blocked"...), 0, 0, 0)
	rc.command(p)
	if e := rc.read(); e[0] != hdrErr || errCode(e) != 1130 {
		t.Fatalf("blocked user: %x", e)
	}
	if _, err := rc.pc.readPacket(); err == nil {
		t.Fatal("session not closed after a refused change of user")
	}
}

func TestCommandsRefusedOnPurpose(t *testing.T) {
	requireBackend(t)
	addr := startProxy(t, passGate{}, nil)
	rc, _ := dialRaw(t, addr, "root", "", "")
	tests := []struct {
		desc string
		cmd  []byte
		code uint16
	}{
		{"binlog dump is replication", []byte{gm.COM_BINLOG_DUMP, 4, 0, 0, 0, 0, 0, 1, 0, 0, 0}, 1047},
		{"register replica is replication", []byte{gm.COM_REGISTER_SLAVE, 1, 0, 0, 0}, 1047},
		{"unknown command byte", []byte{0x40}, 1047},
		{"MariaDB bulk execute is not negotiated", []byte{comStmtBulkExecute, 1, 0, 0, 0}, 1047},
	}
	for _, tc := range tests {
		rc.command(tc.cmd)
		if e := rc.read(); e[0] != hdrErr || errCode(e) != tc.code {
			t.Errorf("%s: got %x", tc.desc, e)
		}
	}
	// The session is still usable.
	rc.command([]byte{gm.COM_PING})
	if p := rc.read(); p[0] != hdrOK {
		t.Fatalf("ping after refusals: %x", p)
	}
}

func TestCursorFetchMasksBinaryRows(t *testing.T) {
	setupTestDB(t)
	const q = "SELECT id, name, phone, birthday FROM dbfence_test_proxy.people ORDER BY id"
	plan := rules.StatementVerdict{Kind: "select", Outcome: rules.Allow, Columns: []rules.ColumnPlan{
		{OrgTable: "people", OrgColumn: "id"},
		{Masker: starMasker{}, OrgTable: "people", OrgColumn: "name"},
		{Masker: starMasker{}, OrgTable: "people", OrgColumn: "phone"},
		{OrgTable: "people", OrgColumn: "birthday"},
	}}
	addr := startProxy(t, passGate{plan: map[string]rules.StatementVerdict{q: plan}}, nil)
	rc, _ := dialRaw(t, addr, "root", "", "")
	id, ncols := rc.prepare(q)
	if ncols != 4 {
		t.Fatalf("columns: %d", ncols)
	}
	exec := make([]byte, 10)
	exec[0] = gm.COM_STMT_EXECUTE
	binary.LittleEndian.PutUint32(exec[1:], id)
	exec[5] = 1 // CURSOR_TYPE_READ_ONLY
	exec[6] = 1 // iteration count
	rc.command(exec)
	p := rc.read()
	n, _, _ := readLenEnc(p)
	var types []byte
	for i := 0; i < int(n); i++ {
		c, err := parseColumnDef(rc.read())
		if err != nil {
			t.Fatal(err)
		}
		types = append(types, c.typ)
	}
	if eof := rc.read(); eofStatus(eof)&statusCursorExists == 0 {
		t.Fatal("no cursor opened")
	}
	var rows [][]string
	for {
		fetch := make([]byte, 9)
		fetch[0] = gm.COM_STMT_FETCH
		binary.LittleEndian.PutUint32(fetch[1:], id)
		binary.LittleEndian.PutUint32(fetch[5:], 2)
		rc.command(fetch)
		got, status, code := rc.binaryRows(types)
		if code != 0 {
			t.Fatalf("fetch error %d", code)
		}
		rows = append(rows, got...)
		if status&statusLastRowSent != 0 || len(got) == 0 {
			break
		}
	}
	want := [][]string{
		{"1", "**", "NULL", "1987-05-06"},
		{"2", "****", "NULL", "1990-01-02"},
		{"3", "NULL", "NULL", "NULL"},
	}
	if len(rows) != len(want) {
		t.Fatalf("rows: %v", rows)
	}
	for i := range want {
		if strings.Join(rows[i], "|") != strings.Join(want[i], "|") {
			t.Errorf("row %d: got %v, want %v (a masked BIGINT with no typed treatment is NULL)", i, rows[i], want[i])
		}
	}
}

func TestMaskingTextAndBinaryThroughDriver(t *testing.T) {
	setupTestDB(t)
	const q = "SELECT id, name FROM dbfence_test_proxy.people WHERE id <= 2 ORDER BY id"
	plan := rules.StatementVerdict{Kind: "select", Outcome: rules.Allow, Columns: []rules.ColumnPlan{
		{OrgTable: "people", OrgColumn: "id"},
		{Masker: starMasker{}, OrgTable: "people", OrgColumn: "name"},
	}}
	addr := startProxy(t, passGate{plan: map[string]rules.StatementVerdict{q: plan}}, nil)
	for _, params := range []string{"", "interpolateParams=true"} {
		db := openDB(t, addr, "root", "", "", params)
		// Without arguments the driver sends COM_QUERY (text rows); with an
		// argument and interpolateParams off it prepares (binary rows).
		for _, args := range [][]any{nil, {}} {
			rows, err := db.Query(q, args...)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for rows.Next() {
				var id int
				var name string
				if err := rows.Scan(&id, &name); err != nil {
					t.Fatal(err)
				}
				names = append(names, name)
			}
			rows.Close()
			if strings.Join(names, ",") != "**,****" {
				t.Fatalf("%q: names %v", params, names)
			}
		}
	}
}

func TestResultRefusedWhenMetadataDisagrees(t *testing.T) {
	setupTestDB(t)
	// The analysis predicted column 2 comes from people.id; the server says name.
	const q = "SELECT id, name FROM dbfence_test_proxy.people ORDER BY id"
	plan := rules.StatementVerdict{Kind: "select", Outcome: rules.Allow, Columns: []rules.ColumnPlan{
		{OrgTable: "people", OrgColumn: "id"},
		{OrgTable: "people", OrgColumn: "id"},
	}}
	addr := startProxy(t, passGate{plan: map[string]rules.StatementVerdict{q: plan}}, nil)
	db := openDB(t, addr, "root", "", "", "")
	rows, err := db.Query(q)
	if err == nil {
		for rows.Next() {
			t.Fatal("a row reached the client")
		}
		err = rows.Err()
		rows.Close()
	}
	var me *gomysql.MySQLError
	if !errors.As(err, &me) || me.Number != 1105 {
		t.Fatalf("got %v", err)
	}
	if err := db.Ping(); err != nil {
		t.Fatalf("session not usable after a refused result: %v", err)
	}
}

func TestRowCapStopsTheResult(t *testing.T) {
	setupTestDB(t)
	const q = "SELECT seq FROM seq_1_to_1000"
	plan := rules.StatementVerdict{Kind: "select", Outcome: rules.Allow, RowCap: 10}
	addr := startProxy(t, passGate{plan: map[string]rules.StatementVerdict{q: plan}}, nil)
	db := openDB(t, addr, "root", "", "dbfence_test_proxy", "")
	rows, err := db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		n++
	}
	err = rows.Err()
	rows.Close()
	var me *gomysql.MySQLError
	if n != 10 || !errors.As(err, &me) || me.Number != 1226 {
		t.Fatalf("received %d rows, err %v; want exactly 10 rows then error 1226", n, err)
	}
	var v int
	if err := db.QueryRow("SELECT 7").Scan(&v); err != nil || v != 7 {
		t.Fatalf("session after cap: %v", err)
	}
}

func TestLocalInfileTheStatementNamesIsRelayed(t *testing.T) {
	root := setupTestDB(t)
	if _, err := root.Exec("CREATE TABLE IF NOT EXISTS dbfence_test_proxy.load_ok (v VARCHAR(10))"); err != nil {
		t.Fatal(err)
	}
	root.Exec("TRUNCATE dbfence_test_proxy.load_ok")
	f := filepath.Join(t.TempDir(), "rows.txt")
	if err := os.WriteFile(f, []byte("a\nb\nc\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	q := "LOAD DATA LOCAL INFILE '" + f + "' INTO TABLE load_ok"
	gate := passGate{plan: map[string]rules.StatementVerdict{q: {Kind: "load_data", Outcome: rules.Allow, LocalInfile: f}}}
	db := openDB(t, startProxy(t, gate, nil), "root", "", "dbfence_test_proxy", "allowAllFiles=true")
	res, err := db.Exec(q)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 3 {
		t.Fatalf("rows loaded: %d", n)
	}
}

func TestLocalInfileNotAskedForIsRefused(t *testing.T) {
	root := setupTestDB(t)
	if _, err := root.Exec("CREATE TABLE IF NOT EXISTS dbfence_test_proxy.load_target (v VARCHAR(10))"); err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "rows.txt")
	if err := os.WriteFile(f, []byte("a\nb\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := startProxy(t, passGate{}, nil)
	db := openDB(t, addr, "root", "", "dbfence_test_proxy", "allowAllFiles=true")
	_, err := db.Exec("LOAD DATA LOCAL INFILE '" + f + "' INTO TABLE load_target")
	var me *gomysql.MySQLError
	if !errors.As(err, &me) || me.Number != 1148 {
		t.Fatalf("got %v", err)
	}
	var n int
	if err := root.QueryRow("SELECT COUNT(*) FROM dbfence_test_proxy.load_target").Scan(&n); err != nil || n != 0 {
		t.Fatalf("rows loaded: %d %v", n, err)
	}
}

func TestBadInputGetsAClearError(t *testing.T) {
	requireBackend(t)
	addr := startProxy(t, passGate{}, func(c *Config) { c.MaxPacket = 1 << 20 })
	t.Run("packet over max_packet", func(t *testing.T) {
		rc, _ := dialRaw(t, addr, "root", "", "")
		rc.command(append([]byte{gm.COM_QUERY}, make([]byte, 2<<20)...))
		if e := rc.read(); e[0] != hdrErr || errCode(e) != 1153 {
			t.Fatalf("got %x", e[:min(len(e), 16)])
		}
	})
	t.Run("packet out of order", func(t *testing.T) {
		rc, _ := dialRaw(t, addr, "root", "", "")
		rc.pc.seq = 5
		_ = rc.pc.writePacket([]byte{gm.COM_PING})
		_ = rc.pc.flush()
		rc.pc.seq = 0 // the proxy answers in a fresh exchange
		p, err := rc.pc.readPacket()
		if err != nil {
			// Sequence mismatch on our own read is fine; the error must have arrived.
			t.Logf("read: %v", err)
			return
		}
		if p[0] != hdrErr || errCode(p) != 1156 {
			t.Fatalf("got %x", p)
		}
	})
	t.Run("garbage instead of a handshake response", func(t *testing.T) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		pc := newPacketConn(c, 0)
		if _, err := pc.readPacket(); err != nil {
			t.Fatal(err)
		}
		_ = pc.writePacket([]byte{1, 2, 3})
		_ = pc.flush()
		p, err := pc.readPacket()
		if err != nil || p[0] != hdrErr || errCode(p) != 1156 {
			t.Fatalf("got %x %v", p, err)
		}
	})
	t.Run("wrong password and unknown user are the backend's own errors", func(t *testing.T) {
		for _, user := range []string{"root", "no_such_user_dbfence"} {
			db := openDB(t, addr, user, "wrong-password", "", "")
			err := db.Ping()
			var me *gomysql.MySQLError
			// 1045, or 1698 where MariaDB answers an unknown user that way
			// (it depends on the server's accounts): the backend's own error.
			if !errors.As(err, &me) || (me.Number != 1045 && me.Number != 1698) || !strings.Contains(me.Message, "Access denied") {
				t.Fatalf("%s: got %v", user, err)
			}
		}
	})
	t.Run("policy refuses the user at the handshake", func(t *testing.T) {
		db := openDB(t, addr, "blocked", "x", "", "")
		err := db.Ping()
		var me *gomysql.MySQLError
		if !errors.As(err, &me) || me.Number != 1130 {
			t.Fatalf("got %v", err)
		}
	})
}

func TestDeadBackend(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := ln.Addr().String()
	ln.Close()
	addr := startProxy(t, passGate{}, func(c *Config) { c.Backend = dead; c.DialTimeout = time.Second })
	db := openDB(t, addr, "root", "", "", "")
	err := db.Ping()
	var me *gomysql.MySQLError
	if !errors.As(err, &me) || me.Number != 1158 || !strings.Contains(me.Message, "unavailable") {
		t.Fatalf("got %v", err)
	}
}

var _ = fault.Internal
