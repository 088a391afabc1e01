package main

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dbfence/dbfence/audit"
)

// TestEveryStatementIsAudited runs a clerk's session through the demo and
// reads the audit log back: every statement with its decision, the log
// verifies with the keys, and no literal is written in clear.
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
	if strings.Contains(raw.String(), "secret-literal-xyz") {
		t.Fatal("a literal of a statement is in the log in clear")
	}
	// An auditor with the SM4 key reads the literals back.
	sm4Key, err := audit.LoadHexKey(filepath.Join(p.keyDir, audit.SM4KeyFileName), 16, 16)
	if err != nil {
		t.Fatal(err)
	}
	decrypted := false
	for _, rec := range recs {
		if rec.LiteralsEnc == "" {
			continue
		}
		lits, err := audit.OpenLiterals(sm4Key, rec.LiteralsEnc)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(lits, ",") == "4711,'secret-literal-xyz'" {
			decrypted = true
		}
	}
	if !decrypted {
		t.Fatal("the statement's literals are not in the log, encrypted")
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
