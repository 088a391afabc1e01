// Package proxy owns what every protocol engine shares: accepting client
// connections, tracking live sessions, draining them on shutdown, metrics,
// and the events engines emit for the audit stream.
//
// Engines (proxy/mysql, later proxy/postgres) implement Handler. They know
// their wire protocol and nothing of SQL: statement texts go to the rules
// (package rules) and come back as a Verdict.
package proxy
