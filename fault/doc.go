// Package fault owns the proxy's error kinds and the one table that maps each
// kind to what a client sees on the wire: a MySQL error code with its SQLSTATE,
// and a PostgreSQL SQLSTATE.
//
// Every error the proxy itself produces for a client is a *Error built here, so
// a refusal reads the same whichever engine, package or path produced it.
// Errors that come from a backend server are not wrapped: engines relay them
// unchanged (except where policy redacts their text).
package fault
