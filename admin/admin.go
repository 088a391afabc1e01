package admin

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"net"
	"net/http"
	"net/http/pprof"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Check reports one component's health: nil when healthy.
type Check func() error

// Server is the admin HTTP listener.
type Server struct {
	mux    *http.ServeMux
	mu     sync.Mutex
	checks map[string]Check
	srv    *http.Server
}

// New builds the admin server; metrics come from gatherer.
func New(gatherer prometheus.Gatherer) *Server {
	s := &Server{mux: http.NewServeMux(), checks: map[string]Check{}}
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(gatherer, promhttp.HandlerOpts{}))
	s.mux.HandleFunc("GET /healthz", s.healthz)
	// No ReadTimeout: it would cancel /audit/stream. Idle keep-alive
	// connections are closed, and Serve bounds how many are open.
	s.srv = &http.Server{Handler: s.mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute,
		MaxHeaderBytes: 64 << 10}
	return s
}

// MaxConns bounds the admin listener's open connections: file descriptors
// are shared with the database listeners, which must not starve because
// someone holds thousands of connections to /healthz.
const MaxConns = 256

// AddCheck registers a named health check shown by /healthz.
func (s *Server) AddCheck(name string, c Check) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.checks[name] = c
}

// Handle mounts h on the admin listener (Go 1.22 pattern syntax).
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// HandleProtected mounts h behind a bearer token (constant-time compare).
// With an empty token the route answers 404: protected routes are off until
// a token is configured.
func (s *Server) HandleProtected(pattern, token string, h http.Handler) {
	s.mux.Handle(pattern, RequireToken(token, h))
}

// RequireToken wraps h so that it answers only requests carrying
// "Authorization: Bearer <token>".
func RequireToken(token string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if token == "" {
			http.NotFound(w, r)
			return
		}
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="dbfence"`)
			http.Error(w, "a valid bearer token is required", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// MountProfiling serves Go's pprof endpoints under /debug/pprof/ behind the
// token: profiles can hold fragments of relayed data.
func (s *Server) MountProfiling(token string) {
	s.HandleProtected("GET /debug/pprof/", token, http.HandlerFunc(pprof.Index))
	s.HandleProtected("GET /debug/pprof/profile", token, http.HandlerFunc(pprof.Profile))
	s.HandleProtected("GET /debug/pprof/trace", token, http.HandlerFunc(pprof.Trace))
}

// Handler returns the admin router, for tests.
func (s *Server) Handler() http.Handler { return s.mux }

// healthz answers 200 when every check passes and 503 otherwise, with a JSON
// body naming each check's state.
func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	checks := make(map[string]Check, len(s.checks))
	for k, v := range s.checks {
		checks[k] = v
	}
	s.mu.Unlock()
	body := struct {
		Status string            `json:"status"`
		Checks map[string]string `json:"checks"`
	}{Status: "ok", Checks: map[string]string{}}
	for name, c := range checks {
		if err := c(); err != nil {
			body.Status = "unhealthy"
			body.Checks[name] = err.Error()
		} else {
			body.Checks[name] = "ok"
		}
	}
	w.Header().Set("Content-Type", "application/json")
	if body.Status != "ok" {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_ = json.NewEncoder(w).Encode(body)
}

// Serve serves on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	err := s.srv.Serve(&limitListener{Listener: ln, slots: make(chan struct{}, MaxConns)})
	if err == http.ErrServerClosed {
		return nil
	}
	return err
}

// Shutdown stops the listener, letting open requests finish until ctx ends.
// Long-lived streams are cut when ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if err != nil {
		s.srv.Close()
	}
	return err
}

// limitListener accepts a connection only while fewer than cap(slots) are
// open; beyond that the next Accept waits (the kernel's backlog holds the
// caller) until one closes.
type limitListener struct {
	net.Listener
	slots chan struct{}
}

func (l *limitListener) Accept() (net.Conn, error) {
	l.slots <- struct{}{}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	return &limitedConn{Conn: c, release: func() { <-l.slots }}, nil
}

// limitedConn frees its slot once, at the first Close.
type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
