package admin

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

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
