// Package mysql is dbfence's MySQL/MariaDB protocol engine. It knows the
// wire protocol and nothing of SQL: every statement text goes to a Gate (the
// rules engine) and comes back as a rules.Verdict saying what to forward,
// what to refuse and how each result column is treated.
//
// # One session
//
// Each client connection gets one goroutine and one dedicated backend
// connection; the goroutine runs request → response, so there are no
// hand-offs between goroutines on the hot path. Frames are read through a
// buffered reader and written into a buffer flushed once per response (or
// every 32 KiB of a long result).
//
//	client                       dbfence                         backend
//	  |                             |---------- TCP connect ---------->|
//	  |                             |<--------- HandshakeV10 ----------|
//	  |<- HandshakeV10 (caps cut) --|  compression, session tracking,   |
//	  |                             |  DEPRECATE_EOF, query attributes, |
//	  |                             |  MariaDB extended caps removed    |
//	  |-- [SSLRequest + TLS] ------>|                                   |
//	  |-- HandshakeResponse41 ----->|  Gate.Admit(user, address)        |
//	  |                             |--- [SSLRequest + TLS] ----------->|
//	  |                             |--- HandshakeResponse41 ---------->|
//	  |<======== auth exchange relayed (AuthSwitch, AuthMoreData) ====>|
//	  |                             |   caching_sha2 full auth from a   |
//	  |                             |   TLS client to a plain backend:  |
//	  |                             |   the proxy does the RSA step     |
//	  |                             |<--------------- OK ---------------|
//	  |                             |--- SELECT @@sql_mode, charset,    |
//	  |                             |    DATABASE()  (session state) -->|
//	  |<------------ OK ------------|                                   |
//	  |-- COM_QUERY text ---------->|  Gate.CheckMySQL(session, text)   |
//	  |<-- ERR 1064/1142/1143/... --|  refused: nothing is sent         |
//	  |                             |--- COM_QUERY Verdict.Forward ---->|
//	  |                             |<-- columns, rows, EOF (per stmt) -|
//	  |<-- rows (masked, capped) ---|  column origins cross-checked     |
//
// The text forwarded is Verdict.Forward, the exact text the analyser read
// (executable comments resolved as the server reads them), never the
// client's original bytes.
//
// # Commands
//
// Every command byte is handled on purpose (dispatch.go): COM_QUERY and
// COM_STMT_PREPARE are decided; COM_STMT_EXECUTE and COM_STMT_FETCH apply the
// plan decided at PREPARE to binary rows; COM_INIT_DB and COM_FIELD_LIST are
// decided as the USE and SHOW COLUMNS they are; COM_CHANGE_USER is admitted
// again and re-authenticated, and the session state is re-read;
// COM_RESET_CONNECTION forgets prepared statements and re-reads state;
// COM_PING, COM_STATISTICS, COM_PROCESS_KILL, COM_SET_OPTION and
// COM_STMT_SEND_LONG_DATA/RESET/CLOSE are relayed; replication commands and
// anything else are refused with error 1047.
//
// # Results
//
// A result with no planned treatment is relayed frame by frame without
// decoding rows. With a plan, the column definitions are held until each
// column's origin (org_table, org_name) matches the analyser's prediction,
// and rows are rebuilt with masked cells: string cells are masked as text;
// other types take Config.MaskTyped's type-correct form or NULL. A row cap
// or a mismatch ends the client's view of the response with an error and
// the rest is read and dropped (after KILL QUERY, when configured).
//
// # Ending
//
// A session ends on COM_QUIT, on a client or backend I/O error (a client that
// leaves mid-result gets its backend query killed), on a protocol violation
// (the client is told why), or when the server drains: a session finishes
// its command in flight, and an idle one is woken and closed.
package mysql
