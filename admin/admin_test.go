package admin

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func TestHealthzAndMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "dbfence_test_total", Help: "t"})
	reg.MustRegister(c)
	c.Inc()
	s := New(reg)
	healthy := true
	s.AddCheck("audit", func() error {
		if healthy {
			return nil
		}
		return errors.New("disk full")
	})
	tests := []struct {
		desc    string
		path    string
		healthy bool
		code    int
		body    string
	}{
		{"metrics expose registered collectors", "/metrics", true, 200, "dbfence_test_total 1"},
		{"healthy", "/healthz", true, 200, `"audit":"ok"`},
		{"a failing check makes healthz 503 and names it", "/healthz", false, 503, `"audit":"disk full"`},
	}
	for _, tc := range tests {
		healthy = tc.healthy
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tc.path, nil))
		if rec.Code != tc.code || !strings.Contains(rec.Body.String(), tc.body) {
			t.Errorf("%s: %d %s", tc.desc, rec.Code, rec.Body.String())
		}
	}
}

func TestProtectedRoutesNeedTheToken(t *testing.T) {
	s := New(prometheus.NewRegistry())
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("secret")) })
	s.HandleProtected("GET /on", "tok", ok)
	s.HandleProtected("GET /off", "", ok)
	tests := []struct {
		desc, path, auth string
		code             int
	}{
		{"right token", "/on", "Bearer tok", 200},
		{"wrong token", "/on", "Bearer nope", 401},
		{"no token", "/on", "", 401},
		{"route without a configured token is off", "/off", "Bearer ", 404},
	}
	for _, tc := range tests {
		req := httptest.NewRequest(http.MethodGet, tc.path, nil)
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, req)
		if rec.Code != tc.code {
			t.Errorf("%s: got %d", tc.desc, rec.Code)
		}
	}
}

func TestConsolePage(t *testing.T) {
	s := New(prometheus.NewRegistry())
	s.MountConsole()
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/console", nil))
	body := rec.Body.String()
	if rec.Code != 200 || !strings.Contains(rec.Header().Get("Content-Type"), "text/html") ||
		rec.Header().Get("X-Frame-Options") != "DENY" {
		t.Fatalf("%d %v", rec.Code, rec.Header())
	}
	// The page drives exactly the token-protected API.
	for _, want := range []string{`"/approvals"`, `"/approvals/" + encodeURIComponent(id) + "/" + verb`, `"/audit/stream"`, `Authorization: "Bearer "`} {
		if !strings.Contains(body, want) {
			t.Errorf("console page lacks %s", want)
		}
	}
	// Values are inserted as text nodes, never as HTML (request fields are user-controlled).
	if strings.Contains(body, "innerHTML") {
		t.Error("console page uses innerHTML")
	}
}

// TestServeBoundsOpenConnections: connections beyond MaxConns wait until
// one closes, so a flood cannot take every file descriptor.
func TestServeBoundsOpenConnections(t *testing.T) {
	s := New(prometheus.NewRegistry())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(ln)
	defer s.Shutdown(context.Background())
	get := func() (*http.Response, error) {
		c := &http.Client{Timeout: 500 * time.Millisecond, Transport: &http.Transport{DisableKeepAlives: true}}
		return c.Get("http://" + ln.Addr().String() + "/healthz")
	}
	held := make([]net.Conn, 0, MaxConns)
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	for range MaxConns {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	// Wait until the server has accepted them all (each holds a slot).
	time.Sleep(200 * time.Millisecond)
	if resp, err := get(); err == nil {
		resp.Body.Close()
		t.Fatalf("request %d was served while %d connections were open", MaxConns+1, MaxConns)
	}
	held[0].Close()
	held = held[1:]
	var resp *http.Response
	for range 20 {
		if resp, err = get(); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("no request served after a connection closed: %v", err)
	}
	resp.Body.Close()
}
