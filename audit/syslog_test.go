package audit

import (
	"bufio"
	"crypto/tls"
	"encoding/pem"
	"io"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// collector is a test syslog server that records the seqs it received.
type collector struct {
	t     *testing.T
	tls   *tls.Config
	addr  string
	mu    sync.Mutex
	seqs  map[uint64]int
	msgs  []string
	ln    net.Listener
	conns []net.Conn
}

var seqParam = regexp.MustCompile(`\[dbfence@32473 seq="(\d+)"\] `)

func (c *collector) start() {
	c.t.Helper()
	addr := c.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	var ln net.Listener
	var err error
	for range 50 { // the port may linger briefly after a stop
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		c.t.Fatal(err)
	}
	if c.tls != nil {
		ln = tls.NewListener(ln, c.tls)
	}
	c.ln, c.addr = ln, ln.Addr().String()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			c.mu.Lock()
			c.conns = append(c.conns, conn)
			c.mu.Unlock()
			go c.serve(conn)
		}
	}()
}

func (c *collector) serve(conn net.Conn) {
	br := bufio.NewReader(conn)
	for {
		lenText, err := br.ReadString(' ')
		if err != nil {
			return
		}
		n, err := strconv.Atoi(strings.TrimSpace(lenText))
		if err != nil || n <= 0 || n > 1<<20 {
			c.t.Errorf("bad octet count %q", lenText)
			return
		}
		msg := make([]byte, n)
		if _, err := io.ReadFull(br, msg); err != nil {
			return
		}
		m := seqParam.FindSubmatch(msg)
		if m == nil {
			c.t.Errorf("message without seq: %s", msg)
			return
		}
		seq, _ := strconv.ParseUint(string(m[1]), 10, 64)
		c.mu.Lock()
		c.seqs[seq]++
		c.msgs = append(c.msgs, string(msg))
		c.mu.Unlock()
	}
}

func (c *collector) stop() {
	c.ln.Close()
	c.mu.Lock()
	for _, conn := range c.conns {
		conn.Close()
	}
	c.conns = nil
	c.mu.Unlock()
}

func (c *collector) hasAll(last uint64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for s := uint64(1); s <= last; s++ {
		if c.seqs[s] == 0 {
			return false
		}
	}
	return true
}

func TestSyslogForwarderCatchesUp(t *testing.T) {
	tests := []struct {
		desc string
		tls  bool
	}{
		{desc: "tcp"},
		{desc: "tls"},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			dir := t.TempDir()
			col := &collector{t: t, seqs: map[uint64]int{}}
			scfg := SyslogConfig{RetryInterval: 20 * time.Millisecond, Hostname: "proxy-1"}
			if tc.tls {
				srv := httptest.NewUnstartedServer(nil)
				srv.StartTLS()
				col.tls = srv.TLS
				ca := filepath.Join(t.TempDir(), "ca.pem")
				os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600)
				scfg.TLS, scfg.CAFile, scfg.ServerName = true, ca, "example.com"
				srv.Close()
			}
			col.start()
			scfg.Address = col.addr
			l := openTestLog(t, testConfig(t, dir))
			fwd, err := StartSyslog(dir, scfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			writeN(t, l, 1, 10)
			waitFor(t, "first records forwarded", func() bool { return col.hasAll(12) })

			col.stop() // outage: the local log must not notice
			writeN(t, l, 11, 10)
			if !l.Health().OK {
				t.Fatal("collector outage degraded the local log")
			}
			time.Sleep(50 * time.Millisecond)
			col.start()
			waitFor(t, "catch-up after the outage", func() bool { return col.hasAll(22) })
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "close checkpoint forwarded", func() bool { return col.hasAll(24) })
			if err := fwd.Close(); err != nil {
				t.Fatal(err)
			}
			if cur, _ := readCursor(filepath.Join(dir, "syslog.cursor")); cur != 24 {
				t.Errorf("cursor %d, want 24", cur)
			}
			col.mu.Lock()
			first := col.msgs[0]
			col.mu.Unlock()
			if !strings.HasPrefix(first, "<109>1 ") || !strings.Contains(first, " proxy-1 dbfence ") || !strings.HasSuffix(first, `"}`) {
				t.Errorf("message format: %s", first)
			}
			// A restarted forwarder resumes after the cursor: nothing is re-sent.
			col.mu.Lock()
			before := len(col.msgs)
			col.mu.Unlock()
			fwd2, err := StartSyslog(dir, scfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(100 * time.Millisecond)
			fwd2.Close()
			col.mu.Lock()
			after := len(col.msgs)
			col.mu.Unlock()
			if after != before {
				t.Errorf("restart re-sent %d messages", after-before)
			}
			col.stop()
		})
	}
}

// TestSyslogFromConfig: Open starts the forwarder and Close stops it.
func TestSyslogFromConfig(t *testing.T) {
	col := &collector{t: t, seqs: map[uint64]int{}}
	col.start()
	defer col.stop()
	dir := t.TempDir()
	cfg := testConfig(t, dir)
	cfg.Syslog = &SyslogConfig{Address: col.addr, RetryInterval: 10 * time.Millisecond}
	l := openTestLog(t, cfg)
	writeN(t, l, 1, 3)
	waitFor(t, "records forwarded", func() bool { return col.hasAll(5) })
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if s := l.syslog.Stats(); s.Sent < 5 {
		t.Fatalf("stats %+v", s)
	}
}
