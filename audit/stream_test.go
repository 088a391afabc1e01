package audit

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestSubscribe(t *testing.T) {
	dir := t.TempDir()
	l := openTestLog(t, testConfig(t, dir))
	bob, cancelBob := l.Subscribe(Filter{User: "bob"}, 16)
	slow, _ := l.Subscribe(Filter{}, 1) // never read
	for i := range 6 {
		e := statementEvent(i)
		if i%2 == 1 {
			e.User = "bob"
		}
		if err := l.Record(e); err != nil {
			t.Fatal(err)
		}
	}
	for i := 1; i < 6; i += 2 {
		select {
		case line := <-bob:
			var r Record
			if err := json.Unmarshal(line, &r); err != nil || r.User != "bob" || r.StatementID != uint64(i) {
				t.Fatalf("got %s (%v)", line, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no line for bob")
		}
	}
	if l.Stats().SubscriberDrops == 0 {
		t.Error("slow subscriber drops not counted")
	}
	cancelBob()
	cancelBob() // idempotent
	if _, ok := <-bob; ok {
		t.Error("channel open after cancel")
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	for range slow {
	}
}

func TestStreamHandler(t *testing.T) {
	dir := t.TempDir()
	l := openTestLog(t, testConfig(t, dir))
	srv := httptest.NewServer(l.StreamHandler("s3cret"))
	defer srv.Close()
	tests := []struct {
		desc, auth string
		want       int
	}{
		{desc: "no token", auth: "", want: http.StatusUnauthorized},
		{desc: "wrong token", auth: "Bearer s3cre", want: http.StatusUnauthorized},
		{desc: "wrong scheme", auth: "Basic s3cret", want: http.StatusUnauthorized},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			req, _ := http.NewRequest("GET", srv.URL, nil)
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
	empty := httptest.NewRecorder()
	req0 := httptest.NewRequest("GET", "/", nil)
	req0.Header.Set("Authorization", "Bearer ")
	l.StreamHandler("").ServeHTTP(empty, req0)
	if empty.Code != http.StatusUnauthorized {
		t.Fatalf("empty token served: %d", empty.Code)
	}

	req, _ := http.NewRequest("GET", srv.URL+"?user=bob&decision=mask&type=statement", nil)
	req.Header.Set("Authorization", "Bearer s3cret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("status %d type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	// The subscription exists once the headers arrived.
	for i := range 4 {
		e := statementEvent(i)
		if i >= 2 {
			e.User = "bob"
		}
		if err := l.Record(e); err != nil {
			t.Fatal(err)
		}
	}
	sc := bufio.NewScanner(resp.Body)
	for want := uint64(2); want < 4; want++ {
		if !sc.Scan() {
			t.Fatalf("stream ended: %v", sc.Err())
		}
		var r Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil || r.User != "bob" || r.StatementID != want {
			t.Fatalf("got %s (%v)", sc.Bytes(), err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if sc.Scan() {
		t.Fatalf("unexpected line after close: %s", sc.Bytes())
	}
}

// TestReaderFollowAcrossRotation follows a log while it rotates.
func TestReaderFollowAcrossRotation(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, dir)
	cfg.RotateBytes = 4096
	l := openTestLog(t, cfg)
	r, err := NewReader(dir, ReadOptions{Follow: true, PollInterval: 5 * time.Millisecond, Filter: Filter{Type: TypeStatement}})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	done := make(chan error, 1)
	go func() {
		for i := 1; i <= 40; i++ {
			if err := l.Record(statementEvent(i)); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for want := uint64(1); want <= 40; want++ {
		rec, _, err := r.Next(ctx)
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		if rec.StatementID != want {
			t.Fatalf("statement %d, want %d", rec.StatementID, want)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := len(logFiles(t, dir)); n < 3 {
		t.Fatalf("only %d files: no rotation to follow", n)
	}
	l.Close()
	short, cancel2 := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel2()
	if _, _, err := r.Next(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Next after the end = %v, want the context error", err)
	}
}

func TestReaderFilters(t *testing.T) {
	dir := t.TempDir()
	clock := newFakeClock()
	cfg := testConfig(t, dir)
	cfg.Now = clock.Now
	l := openTestLog(t, cfg)
	writeN(t, l, 1, 3)
	clock.Advance(time.Hour)
	mid := clock.Now()
	e := statementEvent(4)
	e.Decision, e.User = "deny", "carol"
	l.Record(e)
	writeN(t, l, 5, 2)
	l.Close()
	tests := []struct {
		desc string
		opts ReadOptions
		want []uint64 // statement ids
	}{
		{desc: "all statements", opts: ReadOptions{Filter: Filter{Type: TypeStatement}}, want: []uint64{1, 2, 3, 4, 5, 6}},
		{desc: "since", opts: ReadOptions{Since: mid, Filter: Filter{Type: TypeStatement}}, want: []uint64{4, 5, 6}},
		{desc: "decision", opts: ReadOptions{Filter: Filter{Decision: "deny"}}, want: []uint64{4}},
		{desc: "user", opts: ReadOptions{Filter: Filter{User: "carol"}}, want: []uint64{4}},
		{desc: "session", opts: ReadOptions{Filter: Filter{SessionID: "s5", Type: TypeStatement}}, want: []uint64{5}},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			r, err := NewReader(dir, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			var got []uint64
			for {
				rec, _, err := r.Next(context.Background())
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, rec.StatementID)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			}
		})
	}
}

// TestReaderSkipsFiles: AfterSeq and LastFiles start reading late in a
// rotated log.
func TestReaderSkipsFiles(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, dir)
	cfg.RotateBytes = 4096
	l := openTestLog(t, cfg)
	writeN(t, l, 1, 40)
	l.Close()
	files, err := ListFiles(dir)
	if err != nil || len(files) < 5 {
		t.Fatalf("%d files, %v", len(files), err)
	}
	tests := []struct {
		desc      string
		opts      ReadOptions
		wantFirst uint64 // seq of the first record returned
	}{
		{desc: "after seq 30", opts: ReadOptions{AfterSeq: 30}, wantFirst: 31},
		{desc: "after seq 0", opts: ReadOptions{}, wantFirst: 1},
		{desc: "last file", opts: ReadOptions{LastFiles: 1}},
		{desc: "more last files than exist", opts: ReadOptions{LastFiles: 1000}, wantFirst: 1},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			r, err := NewReader(dir, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			rec, _, err := r.Next(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantFirst != 0 && rec.Seq != tc.wantFirst {
				t.Fatalf("first seq %d, want %d", rec.Seq, tc.wantFirst)
			}
			if tc.opts.LastFiles == 1 && (rec.Checkpoint == nil || rec.Checkpoint.File != files[len(files)-1]) {
				t.Fatalf("did not start at the newest file: %+v", rec)
			}
		})
	}
}

// TestReaderWaitsForIncompleteLine: a half-written last line is not an
// error; the record is returned once the rest arrives.
func TestReaderWaitsForIncompleteLine(t *testing.T) {
	dir := t.TempDir()
	l := openTestLog(t, testConfig(t, dir))
	writeN(t, l, 1, 1)
	l.Close()
	w := goldenWriter()
	w.frame(eventBody(statementEvent(99), literalsDrop))
	half := len(w.buf) / 2
	files := logFiles(t, dir)
	appendBytes(t, files[0], string(w.buf[:half]))
	r, err := NewReader(dir, ReadOptions{Filter: Filter{Type: TypeStatement}})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if rec, _, err := r.Next(context.Background()); err != nil || rec.StatementID != 1 {
		t.Fatalf("first: %v %v", rec, err)
	}
	if _, _, err := r.Next(context.Background()); err != io.EOF {
		t.Fatalf("incomplete line: got %v, want io.EOF", err)
	}
	appendBytes(t, files[0], string(w.buf[half:]))
	if rec, _, err := r.Next(context.Background()); err != nil || rec.StatementID != 99 {
		t.Fatalf("completed line: %v %v", rec, err)
	}
}
