package admin

import (
	"embed"
	"net/http"
)

//go:embed console/index.html
var consoleFS embed.FS

// MountConsole serves the approvers' web console at /console. The page is
// static; it calls the token-protected /approvals API and /audit/stream with
// the token the approver types, so serving it needs no token itself.
func (s *Server) MountConsole() {
	page, _ := consoleFS.ReadFile("console/index.html")
	s.mux.HandleFunc("GET /console", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'unsafe-inline' 'self'; style-src 'unsafe-inline'")
		w.Header().Set("X-Frame-Options", "DENY")
		_, _ = w.Write(page)
	})
}
