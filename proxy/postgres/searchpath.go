package postgres

import (
	"go.uber.org/zap"

	"github.com/dbfence/dbfence/fault"
	"github.com/dbfence/dbfence/rules"
	"github.com/dbfence/dbfence/rules/pgsql"
)

// searchPathQuery reads the session's search_path as the server will apply
// it. It is sent by the proxy itself, between the client's exchanges, and
// its response never reaches the client.
const searchPathQuery = "SELECT pg_catalog.current_setting('search_path')"

// Restricted sessions resolve unqualified table names through the
// search_path, which no message reports: it comes from the server's
// configuration, ALTER DATABASE/ROLE ... SET, startup options, SET, RESET,
// DISCARD, and transactions that roll a SET back. The proxy therefore asks
// the server, once after startup and again before the next statement
// whenever one that may have changed it was forwarded (and, for a SET made
// inside a transaction, after the transaction ends). While it is not known
// (a pipeline is in flight, or the transaction has failed) the rules refuse
// unqualified names rather than guess.

// noteSessionChange marks the search_path unknown after forwarding a
// statement that may change it.
func (s *session) noteSessionChange(sv *rules.StatementVerdict) {
	if sv == nil || !sv.ChangesSession {
		return
	}
	if sv.Kind == "transaction" {
		// Only a transaction that made a SET can undo one.
		if !s.setInTx {
			return
		}
		s.setInTx = false
	} else {
		s.setInTx = true
	}
	s.rs.SearchPathKnown = false
}

// ensureSearchPath reads the search_path when a restricted session needs
// it and the backend is between exchanges. A failure to read it leaves it
// unknown (fail closed); only a lost backend is an error.
func (s *session) ensureSearchPath() error {
	if s.rs.SearchPathKnown || s.queued() > 0 || s.txStatus == 'E' || !s.e.cfg.Gate.Restricted(s.rs.User) {
		return nil
	}
	value, err := s.internalValue(searchPathQuery)
	if err != nil {
		return err
	}
	if value == nil {
		return nil
	}
	s.rs.SearchPath = pgsql.ParseSearchPath(*value)
	s.rs.SearchPathKnown = true
	if s.txStatus == 'I' {
		s.setInTx = false
	}
	return nil
}

// internalValue runs a one-value query of the proxy's own on the backend,
// outside any client exchange, and returns its value (nil when the server
// answered with an error or no row). Asynchronous messages met on the way
// are handled as usual; nothing else reaches the client.
func (s *session) internalValue(query string) (*string, error) {
	value, _, err := s.internalQuery(query)
	return value, err
}

// internalQuery runs a query of the proxy's own (see internalValue) and
// returns its first value and, when the server refused it, a copy of its
// ErrorResponse body.
func (s *session) internalQuery(query string) (value *string, errBody []byte, err error) {
	err = s.ownExchange(query, func(typ byte, body []byte) error {
		switch typ {
		case msgRowDescription, msgCommandComplete, msgEmptyQuery:
		case msgErrorResponse:
			code, msg := errorFields(body)
			s.log.Warn("the proxy's own query failed", zap.String("query", query), zap.String("sqlstate", code), zap.String("message", msg))
			errBody = append([]byte(nil), body...)
		case msgDataRow:
			if v, ok := firstCell(body); ok {
				value = &v
			}
		default:
			return fault.New(fault.ProtocolViolation, "dbfence: unexpected message %q from the backend during the proxy's own query; session ended", typ)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return value, errBody, nil
}

// ownExchange sends one Query message the client did not send and reads
// the backend's answer up to ReadyForQuery, which sets the transaction
// status and is not relayed. Asynchronous messages met on the way are
// handled as usual; every other message goes to handle, which decides
// what reaches the client.
func (s *session) ownExchange(query string, handle func(typ byte, body []byte) error) error {
	s.out = append(append(s.out[:0], query...), 0)
	if err := s.toBackendFlush(msgQuery, s.out); err != nil {
		return err
	}
	for {
		typ, body, err := s.fromBackend()
		if err != nil {
			return err
		}
		switch typ {
		case msgNoticeResponse, msgNotification, msgParameterStatus:
			if err := s.asyncMessage(typ, body); err != nil {
				return err
			}
		case msgReadyForQuery:
			if len(body) != 1 {
				return fault.New(fault.ProtocolViolation, "dbfence: malformed ReadyForQuery from the backend")
			}
			s.txStatus = body[0]
			return nil
		default:
			if err := handle(typ, body); err != nil {
				return err
			}
		}
	}
}

// firstCell decodes the first column of a text-format DataRow.
func firstCell(body []byte) (string, bool) {
	if len(body) < 6 {
		return "", false
	}
	n := int32(uint32(body[2])<<24 | uint32(body[3])<<16 | uint32(body[4])<<8 | uint32(body[5]))
	if n < 0 || int(n) > len(body)-6 {
		return "", false
	}
	return string(body[6 : 6+n]), true
}
