// Package admin owns the admin HTTP listener: /metrics (Prometheus),
// /healthz, and the routes other packages mount on it (the live audit
// stream, the approval API and console). It decides nothing itself.
package admin
