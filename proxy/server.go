package proxy

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
)

// Handler serves one client connection until it ends. ServeConn owns c and
// closes it before returning. It must return promptly once ctx is cancelled
// and the session is between commands: cancellation means "drain": finish
// the command in flight, then end the session.
type Handler interface {
	ServeConn(ctx context.Context, c net.Conn, s *Session)
}

// Session is the listener's view of one live connection, shared with the
// engine serving it.
type Session struct {
	// ID is unique within the process and appears in logs and audit records.
	ID uint64
	// busy is set while a command is in flight.
	busy atomic.Bool
	conn net.Conn
	// backend is the session's connection to the database, closed with the
	// client's when the drain times out: a session waiting on a long query
	// would not notice its client connection closing.
	backend atomic.Pointer[net.Conn]
}

// SetBusy marks whether a command is in flight; an idle session is woken
// (its pending read fails) when draining starts.
func (s *Session) SetBusy(b bool) { s.busy.Store(b) }

// SetBackend registers the session's backend connection (see Shutdown).
func (s *Session) SetBackend(c net.Conn) {
	if s != nil {
		s.backend.Store(&c)
	}
}

// closeConns closes the client connection and the backend's, if any.
func (s *Session) closeConns() {
	s.conn.Close()
	if bc := s.backend.Load(); bc != nil {
		(*bc).Close()
	}
}

var sessionIDs atomic.Uint64

// Server accepts connections on one listener and hands each to a Handler.
type Server struct {
	// Handler serves each accepted connection.
	Handler Handler
	// Log receives lifecycle messages.
	Log *zap.Logger

	mu       sync.Mutex
	sessions map[uint64]*Session
	ln       net.Listener
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	closing  atomic.Bool
}

// ErrServerClosed is returned by Serve after Shutdown.
var ErrServerClosed = errors.New("proxy: server closed")

// Serve accepts connections until Shutdown. It always returns a non-nil error.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.sessions == nil {
		s.sessions = make(map[uint64]*Session)
	}
	if s.ctx == nil {
		s.ctx, s.cancel = context.WithCancel(context.Background())
	}
	s.ln = ln
	s.mu.Unlock()
	var backoff time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if s.closing.Load() {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, errTooManyFiles) {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				s.Log.Warn("accept failed; retrying", zap.Error(err), zap.Duration("backoff", backoff))
				time.Sleep(backoff)
				continue
			}
			return err
		}
		backoff = 0
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetNoDelay(true)
			_ = tc.SetKeepAlive(true)
		}
		sess := &Session{ID: sessionIDs.Add(1), conn: c}
		s.mu.Lock()
		if s.closing.Load() {
			s.mu.Unlock()
			c.Close()
			return ErrServerClosed
		}
		s.sessions[sess.ID] = sess
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			defer func() {
				s.mu.Lock()
				delete(s.sessions, sess.ID)
				s.mu.Unlock()
			}()
			// A bug met by one session ends that session, not the proxy.
			// The handler's own deferred clean-up (audit of the statements
			// in flight, closing both connections) has run by now.
			defer func() {
				if r := recover(); r != nil {
					c.Close()
					s.Log.Error("session failed on an internal error; its connection was closed",
						zap.Uint64("session", sess.ID), zap.Any("panic", r), zap.StackSkip("stack", 1))
				}
			}()
			s.Handler.ServeConn(s.ctx, c, sess)
		}()
	}
}

// Sessions returns the number of live sessions.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// Shutdown stops accepting, lets every session finish the command in flight
// and waits for them to end. When ctx expires first, the remaining
// connections (client and backend) are closed and ctx's error is returned.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing.Store(true)
	if s.ln != nil {
		s.ln.Close()
	}
	if s.cancel != nil {
		s.cancel()
	}
	// Wake idle sessions blocked reading their next command.
	for _, sess := range s.sessions {
		if !sess.busy.Load() {
			_ = sess.conn.SetReadDeadline(time.Now())
		}
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.mu.Lock()
		for _, sess := range s.sessions {
			sess.closeConns()
		}
		s.mu.Unlock()
		<-done
		return ctx.Err()
	}
}
