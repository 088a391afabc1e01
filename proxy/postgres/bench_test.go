package postgres

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/dbfence/dbfence/rules"
)

var tpsRE = regexp.MustCompile(`tps = ([0-9.]+)`)
var txRE = regexp.MustCompile(`number of transactions actually processed: ([0-9]+)`)

// runPgbench runs pgbench -S against addr and returns tps and transactions.
func runPgbench(t *testing.T, addr, mode string, clients int, args ...string) (float64, int) {
	t.Helper()
	host, port, _ := strings.Cut(addr, ":")
	all := append([]string{"-n", "-S", "-M", mode, "-c", strconv.Itoa(clients), "-j", "2",
		"-h", host, "-p", port, "-U", "postgres", testDB}, args...)
	out, err := exec.Command("pgbench", all...).CombinedOutput()
	if err != nil {
		t.Fatalf("pgbench %v: %v\n%s", all, err, out)
	}
	m, n := tpsRE.FindSubmatch(out), txRE.FindSubmatch(out)
	if m == nil || n == nil {
		t.Fatalf("pgbench output: %s", out)
	}
	tps, _ := strconv.ParseFloat(string(m[1]), 64)
	tx, _ := strconv.Atoi(string(n[1]))
	return tps, tx
}

func setupPgbench(t *testing.T) {
	setupTestDB(t)
	if _, err := exec.LookPath("pgbench"); err != nil {
		t.Skip("pgbench not installed")
	}
	c := connect(t, backendAddr(), "postgres", "", testDB, pgx.QueryExecModeSimpleProtocol)
	var n int
	_ = c.QueryRow(context.Background(), "SELECT count(*) FROM pg_tables WHERE tablename = 'pgbench_accounts'").Scan(&n)
	if n == 0 {
		host, port, _ := strings.Cut(backendAddr(), ":")
		if out, err := exec.Command("pgbench", "-i", "-s", "1", "-h", host, "-p", port, "-U", "postgres", testDB).CombinedOutput(); err != nil {
			t.Fatalf("pgbench -i: %v\n%s", err, out)
		}
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestPgbenchThroughProxy runs pgbench -S in every query mode through the
// engine. With DBFENCE_PGBENCH_SECONDS set it alternates direct and proxied
// rounds and logs the throughput ratio and the proxy's CPU per transaction.
func TestPgbenchThroughProxy(t *testing.T) {
	setupPgbench(t)
	addr, _ := startProxy(t, passGate{}, func(c *Config) { c.Log = nil })
	secs := os.Getenv("DBFENCE_PGBENCH_SECONDS")
	modes := []string{"simple", "extended", "prepared"}
	if m := os.Getenv("DBFENCE_PGBENCH_MODES"); m != "" {
		modes = strings.Split(m, ",")
	}
	for _, mode := range modes {
		if secs == "" {
			if _, tx := runPgbench(t, addr, mode, 4, "-t", "200"); tx != 800 {
				t.Errorf("%s: %d transactions", mode, tx)
			}
			continue
		}
		var direct, proxied, bouncer []float64
		var cpu time.Duration
		var txs int
		pgb := os.Getenv("DBFENCE_PGBOUNCER") // optional PgBouncer address for the same rounds
		for range 3 {
			d, _ := runPgbench(t, backendAddr(), mode, 8, "-T", secs)
			c0 := cpuTime()
			p, tx := runPgbench(t, addr, mode, 8, "-T", secs)
			cpu += cpuTime() - c0
			txs += tx
			direct, proxied = append(direct, d), append(proxied, p)
			if pgb != "" {
				b, _ := runPgbench(t, pgb, mode, 8, "-T", secs)
				bouncer = append(bouncer, b)
			}
		}
		ratio := func(xs []float64) []string {
			var out []string
			for i := range xs {
				out = append(out, fmt.Sprintf("%.2f", xs[i]/direct[i]))
			}
			return out
		}
		d1, _ := runPgbench(t, backendAddr(), mode, 1, "-T", secs)
		p1, _ := runPgbench(t, addr, mode, 1, "-T", secs)
		t.Logf("pgbench -S -M %s, 1 client: mean latency direct %.1f µs, dbfence %.1f µs (+%.1f µs)", mode, 1e6/d1, 1e6/p1, 1e6/p1-1e6/d1)
		t.Logf("pgbench -S -M %s, 8 clients: direct %.0f tps; dbfence/direct %v; pgbouncer/direct %v; dbfence CPU %.1f µs/tx",
			mode, direct, ratio(proxied), ratio(bouncer), float64(cpu.Microseconds())/float64(txs))
	}
}

func BenchmarkDataRow(b *testing.B) {
	dr, _ := (&pgproto3.DataRow{Values: [][]byte{[]byte("12345"), []byte("张三"), []byte("110101198705064512"), []byte("1987-05-06")}}).Encode(nil)
	body := dr[5:]
	cols := []column{{typeOID: 23}, {typeOID: 25}, {typeOID: 1043}, {typeOID: 1082}}
	plan := []rules.ColumnPlan{{}, {Masker: starMasker{}}, {Masker: starMasker{}}, {}}
	s := &session{e: NewEngine(Config{})}
	b.Run("masked", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := s.maskRow(body, plan, cols); !ok {
				b.Fatal("mask failed")
			}
		}
	})
}
