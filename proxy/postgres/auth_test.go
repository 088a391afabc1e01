package postgres

import (
	"context"
	"errors"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

// The test PostgreSQL trusts 127.0.0.1, so the authentication relay is
// exercised against a scripted backend that asks for each method.

// fakeAuthBackend serves one connection: it asks for auth, records what the
// client answered, and then either refuses (28P01) or completes the startup.
type fakeAuthBackend struct {
	ln      net.Listener
	request pgproto3.BackendMessage
	accept  bool
	// got receives the client's first authentication answer.
	got chan pgproto3.FrontendMessage
	// script answers each client message after the startup, in order.
	script []pgproto3.BackendMessage
}

func startFakeBackend(t *testing.T, request pgproto3.BackendMessage, accept bool, script ...pgproto3.BackendMessage) *fakeAuthBackend {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fb := &fakeAuthBackend{ln: ln, request: request, accept: accept, got: make(chan pgproto3.FrontendMessage, 1), script: script}
	t.Cleanup(func() { ln.Close() })
	go fb.serve()
	return fb
}

func (fb *fakeAuthBackend) serve() {
	c, err := fb.ln.Accept()
	if err != nil {
		return
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	be := pgproto3.NewBackend(c, c)
	if _, err := be.ReceiveStartupMessage(); err != nil {
		return
	}
	be.Send(fb.request)
	_ = be.Flush()
	switch fb.request.(type) {
	case *pgproto3.AuthenticationSASL:
		_ = be.SetAuthType(pgproto3.AuthTypeSASL)
	case *pgproto3.AuthenticationMD5Password:
		_ = be.SetAuthType(pgproto3.AuthTypeMD5Password)
	default:
		_ = be.SetAuthType(pgproto3.AuthTypeCleartextPassword)
	}
	m, err := be.Receive()
	if err != nil {
		close(fb.got)
		return
	}
	fb.got <- m
	if !fb.accept {
		be.Send(&pgproto3.ErrorResponse{Severity: "FATAL", Code: "28P01", Message: "password authentication failed"})
		_ = be.Flush()
		return
	}
	be.Send(&pgproto3.AuthenticationOk{})
	be.Send(&pgproto3.ParameterStatus{Name: "client_encoding", Value: "UTF8"})
	be.Send(&pgproto3.ParameterStatus{Name: "standard_conforming_strings", Value: "on"})
	be.Send(&pgproto3.BackendKeyData{ProcessID: 4242, SecretKey: 99})
	be.Send(&pgproto3.ReadyForQuery{TxStatus: 'I'})
	_ = be.Flush()
	for _, m := range fb.script {
		if _, err := be.Receive(); err != nil {
			return
		}
		be.Send(m)
		_ = be.Flush()
	}
	_, _ = be.Receive() // Terminate
}

func TestAuthenticationRelay(t *testing.T) {
	tests := []struct {
		desc    string
		request pgproto3.BackendMessage
		accept  bool
		check   func(m pgproto3.FrontendMessage) bool
	}{
		{
			desc:    "SCRAM-SHA-256-PLUS is removed: the client chooses SCRAM-SHA-256; the backend's refusal is relayed",
			request: &pgproto3.AuthenticationSASL{AuthMechanisms: []string{"SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"}},
			check: func(m pgproto3.FrontendMessage) bool {
				r, ok := m.(*pgproto3.SASLInitialResponse)
				return ok && r.AuthMechanism == "SCRAM-SHA-256" && len(r.Data) > 0 && r.Data[0] == 'n'
			},
		},
		{
			desc:    "cleartext password relayed",
			request: &pgproto3.AuthenticationCleartextPassword{},
			accept:  true,
			check: func(m pgproto3.FrontendMessage) bool {
				p, ok := m.(*pgproto3.PasswordMessage)
				return ok && p.Password == "secret"
			},
		},
		{
			desc:    "MD5 password relayed",
			request: &pgproto3.AuthenticationMD5Password{Salt: [4]byte{1, 2, 3, 4}},
			accept:  true,
			check: func(m pgproto3.FrontendMessage) bool {
				p, ok := m.(*pgproto3.PasswordMessage)
				return ok && len(p.Password) == 35 && p.Password[:3] == "md5"
			},
		},
	}
	for _, tc := range tests {
		fb := startFakeBackend(t, tc.request, tc.accept)
		addr, _ := startProxy(t, passGate{}, func(c *Config) { c.Backend = fb.ln.Addr().String() })
		err := connectErr(connString(addr, "someone", "secret", "db"))
		var pe *pgconn.PgError
		if tc.accept && err != nil {
			t.Errorf("%s: %v", tc.desc, err)
		}
		if !tc.accept && (!errors.As(err, &pe) || pe.Code != "28P01") {
			t.Errorf("%s: got %v", tc.desc, err)
		}
		if m := <-fb.got; !tc.check(m) {
			t.Errorf("%s: backend received %#v", tc.desc, m)
		}
	}
}

func TestUnsupportedAuthenticationRefused(t *testing.T) {
	tests := []struct {
		desc    string
		request pgproto3.BackendMessage
	}{
		{"GSSAPI", &pgproto3.AuthenticationGSS{}},
		{"SASL with only channel binding", &pgproto3.AuthenticationSASL{AuthMechanisms: []string{"SCRAM-SHA-256-PLUS"}}},
	}
	for _, tc := range tests {
		fb := startFakeBackend(t, tc.request, false)
		addr, _ := startProxy(t, passGate{}, func(c *Config) { c.Backend = fb.ln.Addr().String() })
		err := connectErr(connString(addr, "someone", "secret", "db"))
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "0A000" {
			t.Errorf("%s: got %v", tc.desc, err)
		}
	}
}

func TestBackendKeyReplaced(t *testing.T) {
	fb := startFakeBackend(t, &pgproto3.AuthenticationCleartextPassword{}, true)
	addr, _ := startProxy(t, passGate{}, func(c *Config) { c.Backend = fb.ln.Addr().String() })
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	fe := pgproto3.NewFrontend(c, c)
	fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber, Parameters: map[string]string{"user": "u"}})
	_ = fe.Flush()
	var kinds []string
	for {
		m, err := fe.Receive()
		if err != nil {
			t.Fatal(err)
		}
		switch m := m.(type) {
		case *pgproto3.AuthenticationCleartextPassword:
			fe.Send(&pgproto3.PasswordMessage{Password: "p"})
			_ = fe.Flush()
		case *pgproto3.BackendKeyData:
			if m.ProcessID == 4242 || m.SecretKey == 99 {
				t.Errorf("backend key relayed: %+v", m)
			}
		}
		kinds = append(kinds, msgName(m))
		if _, ok := m.(*pgproto3.ReadyForQuery); ok {
			break
		}
	}
	if !slices.Contains(kinds, "ParameterStatus") {
		t.Errorf("parameters not relayed: %v", kinds)
	}
}

func TestUnexpectedBackendMessageEndsSession(t *testing.T) {
	tests := []struct {
		desc   string
		answer pgproto3.BackendMessage
	}{
		{"ParseComplete answering a Query", &pgproto3.ParseComplete{}},
		{"CopyBothResponse (replication only)", &pgproto3.CopyBothResponse{}},
		{"a FunctionCallResponse nobody asked for", &pgproto3.FunctionCallResponse{Result: []byte("x")}},
	}
	for _, tc := range tests {
		fb := startFakeBackend(t, &pgproto3.AuthenticationCleartextPassword{}, true, tc.answer)
		addr, _ := startProxy(t, passGate{}, func(c *Config) { c.Backend = fb.ln.Addr().String() })
		c, err := pgconn.Connect(context.Background(), connString(addr, "u", "p", "db"))
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Exec(context.Background(), "SELECT 1").ReadAll()
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "08P01" || pe.Severity != "FATAL" {
			t.Errorf("%s: got %v", tc.desc, err)
		}
		if !c.IsClosed() {
			if _, err := c.Exec(context.Background(), "SELECT 1").ReadAll(); err == nil {
				t.Errorf("%s: session lives on", tc.desc)
			}
		}
		c.Close(context.Background())
	}
}
