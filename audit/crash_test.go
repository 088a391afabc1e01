package audit

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
)

const crashChildEnv = "DBFENCE_AUDIT_CRASH_CHILD_DIR"

// crashChild runs in the re-executed test binary: it writes records in
// strict mode from several goroutines and prints "acked N" after each Record
// returns, until it is killed.
func crashChild() {
	dir := os.Getenv(crashChildEnv)
	k, err := LoadHexKey(dir+".hmac", 16, 0)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	priv, err := LoadSM2PrivateKey(dir + ".sm2")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	l, err := Open(Config{Dir: dir, Mode: ModeStrict, Keys: &Keys{HMAC: k, SM2: priv}, RotateBytes: 64 << 10, CheckpointEvery: 50}, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := g; ; i += 4 {
				if err := l.Record(statementEvent(i)); err != nil {
					fmt.Fprintln(os.Stderr, "record:", err)
					os.Exit(4)
				}
				fmt.Fprintf(os.Stdout, "acked %d\n", i)
			}
		})
	}
	wg.Wait()
}

// TestCrashKeepsAcknowledgedRecords SIGKILLs a writer in strict mode and
// checks that every record whose Record returned is in the log, and that the
// log verifies once a new writer has recovered it.
func TestCrashKeepsAcknowledgedRecords(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	base := t.TempDir()
	dir := base + "/log"
	keyFiles := t.TempDir()
	if _, err := WriteKeyFiles(testKeys(t), keyFiles); err != nil {
		t.Fatal(err)
	}
	copyFile(t, keyFiles+"/"+HMACKeyFileName, dir+".hmac")
	copyFile(t, keyFiles+"/"+SM2PrivateKeyFileName, dir+".sm2")

	for round := range 3 { // each round crashes a writer that recovered the previous crash
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		acked := map[int]bool{}
		sc := bufio.NewScanner(stdout)
		for sc.Scan() && len(acked) < 300 {
			if n, ok := strings.CutPrefix(sc.Text(), "acked "); ok {
				i, _ := strconv.Atoi(n)
				acked[i] = true
			}
		}
		cmd.Process.Signal(syscall.SIGKILL)
		// Acks printed before the kill but not yet read still count.
		rest, _ := io.ReadAll(stdout)
		for _, line := range strings.Split(string(rest), "\n") {
			if n, ok := strings.CutPrefix(line, "acked "); ok {
				i, _ := strconv.Atoi(n)
				acked[i] = true
			}
		}
		cmd.Wait()
		if len(acked) < 300 {
			t.Fatalf("round %d: child acked only %d records; stderr: %s", round, len(acked), stderr.String())
		}

		// Recover with a new writer, close it, and verify everything.
		l := openTestLog(t, Config{Dir: dir, Keys: testKeys(t)})
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		mustVerify(t, dir)
		r, err := NewReader(dir, ReadOptions{Filter: Filter{Type: TypeStatement}})
		if err != nil {
			t.Fatal(err)
		}
		for {
			rec, _, err := r.Next(context.Background())
			if err == io.EOF {
				break
			}
			if err != nil {
				continue // the torn line the crash left
			}
			delete(acked, int(rec.StatementID))
		}
		r.Close()
		starts := 0
		for _, rec := range readAllSkippingDebris(t, dir) {
			if rec.Type == TypeAuditStart && rec.Detail["previous_shutdown"] == "unclean" {
				starts++
			}
		}
		if starts != round+1 {
			t.Fatalf("round %d: %d unclean restarts recorded, want %d", round, starts, round+1)
		}
		if len(acked) > 0 {
			t.Fatalf("round %d: %d acknowledged records missing from the log, e.g. %v", round, len(acked), firstKey(acked))
		}
	}
}

func firstKey(m map[int]bool) int {
	for k := range m {
		return k
	}
	return -1
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o600); err != nil {
		t.Fatal(err)
	}
}
