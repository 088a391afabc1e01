package audit

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
)

// SyslogConfig configures the syslog forwarder.
type SyslogConfig struct {
	// Address is the collector's host:port (TCP). Required.
	Address string `yaml:"address"`
	// TLS wraps the connection in TLS (RFC 5425).
	TLS bool `yaml:"tls"`
	// CAFile is a PEM bundle to verify the collector; empty uses the system pool.
	CAFile string `yaml:"ca_file"`
	// ServerName overrides the name checked in the collector's certificate.
	ServerName string `yaml:"server_name"`
	// AppName is the RFC 5424 APP-NAME. Default "dbfence".
	AppName string `yaml:"app_name"`
	// Hostname is the RFC 5424 HOSTNAME. Default os.Hostname().
	Hostname string `yaml:"hostname"`
	// CursorFile records the last forwarded seq so that a restarted
	// forwarder resumes there. Default <dir>/syslog.cursor.
	CursorFile string `yaml:"cursor_file"`
	// RetryInterval is the wait between connection attempts. Default 1s.
	RetryInterval time.Duration `yaml:"retry_interval"`
	// ResendRecords: after a broken connection the forwarder re-sends up to
	// this many records before the failure, because plain TCP syslog has no
	// acknowledgements and the last writes may have been lost in flight.
	// Receivers deduplicate by the seq parameter. Default 1000.
	ResendRecords int `yaml:"resend_records"`
}

// SyslogForwarder sends the records of an audit directory to a syslog
// collector as RFC 5424 messages with octet-counting framing (RFC 6587 /
// RFC 5425). It reads the files, not the writer's queue, so it can never
// slow the writer down or lose a local record: while the collector is
// unreachable it waits, then catches up from the files. Each message
// carries the whole JSON line as MSG and [dbfence@32473 seq="N"] as
// structured data (32473 is the documentation enterprise number; change it
// with a registered one). Delivery is at least once.
type SyslogForwarder struct {
	dir    string
	cfg    SyslogConfig
	logger *zap.Logger
	tls    *tls.Config
	cancel context.CancelFunc
	done   chan struct{}
	err    error

	sent      atomic.Uint64
	lastSeq   atomic.Uint64
	connected atomic.Bool
}

// SyslogStats are the forwarder's counters.
type SyslogStats struct {
	Sent      uint64 // messages written to the collector (including re-sends)
	LastSeq   uint64 // seq of the last record written
	Connected bool   // a connection is currently open
}

