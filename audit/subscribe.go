package audit

import (
	"crypto/subtle"
	"net/http"
	"sync"

	"github.com/dbfence/dbfence/audit/internal/sm3"
)

// Filter selects records; an empty field matches everything.
type Filter struct {
	// User matches Event.User exactly.
	User string
	// Decision matches Event.Decision exactly.
	Decision string
	// Type matches Event.Type exactly.
	Type EventType
	// SessionID matches Event.SessionID exactly.
	SessionID string
}

func (f *Filter) match(m *recordMeta) bool {
	return (f.User == "" || f.User == m.user) &&
		(f.Decision == "" || f.Decision == m.decision) &&
		(f.Type == "" || f.Type == m.typ) &&
		(f.SessionID == "" || f.SessionID == m.session)
}

// Match reports whether r passes the filter.
func (f *Filter) Match(r *Record) bool {
	return f.match(&recordMeta{typ: r.Type, user: r.User, decision: r.Decision, session: r.SessionID})
}

type subscriber struct {
	filter Filter
	mu     sync.Mutex // serializes delivery against cancel
	ch     chan []byte
	closed bool
}

// Subscribe delivers every record written from now on that matches f, as
// its complete JSON line including the newline; each slice is owned by the
// receiver. Lines are sent after they are written (and, in strict mode,
// fsynced). A subscriber that does not keep up loses lines (counted in
// Stats.SubscriberDrops); the writer never waits for it. buf is the channel
// capacity (minimum 1). The returned function cancels the subscription and
// closes the channel; Close also closes it. Both are safe to call more than
// once.
func (l *Log) Subscribe(f Filter, buf int) (<-chan []byte, func()) {
	s := &subscriber{filter: f, ch: make(chan []byte, max(buf, 1))}
	l.subMu.Lock()
	l.mu.RLock()
	closed := l.closed
	l.mu.RUnlock()
	if closed {
		l.subMu.Unlock()
		close(s.ch)
		return s.ch, func() {}
	}
	var next []*subscriber
	if cur := l.subs.Load(); cur != nil {
		next = append(next, *cur...)
	}
	next = append(next, s)
	l.subs.Store(&next)
	l.subMu.Unlock()
	return s.ch, func() { l.unsubscribe(s) }
}

func (l *Log) unsubscribe(s *subscriber) {
	l.subMu.Lock()
	if cur := l.subs.Load(); cur != nil {
		next := make([]*subscriber, 0, len(*cur))
		for _, o := range *cur {
			if o != s {
				next = append(next, o)
			}
		}
		l.subs.Store(&next)
	}
	l.subMu.Unlock()
	s.close()
}

func (s *subscriber) close() {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.ch)
	}
	s.mu.Unlock()
}

func (l *Log) closeSubscribers() {
	l.subMu.Lock()
	cur := l.subs.Load()
	l.subs.Store(nil)
	l.subMu.Unlock()
	if cur != nil {
		for _, s := range *cur {
			s.close()
		}
	}
}

// publish offers the lines of the last write to subscribers.
func (w *writer) publish() {
	subs := w.l.subs.Load()
	if subs == nil || len(*subs) == 0 {
		return
	}
	for _, ref := range w.lines {
		for _, s := range *subs {
			if !s.filter.match(&ref.meta) {
				continue
			}
			line := append([]byte(nil), w.buf[ref.start:ref.end]...)
			s.mu.Lock()
			if !s.closed {
				select {
				case s.ch <- line:
				default:
					w.l.stats.subscriberDrops.Add(1)
				}
			}
			s.mu.Unlock()
		}
	}
}

// StreamHandler serves the live record stream as NDJSON to clients that
// present "Authorization: Bearer <token>" (compared in constant time); others
// get 401, and an empty token refuses everyone. Query parameters user,
// decision, type and session_id filter the stream. The response ends when
// the client goes away or the log closes.
func (l *Log) StreamHandler(token string) http.Handler {
	want := sm3.Sum([]byte("Bearer " + token))
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		got := sm3.Sum([]byte(r.Header.Get("Authorization")))
		if token == "" || subtle.ConstantTimeCompare(want[:], got[:]) != 1 {
			rw.Header().Set("WWW-Authenticate", `Bearer realm="dbfence-audit"`)
			http.Error(rw, "unauthorized", http.StatusUnauthorized)
			return
		}
		if r.Method != http.MethodGet {
			http.Error(rw, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		q := r.URL.Query()
		f := Filter{User: q.Get("user"), Decision: q.Get("decision"), Type: EventType(q.Get("type")), SessionID: q.Get("session_id")}
		lines, cancel := l.Subscribe(f, 1024)
		defer cancel()
		rw.Header().Set("Content-Type", "application/x-ndjson")
		rw.Header().Set("Cache-Control", "no-store")
		rw.WriteHeader(http.StatusOK)
		flusher, _ := rw.(http.Flusher)
		if flusher != nil {
			flusher.Flush()
		}
		for {
			select {
			case <-r.Context().Done():
				return
			case line, ok := <-lines:
				if !ok {
					return
				}
				if _, err := rw.Write(line); err != nil {
					return
				}
				for more := true; more; {
					select {
					case line, ok := <-lines:
						if !ok {
							more = false
							break
						}
						if _, err := rw.Write(line); err != nil {
							return
						}
					default:
						more = false
					}
				}
				if flusher != nil {
					flusher.Flush()
				}
			}
		}
	})
}
