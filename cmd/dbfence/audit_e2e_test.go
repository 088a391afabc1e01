package main

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/dbfence/dbfence/audit"
)

// TestEveryStatementIsAudited runs a clerk's sessions through the demo, on
// both protocols, and reads the audit log back: every statement with its
// decision, the log verifies with the keys, and no literal or bound parameter
// is written in clear.
func TestEveryStatementIsAudited(t *testing.T) {
	p := startDemoProxy(t, nil)
	db := dbAs(t, p.mysql, "clerk", "")
	statements := []struct {
		sql      string
		decision string
	}{
		{"SELECT name, id_card FROM person WHERE id = 4711 AND dept <> 'secret-literal-xyz'", "allow"},
		{"SELECT UPPER(address) FROM person WHERE id = 4711", "deny"},
		{"SELECT * FROM person", "needs_approval"},
		{"SELECT bogus syntax here", "deny"},
	}
	for _, s := range statements {
		_, _ = queryAll(db, s.sql)
	}
	db.Close()
	// PostgreSQL: constants of a simple query, and a parameter bound to a
	// prepared statement.
	ctx := context.Background()
	pg, err := pgx.Connect(ctx, "postgres://clerk:clerk-pass@"+p.postgres+"/gov?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []struct {
		sql  string
		mode pgx.QueryExecMode
		arg  string
	}{
		{"SELECT name FROM person WHERE id = 4711 AND dept <> 'secret-pg-const'", pgx.QueryExecModeSimpleProtocol, ""},
		{"SELECT name FROM person WHERE id = 4711 AND dept <> $1", pgx.QueryExecModeCacheStatement, "secret-pg-param"},
	} {
		args := []any{q.mode}
		if q.arg != "" {
			args = append(args, q.arg)
		}
		rows, err := pg.Query(ctx, q.sql, args...)
		if err != nil {
			t.Fatal(err)
		}
		rows.Close()
		if rows.Err() != nil {
			t.Fatalf("%s: %v", q.sql, rows.Err())
		}
	}
	pg.Close(ctx)
	p.stop() // closes the log with a final checkpoint

	hmac, err := audit.LoadHexKey(filepath.Join(p.keyDir, audit.HMACKeyFileName), 16, 0)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := audit.LoadSM2PublicKey(filepath.Join(p.keyDir, audit.SM2PublicKeyFileName))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := audit.Verify(p.auditDir, audit.VerifyOptions{HMACKey: hmac, PublicKey: pub, ExpectClosed: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Problems) != 0 || !rep.Closed || rep.SignaturesValid == 0 {
		t.Fatalf("audit log does not verify: %+v", rep)
	}
	r, err := audit.NewReader(p.auditDir, audit.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var recs []*audit.Record
	var raw strings.Builder
	for {
		rec, line, err := r.Next(context.Background())
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec)
		raw.Write(line)
	}
	// (A distinctive literal: short digit runs occur by chance in MACs.)
	for _, secret := range []string{"secret-literal-xyz", "secret-pg-const", "secret-pg-param"} {
		if strings.Contains(raw.String(), secret) {
			t.Fatalf("literal %s of a statement is in the log in clear", secret)
		}
	}
	// An auditor with the SM4 key reads the literals back.
	sm4Key, err := audit.LoadHexKey(filepath.Join(p.keyDir, audit.SM4KeyFileName), 16, 16)
	if err != nil {
		t.Fatal(err)
	}
	decrypted := map[string]bool{}
	for _, rec := range recs {
		if rec.LiteralsEnc == "" {
			continue
		}
		lits, err := audit.OpenLiterals(sm4Key, rec.LiteralsEnc)
		if err != nil {
			t.Fatal(err)
		}
		decrypted[rec.Protocol+" "+strings.Join(lits, ",")] = true
	}
	for _, want := range []string{"mysql 4711,'secret-literal-xyz'", "postgres 4711,'secret-pg-const'", "postgres 4711,secret-pg-param"} {
		if !decrypted[want] {
			t.Errorf("literals %q are not in the log, encrypted; found %v", want, decrypted)
		}
	}
	for _, s := range statements {
		found := false
		for _, rec := range recs {
			if rec.User == "clerk" && rec.Decision == s.decision && (rec.Type == audit.TypeStatement) &&
				(rec.Normalized == "" || strings.Contains(strings.ToLower(s.sql), strings.ToLower(strings.Fields(rec.Normalized)[0]))) {
				found = true
			}
		}
		if !found {
			t.Errorf("no %s record for %q", s.decision, s.sql)
		}
	}
	// Both protocols count the bytes each statement sent to the client.
	for _, proto := range []string{"mysql", "postgres"} {
		counted := false
		for _, rec := range recs {
			if rec.Protocol == proto && rec.Type != "" && rec.Decision == "allow" && rec.Rows == 1 && rec.Bytes > 0 {
				counted = true
			}
		}
		if !counted {
			t.Errorf("no %s statement record with its rows and bytes", proto)
		}
	}
	types := map[audit.EventType]bool{}
	for _, rec := range recs {
		types[rec.Type] = true
	}
	for _, want := range []audit.EventType{audit.TypeAuthOK, audit.TypeConnectionClose, audit.TypeAuditStart, audit.TypeAuditStop} {
		if !types[want] {
			t.Errorf("no %s record", want)
		}
	}
}
