package postgres

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"errors"
	"math/big"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

// connectErr tries to connect with a connection string and returns the error.
func connectErr(conn string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := pgconn.Connect(ctx, conn)
	if err == nil {
		c.Close(ctx)
	}
	return err
}

func TestStartupOutcomes(t *testing.T) {
	setupTestDB(t)
	addr, _ := startProxy(t, passGate{}, nil)
	base := connString(addr, "dbfence_test", "dbfence-test-pass", testDB)
	tests := []struct {
		desc string
		conn string
		code string // "" means the connection succeeds
	}{
		{"SCRAM with the right password", base, ""},
		{"SCRAM as another account", connString(addr, "clerk", "clerk-pass", "gov"), ""},
		{"trust account", connString(addr, "postgres", "", testDB), ""},
		{"a user the policy does not admit", connString(addr, "blocked", "x", testDB), "28000"},
		{"physical replication connection refused", base + " replication=true", "0A000"},
		{"logical replication connection refused", base + " replication=database", "0A000"},
		{"replication=false is an ordinary session", base + " replication=false", ""},
		{"client_encoding other than UTF8 at startup", base + " client_encoding=GBK", "22021"},
		{"client_encoding through options", base + " options='-c client_encoding=LATIN1'", "22021"},
		{"standard_conforming_strings off through options", base + " options='-c standard_conforming_strings=off'", "0A000"},
		{"unknown database: the backend's error is relayed", connString(addr, "postgres", "", "no_such_db"), "3D000"},
		{"sslmode=prefer without client TLS falls back to plain", strings.Replace(base, "sslmode=disable", "sslmode=prefer", 1), ""},
		{"sslmode=require without client TLS fails", strings.Replace(base, "sslmode=disable", "sslmode=require", 1), "tls"},
	}
	for _, tc := range tests {
		err := connectErr(tc.conn)
		var pe *pgconn.PgError
		switch {
		case tc.code == "" && err != nil:
			t.Errorf("%s: %v", tc.desc, err)
		case tc.code == "tls":
			if err == nil {
				t.Errorf("%s: connected", tc.desc)
			}
		case tc.code != "" && (!errors.As(err, &pe) || pe.Code != tc.code):
			t.Errorf("%s: got %v, want SQLSTATE %s", tc.desc, err, tc.code)
		}
	}
}

func TestClientTLSAndGSSENC(t *testing.T) {
	setupTestDB(t)
	addr, _ := startProxy(t, passGate{}, func(c *Config) {
		c.ClientTLS = selfSignedTLS(t)
		c.RequireClientTLS = true
	})
	// pgx tries GSSENC? No: send GSSENCRequest by hand, then SSLRequest.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var req [8]byte
	binary.BigEndian.PutUint32(req[:], 8)
	binary.BigEndian.PutUint32(req[4:], codeGSSENC)
	ans := make([]byte, 1)
	if _, err := c.Write(req[:]); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Read(ans); err != nil || ans[0] != 'N' {
		t.Fatalf("GSSENCRequest: %q %v", ans, err)
	}
	binary.BigEndian.PutUint32(req[4:], codeSSL)
	if _, err := c.Write(req[:]); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Read(ans); err != nil || ans[0] != 'S' {
		t.Fatalf("SSLRequest: %q %v", ans, err)
	}
	// A driver over TLS.
	conn := strings.Replace(connString(addr, "dbfence_test", "dbfence-test-pass", testDB), "sslmode=disable", "sslmode=require", 1)
	if err := connectErr(conn); err != nil {
		t.Fatalf("TLS session: %v", err)
	}
	var pe *pgconn.PgError
	if err := connectErr(connString(addr, "dbfence_test", "dbfence-test-pass", testDB)); !errors.As(err, &pe) || pe.Code != "28000" {
		t.Fatalf("plain session with RequireClientTLS: %v", err)
	}
}

func selfSignedTLS(t testing.TB) *tls.Config {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "dbfence-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), DNSNames: []string{"localhost"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
}

func TestPinnedParameterChangeEndsSession(t *testing.T) {
	setupTestDB(t)
	addr, _ := startProxy(t, passGate{}, nil)
	ctx := context.Background()
	tests := []struct {
		desc, stmt, code string
	}{
		{"switching client_encoding to GBK", "SET client_encoding = 'GBK'", "22021"},
		{"turning standard_conforming_strings off", "SET standard_conforming_strings = off", "0A000"},
		{"set_config on client_encoding", "SELECT set_config('client_encoding', 'LATIN1', false)", "22021"},
	}
	for _, tc := range tests {
		c := connect(t, addr, "dbfence_test", "dbfence-test-pass", testDB, pgx.QueryExecModeSimpleProtocol)
		_, err := c.Exec(ctx, tc.stmt)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != tc.code || pe.Severity != "FATAL" {
			t.Errorf("%s: got %v", tc.desc, err)
			continue
		}
		if _, err := c.Exec(ctx, "SELECT 1"); err == nil {
			t.Errorf("%s: the session lives on", tc.desc)
		}
	}
	// Setting the same value is fine.
	c := connect(t, addr, "dbfence_test", "dbfence-test-pass", testDB, pgx.QueryExecModeSimpleProtocol)
	if _, err := c.Exec(ctx, "SET client_encoding = 'UTF8'"); err != nil {
		t.Fatal(err)
	}
}