// StartSyslog starts forwarding dir to cfg.Address from the seq after the
// one in the cursor file (from the beginning of the log if there is none).
// Close stops it.
func StartSyslog(dir string, cfg SyslogConfig, logger *zap.Logger) (*SyslogForwarder, error) {
	if cfg.Address == "" {
		return nil, errors.New("audit: syslog address is required")
	}
	if cfg.AppName == "" {
		cfg.AppName = "dbfence"
	}
	if cfg.Hostname == "" {
		cfg.Hostname, _ = os.Hostname()
	}
	if cfg.CursorFile == "" {
		cfg.CursorFile = filepath.Join(dir, "syslog.cursor")
	}
	if cfg.RetryInterval <= 0 {
		cfg.RetryInterval = time.Second
	}
	if cfg.ResendRecords <= 0 {
		cfg.ResendRecords = 1000
	}
	if logger == nil {
		logger = zap.NewNop()
	}
	f := &SyslogForwarder{dir: dir, cfg: cfg, logger: logger.Named("audit-syslog"), done: make(chan struct{})}
	if cfg.TLS {
		f.tls = &tls.Config{ServerName: cfg.ServerName, MinVersion: tls.VersionTLS12}
		if f.tls.ServerName == "" {
			f.tls.ServerName, _, _ = net.SplitHostPort(cfg.Address)
		}
		if cfg.CAFile != "" {
			pem, err := os.ReadFile(cfg.CAFile)
			if err != nil {
				return nil, fmt.Errorf("audit: syslog CA: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("audit: syslog CA %s: no certificates", cfg.CAFile)
			}
			f.tls.RootCAs = pool
		}
	}
	from, err := readCursor(cfg.CursorFile)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	f.cancel = cancel
	go f.run(ctx, from)
	return f, nil
}

// Close stops the forwarder and saves the cursor.
func (f *SyslogForwarder) Close() error {
	f.cancel()
	<-f.done
	return f.err
}

// Stats returns the counters.
func (f *SyslogForwarder) Stats() SyslogStats {
	return SyslogStats{Sent: f.sent.Load(), LastSeq: f.lastSeq.Load(), Connected: f.connected.Load()}
}

func readCursor(path string) (uint64, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("audit: syslog cursor: %w", err)
	}
	seq, err := strconv.ParseUint(strings.TrimSpace(string(data)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("audit: syslog cursor %s: %w", path, err)
	}
	return seq, nil
}

func writeCursor(path string, seq uint64) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(strconv.FormatUint(seq, 10)+"\n"), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// run forwards records with seq > after until ctx ends.
func (f *SyslogForwarder) run(ctx context.Context, after uint64) {
	defer close(f.done)
	var conn net.Conn
	defer func() {
		if conn != nil {
			conn.Close()
		}
		f.connected.Store(false)
		if err := writeCursor(f.cfg.CursorFile, after); err != nil {
			f.err = fmt.Errorf("audit: syslog cursor: %w", err)
		}
	}()
	var connFirst uint64 // first seq written on conn
	lastCursor := time.Now()
	for ctx.Err() == nil {
		r, err := NewReader(f.dir, ReadOptions{Follow: true, AfterSeq: after})
		if err != nil {
			f.logger.Error("audit syslog: open log", zap.Error(err))
			if !sleepCtx(ctx, f.cfg.RetryInterval) {
				return
			}
			continue
		}
		for ctx.Err() == nil {
			rec, line, err := r.Next(ctx)
			var le *LineError
			if errors.As(err, &le) {
				continue // not a record; Verify reports it
			}
			if err != nil {
				break
			}
			if rec.Seq <= after {
				continue
			}
			for conn == nil {
				if conn, err = f.dial(ctx); err != nil {
					f.logger.Warn("audit syslog: collector unreachable; will catch up from the files", zap.Error(err))
					if !sleepCtx(ctx, f.cfg.RetryInterval) {
						r.Close()
						return
					}
				}
				connFirst = rec.Seq
			}
			if _, err := conn.Write(frameSyslog(nil, &f.cfg, rec, line)); err != nil {
				f.logger.Warn("audit syslog: write failed; re-sending recent records", zap.Error(err))
				conn.Close()
				conn = nil
				f.connected.Store(false)
				// Re-send what may have been lost in flight on this connection.
				back := after - min(after, uint64(f.cfg.ResendRecords))
				after = max(back, connFirst-1)
				break
			}
			f.sent.Add(1)
			f.lastSeq.Store(rec.Seq)
			after = rec.Seq
			if time.Since(lastCursor) > time.Second {
				writeCursor(f.cfg.CursorFile, after)
				lastCursor = time.Now()
			}
		}
		r.Close()
	}
}

func (f *SyslogForwarder) dial(ctx context.Context) (net.Conn, error) {
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	var conn net.Conn
	var err error
	if f.tls != nil {
		conn, err = (&tls.Dialer{NetDialer: d, Config: f.tls}).DialContext(ctx, "tcp", f.cfg.Address)
	} else {
		conn, err = d.DialContext(ctx, "tcp", f.cfg.Address)
	}
	if err == nil {
		f.connected.Store(true)
	}
	return conn, err
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// syslog facility 13 is "log audit".
const syslogFacilityAudit = 13

// frameSyslog appends one octet-counted RFC 5424 message for rec to dst.
func frameSyslog(dst []byte, cfg *SyslogConfig, rec *Record, line []byte) []byte {
	severity := 5 // notice
	if rec.Decision == "deny" || rec.Type == TypeAuthFail || rec.Type == TypeAuditRecover || rec.Type == TypeAuditDropped {
		severity = 4 // warning
	}
	var msg []byte
	msg = append(msg, '<')
	msg = strconv.AppendInt(msg, syslogFacilityAudit*8+int64(severity), 10)
	msg = append(msg, ">1 "...)
	msg = rec.Time.AppendFormat(msg, "2006-01-02T15:04:05.000000Z07:00")
	msg = append(msg, ' ')
	msg = appendSyslogName(msg, cfg.Hostname, 255)
	msg = append(msg, ' ')
	msg = appendSyslogName(msg, cfg.AppName, 48)
	msg = append(msg, ' ')
	msg = strconv.AppendInt(msg, int64(pid), 10)
	msg = append(msg, ' ')
	msg = appendSyslogName(msg, string(rec.Type), 32)
	msg = append(msg, ` [dbfence@32473 seq="`...)
	msg = strconv.AppendUint(msg, rec.Seq, 10)
	msg = append(msg, `"] `...)
	msg = append(msg, line...)
	dst = strconv.AppendInt(dst, int64(len(msg)), 10)
	dst = append(dst, ' ')
	return append(dst, msg...)
}

// appendSyslogName appends s as an RFC 5424 header field: printable ASCII
// without spaces, at most max bytes, "-" when empty.
func appendSyslogName(dst []byte, s string, max int) []byte {
	n := 0
	for i := 0; i < len(s) && n < max; i++ {
		if c := s[i]; c > 32 && c < 127 {
			dst = append(dst, c)
			n++
		}
	}
	if n == 0 {
		dst = append(dst, '-')
	}
	return dst
}

var _ io.Closer = (*SyslogForwarder)(nil)
