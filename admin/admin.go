package admin

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
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
	s.srv = &http.Server{Handler: s.mux, ReadHeaderTimeout: 10 * time.Second}
	return s
}

// AddCheck registers a named health check shown by /healthz.
func (s *Server) AddCheck(name string, c Check) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.checks[name] = c
}

// Handle mounts h on the admin listener (Go 1.22 pattern syntax).
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

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
	err := s.srv.Serve(ln)
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
