// Package postgres is dbfence's PostgreSQL protocol engine (protocol 3.0).
// It knows the wire protocol and nothing of SQL: every simple-query string
// and every Parse message's query text goes to a Gate (the rules engine) and
// comes back as a rules.Verdict saying what to forward, what to refuse and
// how each result column is treated.
//
// # Framing
//
// Messages are framed by hand (wire.go), not through pgproto3's Backend and
// Frontend: the engine relays almost every backend message byte for byte,
// and decoding each one into a pgproto3 struct to encode it again would cost
// allocations per row and could change bytes the client should see as the
// server sent them. Only the messages the engine must understand are decoded
// (Parse, Bind, Describe, Execute, Close, Query, RowDescription, DataRow when
// masking, ParameterStatus, BackendKeyData, authentication requests), each
// with a bounds-checked reader and a fuzzer. pgproto3 encodes the proxy's own
// ErrorResponses and the redacted notices. Both legs have a size limit on a
// message (Config.MaxMessage for clients, MaxBackendMessage for the server),
// checked before the body is read.
//
// # One session
//
// Each client connection gets one goroutine and one dedicated backend
// connection; the goroutine reads a client message, decides it, buffers it
// for the backend, and at Sync, Flush or Query sends the buffer and relays
// the backend's responses until everything asked is answered. There are no
// goroutine hand-offs on the hot path; writes to the client are buffered
// and flushed once per exchange (or every 32 KiB of a long result).
//
//	client                          dbfence                          backend
//	  |-- SSLRequest --------------->|  'S' + TLS (Config.ClientTLS) or 'N' |
//	  |-- GSSENCRequest ------------>|  'N'                                 |
//	  |-- StartupMessage ----------->|  replication refused (0A000),        |
//	  |                              |  client_encoding must be UTF8,       |
//	  |                              |  Gate.Admit(user, address) (28000)   |
//	  |                              |---- [SSLRequest + TLS] ------------->|
//	  |                              |---- StartupMessage (unchanged) ----->|
//	  |<== AuthenticationSASL (-PLUS removed) / SASLContinue / SASLFinal ===|
//	  |==> SASLInitialResponse / SASLResponse / PasswordMessage ==========>|
//	  |<-------- AuthenticationOk, ParameterStatus ... ---------------------|
//	  |<-- BackendKeyData (proxy's) -|<------- BackendKeyData (real) -------|
//	  |<-- ReadyForQuery ------------|<------- ReadyForQuery ---------------|
//	  |                              |   client_encoding = UTF8 and         |
//	  |                              |   standard_conforming_strings = on   |
//	  |                              |   checked before ReadyForQuery       |
//	  |-- Query text --------------->|  Gate.CheckPostgres(session, text)   |
//	  |<-- ErrorResponse + RFQ ------|  refused: nothing is sent            |
//	  |                              |---- Query Verdict.Forward ---------->|
//	  |<-- rows (masked, capped) ----|<-- per statement: RowDescription,    |
//	  |                              |    DataRow..., CommandComplete; RFQ -|
//	  |-- Parse text --------------->|  Gate.CheckPostgres: plan kept per   |
//	  |                              |  statement name                      |
//	  |-- Bind / Describe / Execute->|  plan bound to the portal; a portal  |
//	  |   / Close ...  (pipelined)   |  to be masked is described first     |
//	  |-- Sync --------------------->|---- the same, Sync ----------------->|
//	  |<-- responses matched to -----|<-- ParseComplete, BindComplete,      |
//	  |    the request queue         |    DataRow..., ReadyForQuery --------|
//	  |-- CancelRequest (new conn) ->|  proxy key -> real key ------------->|
//
// The text forwarded is Verdict.Forward, never the client's original bytes.
//
// # Messages
//
// Every frontend message type is handled on purpose (dispatch.go). Query
// and Parse are decided. Bind is relayed only for statements prepared
// through Parse (a statement created with SQL PREPARE has no plan and is
// refused); Execute only for portals bound through Bind (a cursor from SQL
// DECLARE is read with FETCH, which the rules decide by the cursor's
// DECLARE: cursors.go). Describe, Close, Sync
// and Flush are relayed. FunctionCall is refused (ErrorResponse 0A000 and
// ReadyForQuery). CopyData, CopyDone and CopyFail outside COPY are dropped,
// as the server drops them. Terminate ends the session. Anything else ends
// the session with FATAL 08P01.
//
// A refused extended-protocol message (Parse refused, Bind of an unknown
// statement, Execute of an unknown portal, strict audit failing) is replaced
// towards the backend by a Bind naming the reserved statement
// "dbfence: refused", which does not exist: the backend fails at the same
// point of the pipeline, rolls back the implicit transaction or marks the
// explicit one failed, and skips to Sync, exactly as for a real error. The
// proxy substitutes its own ErrorResponse for that failure and drops the
// client's messages until Sync, so client and backend agree on the state.
//
// # Matching responses to requests
//
// Every message sent to the backend that produces a response is queued
// (dispatch.go: pending). Backend messages are matched to the head of the
// queue; NoticeResponse, NotificationResponse and ParameterStatus may come
// at any point. After an ErrorResponse the requests up to the next Sync are
// dropped from the queue (and the statement and portal maps are restored to
// what the backend really holds). A message that does not fit the head
// request ends the session with FATAL 08P01: the pairing of results to plans
// can no longer be trusted. A Query may not arrive while extended messages
// await Sync. Once 256 requests await a response, the proxy sends its own
// Flush and relays what is answered so far, so a long pipeline (pgx batch,
// libpq pipeline mode) never stalls against full socket buffers; the queue
// is also bounded by Config.MaxPipeline.
//
// # Results
//
// Rows of a statement without plan Columns are relayed without decoding.
// With Columns, RowDescription gives each column's type OID and format;
// a DataRow is rebuilt with masked cells: text-like types (text, varchar,
// bpchar, name, json; jsonb in text format) are masked as text in either
// format (binary text is the bytes); other types take Config.MaskTyped's
// same-type value or NULL. A column count that disagrees with the plan
// refuses the result (ResultMismatch), as does, with Config.Origins, a
// column whose origin is not the predicted table and column. For the extended protocol the engine
// sends its own Describe of the portal before the Execute of a masked portal
// the client did not describe, and does not relay the answer.
//
// # Search path
//
// For a role with rules (Gate.Restricted) the engine keeps the session's
// search_path in rules.Session: it runs its own query (current_setting) on
// the backend between exchanges, never seen by the client, before the first
// statement and again after a statement that may have changed it (SET,
// RESET, DISCARD, or the end of a transaction that made one). While it is
// unknown (a pipeline is in flight, the transaction failed) the rules refuse
// unqualified names.
//
// # Approvals and budgets
//
// A text refused only for needing an approval runs, with Config.Approvals,
// under a valid approval for this user, database and statement shape (one
// use; a prepared statement approved once is bound once), its row cap set to
// the approved rows; otherwise a request is filed and named in the error.
// Rows of a plan with a Budget are counted against Config.Budgets, shared
// with the MySQL engine; the row beyond it ends the result like the row cap.
// A plan with a ModifyCap (a capped role's UPDATE or DELETE) runs, as a
// simple query on its own, inside a transaction the engine opens (or a
// savepoint in the client's own); the response is held back, and when the
// command tag counts more rows than the cap the change is rolled back and
// the client gets 54000. Prepared, multi-statement and RETURNING forms of a
// capped modification are refused.
//
// RowCap counts rows per statement (per portal across PortalSuspended); at
// cap+1 the client gets ErrorResponse 54000, the backend gets a
// CancelRequest, and the rest is read and dropped until ReadyForQuery.
// COPY TO STDOUT with no Columns and no RowCap is relayed as it is; with
// them (an approved export of a restricted role) each CopyData row is
// counted like a DataRow and its masked fields rewritten in the row's own
// text or CSV format (copyout.go); binary COPY, a custom NULL string or
// another ENCODING are then refused (0A000). COPY FROM STDIN relays the
// client's CopyData, CopyDone and CopyFail.
//
// # Side channels
//
// NoticeResponse, NotificationResponse, the application_name ParameterStatus
// and backend ErrorResponses can carry values (RAISE NOTICE, pg_notify,
// set_config, error texts quoting a value). They are relayed unchanged until
// the session becomes restricted (a verdict was for a role with rules, or
// carried a masker or a row cap);
// from then on notices and errors keep only severity and SQLSTATE, and
// notification payloads and application_name values are emptied.
// Config.RelaySideChannel lets the rules decide instead.
//
// Pinned parameters: a ParameterStatus reporting client_encoding other than
// UTF8 or standard_conforming_strings off ends the session with FATAL
// (22021 or 0A000): the analyser reads text as UTF8 with standard strings.
//
// # Buffers and ownership
//
// A message body returned by msgConn.readMessage is valid until the next
// read on that leg; the engine copies what it keeps (names, plans). Maskers
// append into the session's cell buffer and must not keep src or dst.
// Verdicts are kept by pointer for the life of the prepared statement and
// of the portals bound to it. The session owns both connections and closes
// them when ServeConn returns; the cancel key is removed from the registry
// at the same time.
//
// # Ending
//
// A session ends on Terminate, on a client or backend I/O error (a client
// that leaves with requests outstanding gets its backend query cancelled),
// on a protocol violation or pinned-parameter change (the client is told
// why with FATAL), or when the server drains: a session finishes the
// exchange in flight, and an idle one is woken and told 57P01.
//
// # Limits
//
// Origins of result columns are compared with the analyser's predictions
// only when Config.Origins is set (origins.go: table OID and attribute
// number resolved through a metadata connection per database, cached per
// table, forgotten after DDL); masking does not depend on it. Protocol 3.2 and GSSAPI/SSPI
// authentication are refused. Channel binding cannot cross the proxy:
// with TLS on both legs, a client that supports channel binding answers
// "y" to a server it believes lacks it and PostgreSQL refuses that as a
// downgrade; use channel_binding=disable or a plain backend leg. After a row-cap abort the
// backend may still run messages the client pipelined after the capped
// Execute before the next Sync; their responses are dropped.
package postgres
