// Package approval owns approval requests for bulk reads and exports: a
// statement the rules refuse only because it needs an approval is filed as a
// request (requester, database, normalized statement and its fingerprint,
// row limit, reason, time); an approver who is not the requester approves it
// for a validity window, a number of uses and a number of rows; a later run
// of the same statement by the same user in the same database consumes one
// use. Nothing else is allowed by an approval.
//
// Two stores implement Requests. Store is one JSON file, rewritten
// atomically (temp file + rename + fsync) under an exclusive lock on a lock
// file, and re-read on every operation: the proxy and the `dbfence
// approval` command on one host can use it at the same time. PostgresStore
// keeps the requests in a table of a PostgreSQL database the deployment
// already runs, so several proxy instances share them: each change is one
// transaction and a use locks its row, so a use is spent once however many
// instances race for it. OpenRequests picks by the configured location (a
// postgres:// URL or a file path). It is a leaf: it imports nothing of
// dbfence.
package approval
