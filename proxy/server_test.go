package proxy

import (
	"context"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// panicky panics while serving its first connection and echoes on the others.
type panicky struct{ served atomic.Int32 }

func (h *panicky) ServeConn(_ context.Context, c net.Conn, _ *Session) {
	defer c.Close()
	if h.served.Add(1) == 1 {
		panic("bug in a session")
	}
	_, _ = io.Copy(c, c)
}

// TestSessionPanicEndsOnlyThatSession: a panic while serving one
// connection closes that connection and is logged; the proxy keeps serving.
func TestSessionPanicEndsOnlyThatSession(t *testing.T) {
	core, logs := observer.New(zap.ErrorLevel)
	srv := &Server{Handler: &panicky{}, Log: zap.New(core)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Shutdown(context.Background())

	first, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	_ = first.SetDeadline(time.Now().Add(5 * time.Second))
	if n, err := first.Read(make([]byte, 1)); err == nil {
		t.Fatalf("the failed session's connection is open (read %d bytes)", n)
	}
	second, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	_ = second.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := second.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(second, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("the next session is not served: %q, %v", buf, err)
	}
	for deadline := time.Now().Add(5 * time.Second); logs.FilterMessageSnippet("internal error").Len() != 1; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the panic was not logged: %v", logs.All())
		}
	}
}

// stuckOnBackend marks itself busy and waits on its backend connection,
// which never answers, as a session waiting for a long query does.
type stuckOnBackend struct{ started chan struct{} }

func (h *stuckOnBackend) ServeConn(_ context.Context, c net.Conn, s *Session) {
	defer c.Close()
	backend, peer := net.Pipe()
	defer peer.Close()
	s.SetBackend(backend)
	s.SetBusy(true)
	close(h.started)
	_, _ = backend.Read(make([]byte, 1))
}

// TestDrainTimeoutClosesBackendConnections: when the drain times out, a
// session blocked on its backend is closed too, and Shutdown returns.
func TestDrainTimeoutClosesBackendConnections(t *testing.T) {
	h := &stuckOnBackend{started: make(chan struct{})}
	srv := &Server{Handler: h, Log: zap.NewNop()}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	<-h.started
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- srv.Shutdown(ctx) }()
	select {
	case err := <-done:
		if err != context.DeadlineExceeded {
			t.Fatalf("Shutdown: %v, want the drain's deadline", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Shutdown did not return: the session blocked on its backend was not closed")
	}
}
