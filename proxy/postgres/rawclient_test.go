package postgres

import (
	"net"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

// rawClient speaks the protocol message by message, for the cases a driver
// will not produce.
type rawClient struct {
	t    testing.TB
	conn net.Conn
	fe   *pgproto3.Frontend
}

// dialRaw connects through addr as user postgres (trust) to the test database
// and reads up to the first ReadyForQuery.
func dialRaw(t testing.TB, addr string) *rawClient {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	rc := &rawClient{t: t, conn: c, fe: pgproto3.NewFrontend(c, c)}
	rc.send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber,
		Parameters: map[string]string{"user": "postgres", "database": testDB}})
	for {
		switch m := rc.receive().(type) {
		case *pgproto3.ReadyForQuery:
			return rc
		case *pgproto3.ErrorResponse:
			t.Fatalf("login failed: %s", m.Message)
		}
	}
}

func (rc *rawClient) send(msgs ...pgproto3.FrontendMessage) {
	rc.t.Helper()
	for _, m := range msgs {
		rc.fe.Send(m)
	}
	if err := rc.fe.Flush(); err != nil {
		rc.t.Fatal(err)
	}
}

func (rc *rawClient) receive() pgproto3.BackendMessage {
	rc.t.Helper()
	m, err := rc.fe.Receive()
	if err != nil {
		rc.t.Fatalf("receive: %v", err)
	}
	return m
}

// until reads messages up to and including ReadyForQuery and returns their
// type names in order, with error codes and data rows (cells as strings) on the side.
func (rc *rawClient) until() (kinds []string, codes []string, rows [][]string) {
	rc.t.Helper()
	for {
		m := rc.receive()
		switch m := m.(type) {
		case *pgproto3.ErrorResponse:
			codes = append(codes, m.Code)
		case *pgproto3.DataRow:
			var r []string
			for _, v := range m.Values {
				r = append(r, string(v))
			}
			rows = append(rows, r)
		}
		kinds = append(kinds, msgName(m))
		if _, ok := m.(*pgproto3.ReadyForQuery); ok {
			return kinds, codes, rows
		}
	}
}

func msgName(m pgproto3.BackendMessage) string {
	switch m.(type) {
	case *pgproto3.ParseComplete:
		return "ParseComplete"
	case *pgproto3.BindComplete:
		return "BindComplete"
	case *pgproto3.CloseComplete:
		return "CloseComplete"
	case *pgproto3.RowDescription:
		return "RowDescription"
	case *pgproto3.NoData:
		return "NoData"
	case *pgproto3.ParameterDescription:
		return "ParameterDescription"
	case *pgproto3.DataRow:
		return "DataRow"
	case *pgproto3.CommandComplete:
		return "CommandComplete"
	case *pgproto3.EmptyQueryResponse:
		return "EmptyQueryResponse"
	case *pgproto3.PortalSuspended:
		return "PortalSuspended"
	case *pgproto3.ErrorResponse:
		return "ErrorResponse"
	case *pgproto3.NoticeResponse:
		return "NoticeResponse"
	case *pgproto3.ReadyForQuery:
		return "ReadyForQuery"
	case *pgproto3.CopyOutResponse:
		return "CopyOutResponse"
	case *pgproto3.CopyInResponse:
		return "CopyInResponse"
	case *pgproto3.CopyData:
		return "CopyData"
	case *pgproto3.CopyDone:
		return "CopyDone"
	case *pgproto3.ParameterStatus:
		return "ParameterStatus"
	case *pgproto3.NotificationResponse:
		return "NotificationResponse"
	}
	return "other"
}

// closed reports whether the server closed the connection (after any
// pending messages).
func (rc *rawClient) closed() bool {
	_ = rc.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 4096)
	for {
		if _, err := rc.conn.Read(buf); err != nil {
			return true
		}
	}
}
