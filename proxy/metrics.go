package proxy

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the Prometheus collectors every engine updates. Labels are
// bounded sets: protocol, command, outcome, error kind, direction.
type Metrics struct {
	// ConnectionsOpen is the number of live client sessions.
	ConnectionsOpen *prometheus.GaugeVec
	// Connections counts accepted connections by how the handshake ended.
	Connections *prometheus.CounterVec
	// Statements counts client commands by command and outcome.
	Statements *prometheus.CounterVec
	// Latency observes command latency in seconds, from the client's request
	// to the end of the response.
	Latency *prometheus.HistogramVec
	// Bytes counts payload bytes relayed, by direction.
	Bytes *prometheus.CounterVec
	// Errors counts errors the proxy raised, by kind.
	Errors *prometheus.CounterVec
	// Rows counts result rows relayed, and how many had masked cells.
	Rows *prometheus.CounterVec
	// MonitorDecisions counts statements of monitor-mode roles that the
	// policy would have refused (they were forwarded).
	MonitorDecisions *prometheus.CounterVec
}

// NewMetrics builds the collectors and registers them with reg (nil: not registered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		ConnectionsOpen: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "dbfence", Name: "connections_open", Help: "Live client sessions.",
		}, []string{"protocol"}),
		Connections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "dbfence", Name: "connections_total", Help: "Client connections by handshake outcome.",
		}, []string{"protocol", "outcome"}),
		Statements: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "dbfence", Name: "statements_total", Help: "Client commands by command and outcome.",
		}, []string{"protocol", "command", "outcome"}),
		Latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "dbfence", Name: "command_duration_seconds", Help: "Command latency through the proxy.",
			Buckets: []float64{50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 50e-3, 250e-3, 1, 5},
		}, []string{"protocol", "command"}),
		Bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "dbfence", Name: "bytes_total", Help: "Payload bytes relayed.",
		}, []string{"protocol", "direction"}),
		Errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "dbfence", Name: "errors_total", Help: "Errors raised by the proxy, by kind.",
		}, []string{"protocol", "kind"}),
		Rows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "dbfence", Name: "rows_total", Help: "Result rows relayed, by treatment.",
		}, []string{"protocol", "treatment"}),
		MonitorDecisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "dbfence", Name: "monitor_would_refuse_total",
			Help: "Statements of monitor-mode roles that the policy would have refused, by outcome and rule.",
		}, []string{"protocol", "outcome", "rule"}),
	}
	if reg != nil {
		reg.MustRegister(m.ConnectionsOpen, m.Connections, m.Statements, m.Latency, m.Bytes, m.Errors, m.Rows, m.MonitorDecisions)
	}
	return m
}