func TestSASLMechanismsWithoutChannelBinding(t *testing.T) {
	tests := []struct {
		desc string
		in   []string
		kept []string
	}{
		{"PLUS removed", []string{"SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"}, []string{"SCRAM-SHA-256"}},
		{"plain only", []string{"SCRAM-SHA-256"}, []string{"SCRAM-SHA-256"}},
		{"PLUS only leaves nothing", []string{"SCRAM-SHA-256-PLUS"}, nil},
	}
	for _, tc := range tests {
		body := []byte{0, 0, 0, authSASL}
		for _, m := range tc.in {
			body = append(append(body, m...), 0)
		}
		body = append(body, 0)
		out, kept := filterMechanisms(body)
		if !slices.Equal(kept, tc.kept) {
			t.Errorf("%s: kept %v", tc.desc, kept)
		}
		var a pgproto3.AuthenticationSASL
		if err := a.Decode(out); err != nil || !slices.Equal(a.AuthMechanisms, tc.kept) {
			t.Errorf("%s: rewritten message %q: %v %v", tc.desc, out, a.AuthMechanisms, err)
		}
	}
}

func TestCancelRequestReachesBackend(t *testing.T) {
	setupTestDB(t)
	addr, _ := startProxy(t, passGate{}, nil)
	c := connect(t, addr, "dbfence_test", "dbfence-test-pass", testDB, pgx.QueryExecModeSimpleProtocol)
	// The client sees the proxy's key, not the backend's.
	var realPID uint32
	if err := c.QueryRow(context.Background(), "SELECT pg_backend_pid()").Scan(&realPID); err != nil {
		t.Fatal(err)
	}
	if c.PgConn().PID() == realPID {
		t.Errorf("the backend's process id reached the client")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	go func() {
		time.Sleep(300 * time.Millisecond)
		if err := c.PgConn().CancelRequest(context.Background()); err != nil {
			t.Errorf("cancel: %v", err)
		}
	}()
	start := time.Now()
	_, err := c.Exec(ctx, "SELECT pg_sleep(10)")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "57014" || time.Since(start) > 5*time.Second {
		t.Fatalf("not cancelled: %v after %v", err, time.Since(start))
	}
	// A cancel with an unknown key is ignored.
	raw, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var req [16]byte
	binary.BigEndian.PutUint32(req[:], 16)
	binary.BigEndian.PutUint32(req[4:], codeCancel)
	binary.BigEndian.PutUint32(req[8:], c.PgConn().PID())
	binary.BigEndian.PutUint32(req[12:], c.PgConn().SecretKey()+1)
	_, _ = raw.Write(req[:])
	_ = raw.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := raw.Read(req[:]); n != 0 || err == nil {
		t.Fatalf("cancel connection answered: %d %v", n, err)
	}
	var one int
	if err := c.QueryRow(context.Background(), "SELECT 1").Scan(&one); err != nil {
		t.Fatal(err)
	}
}

// TestRepeatedStartupParameterRefused: the server takes the last of
// repeated startup names, the proxy would read the first; a repeat (in any
// letter case, as the server folds setting names) ends the connection before
// anything reaches the backend.
func TestRepeatedStartupParameterRefused(t *testing.T) {
	setupTestDB(t)
	addr, _ := startProxy(t, passGate{}, nil)
	for _, params := range [][]string{
		{"user", "nosuchuser", "user", "postgres", "database", testDB},
		{"user", "postgres", "database", "postgres", "database", testDB},
		{"user", "postgres", "database", testDB, "client_encoding", "UTF8", "CLIENT_ENCODING", "GBK"},
		{"user", "postgres", "database", testDB, "options", "-c search_path=a", "Options", "-c search_path=b"},
	} {
		body := binary.BigEndian.AppendUint32(nil, pgproto3.ProtocolVersionNumber)
		for _, p := range params {
			body = append(append(body, p...), 0)
		}
		body = append(body, 0)
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.Write(append(binary.BigEndian.AppendUint32(nil, uint32(len(body)+4)), body...)); err != nil {
			t.Fatal(err)
		}
		m, err := pgproto3.NewFrontend(c, c).Receive()
		c.Close()
		if e, ok := m.(*pgproto3.ErrorResponse); err != nil || !ok || e.Code != "08P01" || !strings.Contains(e.Message, "more than once") {
			t.Errorf("startup %q: got %#v, %v; want FATAL 08P01 naming the repeat", params, m, err)
		}
	}
}

// TestSilentBackendTimesOutWithAReason: a backend that accepts and never
// answers ends the startup at HandshakeTimeout with an error that says so.
func TestSilentBackendTimesOutWithAReason(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // held open, never answered
		}
	}()
	addr, _ := startProxy(t, passGate{}, func(c *Config) { c.Backend = ln.Addr().String(); c.HandshakeTimeout = 500 * time.Millisecond })
	err = connectErr(connString(addr, "postgres", "", testDB))
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "08006" || !strings.Contains(pe.Message, "did not answer within 500ms") {
		t.Fatalf("got %v, want 08006 naming the timeout", err)
	}
}

// TestSecondSSLRequestIsNamed: a client that asks for TLS twice is told
// that encryption was already negotiated, not that protocol 1234.5679 is
// unknown.
func TestSecondSSLRequestIsNamed(t *testing.T) {
	setupTestDB(t)
	addr, _ := startProxy(t, passGate{}, nil)
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	ssl := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, 8), 80877103)
	one := make([]byte, 1)
	if _, err := c.Write(ssl); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Read(one); err != nil || one[0] != 'N' {
		t.Fatalf("first SSLRequest: %q, %v", one, err)
	}
	if _, err := c.Write(ssl); err != nil {
		t.Fatal(err)
	}
	m, err := pgproto3.NewFrontend(c, c).Receive()
	if e, ok := m.(*pgproto3.ErrorResponse); err != nil || !ok || e.Code != "08P01" || !strings.Contains(e.Message, "already negotiated") {
		t.Fatalf("second SSLRequest: %#v, %v", m, err)
	}
}
