package auditcmd

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/dbfence/dbfence/audit"
)

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1 // verification failed
	exitUsage  = 2 // bad arguments or I/O error
)

const usage = `usage: audit <command> [arguments]

Commands:
  verify DIR    check the integrity of an audit directory
  tail          print the newest records, optionally following new ones
  show          print records as JSON, optionally decrypting literals
  keygen        generate the SM2 key pair, HMAC-SM3 key and SM4 key

Run "audit <command> --help" for the options of a command.
`

// Main runs the audit command with args (not including the program or
// "audit" itself) and returns the process exit status. It stops following on
// SIGINT/SIGTERM.
func Main(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return run(ctx, args, stdout, stderr)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "verify":
		return cmdVerify(args[1:], stdout, stderr)
	case "tail":
		return cmdTail(ctx, args[1:], stdout, stderr)
	case "show":
		return cmdShow(ctx, args[1:], stdout, stderr)
	case "keygen":
		return cmdKeygen(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "audit: unknown command %q\n\n%s", args[0], usage)
	return exitUsage
}

// parseInterspersed parses flags that may come before or after positional
// arguments ("verify DIR --pubkey F").
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

func newFlagSet(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("audit "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: audit %s\n\nOptions:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseErr maps a flag error to an exit status (--help is success).
func parseErr(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	return exitUsage
}

func cmdVerify(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("verify", "verify DIR [--key-file F] [--pubkey F] [--expect-closed] [--json]\n\n"+
		"Checks every record's HMAC-SM3 chain (needs the HMAC key), checkpoint SM2\n"+
		"signatures (needs the public key), seq continuity and missing files.\n"+
		"With only the public key, record contents are not verified and the report says so.", stderr)
	keyFile := fs.String("key-file", "", "hex HMAC-SM3 key file (verifies record contents)")
	pubFile := fs.String("pubkey", "", "SM2 public key PEM (verifies checkpoint signatures)")
	expectClosed := fs.Bool("expect-closed", false, "fail unless the log ends with a close checkpoint (writer stopped)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return parseErr(err)
	}
	if len(pos) != 1 {
		fmt.Fprintln(stderr, "audit verify: exactly one DIR is required")
		fs.Usage()
		return exitUsage
	}
	opts := audit.VerifyOptions{ExpectClosed: *expectClosed}
	if *keyFile != "" {
		if opts.HMACKey, err = audit.LoadHexKey(*keyFile, 16, 0); err != nil {
			fmt.Fprintln(stderr, err)
			return exitUsage
		}
	}
	if *pubFile != "" {
		if opts.PublicKey, err = audit.LoadSM2PublicKey(*pubFile); err != nil {
			fmt.Fprintln(stderr, err)
			return exitUsage
		}
	}
	if opts.HMACKey == nil && opts.PublicKey == nil {
		fmt.Fprintln(stderr, "audit verify: warning: no --key-file and no --pubkey: only the structure can be checked")
	}
	opts.Progress = verifyProgress(stderr, time.Now, progressEvery)
	rep, err := audit.Verify(pos[0], opts)
	if err != nil && !errors.Is(err, audit.ErrVerifyFailed) {
		fmt.Fprintln(stderr, err)
		return exitUsage
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(rep)
	} else {
		printReport(stdout, rep)
	}
	if !rep.OK() {
		return exitFailed
	}
	return exitOK
}

// progressEvery is how often a long verify reports how far it has come.
const progressEvery = 5 * time.Second

// verifyProgress returns a Progress callback that writes a line to w at
// most once per every (none for a verify shorter than that): files, records,
// bytes and the rate so far.
func verifyProgress(w io.Writer, now func() time.Time, every time.Duration) func(audit.VerifyProgress) {
	start := now()
	last := start
	return func(p audit.VerifyProgress) {
		t := now()
		if t.Sub(last) < every {
			return
		}
		last = t
		secs := t.Sub(start).Seconds()
		fmt.Fprintf(w, "audit verify: %d/%d files, %d records, %.0f MiB, %.0f records/s (%s)\n",
			p.FilesDone, p.Files, p.Records, float64(p.Bytes)/(1<<20), float64(p.Records)/secs, p.File)
	}
}

func printReport(w io.Writer, rep *audit.Report) {
	status := "OK"
	if !rep.OK() {
		status = "FAILED"
	}
	macs := "record MACs verified"
	if !rep.MACsChecked {
		macs = "record MACs NOT verified"
	}
	fmt.Fprintf(w, "%s: %d records in %d files, seq %d..%d, %d checkpoints (%d signatures valid), %s, closed=%v\n",
		status, rep.Records, rep.Files, rep.FirstSeq, rep.LastSeq, rep.Checkpoints, rep.SignaturesValid, macs, rep.Closed)
	for _, p := range rep.Problems {
		fmt.Fprintf(w, "PROBLEM %s\n", p)
	}
	if rep.MoreProblems > 0 {
		fmt.Fprintf(w, "... and %d more problems\n", rep.MoreProblems)
	}
	for _, n := range rep.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
}

// readFlags are the options shared by tail and show.
type readFlags struct {
	dir, user, decision, typ, session, since string
}

func (rf *readFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&rf.dir, "dir", "", "audit directory (or give it as the argument)")
	fs.StringVar(&rf.user, "user", "", "only records of this user")
	fs.StringVar(&rf.decision, "decision", "", "only records with this decision (allow, deny, mask, ...)")
	fs.StringVar(&rf.typ, "type", "", "only records of this type (statement, auth_fail, checkpoint, ...)")
	fs.StringVar(&rf.session, "session", "", "only records of this session id")
	fs.StringVar(&rf.since, "since", "", "only records at or after this time: RFC 3339 (2026-11-23T11:40:00+08:00) or a duration ago (90m)")
}

func (rf *readFlags) options(pos []string, now time.Time) (string, audit.ReadOptions, error) {
	dir := rf.dir
	switch {
	case dir == "" && len(pos) == 1:
		dir = pos[0]
	case len(pos) > 0:
		return "", audit.ReadOptions{}, fmt.Errorf("unexpected argument %q", pos[0])
	case dir == "":
		return "", audit.ReadOptions{}, errors.New("--dir is required")
	}
	opts := audit.ReadOptions{Filter: audit.Filter{User: rf.user, Decision: rf.decision, Type: audit.EventType(rf.typ), SessionID: rf.session}}
	if rf.since != "" {
		if t, err := time.Parse(time.RFC3339Nano, rf.since); err == nil {
			opts.Since = t
		} else if d, err := time.ParseDuration(rf.since); err == nil && d > 0 {
			opts.Since = now.Add(-d)
		} else {
			return "", opts, fmt.Errorf("--since %q: want RFC 3339 time or a positive duration", rf.since)
		}
	}
	return dir, opts, nil
}

func cmdTail(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("tail", "tail [--dir DIR | DIR] [-f] [-n N] [filters] [--json]\n\n"+
		"Prints the last N matching records (all since --since, if given), one per line:\n"+
		"time user@addr db decision kind SQL rows duration. -f keeps printing new records,\n"+
		"across file rotations, until interrupted. Records are not verified (use verify).", stderr)
	var rf readFlags
	rf.register(fs)
	follow := fs.Bool("f", false, "follow: keep printing records as they are written")
	n := fs.Int("n", 20, "number of records to print before following (ignored with --since)")
	asJSON := fs.Bool("json", false, "print the raw JSON lines")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return parseErr(err)
	}
	dir, opts, err := rf.options(pos, time.Now())
	if err == nil && *n < 0 {
		err = fmt.Errorf("-n %d: want 0 or more", *n)
	}
	if err != nil {
		fmt.Fprintln(stderr, "audit tail:", err)
		return exitUsage
	}
	emit := func(rec *audit.Record, line []byte) {
		if *asJSON {
			stdout.Write(line)
			stdout.Write([]byte{'\n'})
			return
		}
		fmt.Fprintln(stdout, FormatRecord(rec))
	}
	files, err := audit.ListFiles(dir)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitUsage
	}
	// Backlog: everything since --since, or the last n records, looking at
	// the newest files first and widening until n are found.
	var (
		backlog []tailEntry
		r       *audit.Reader
	)
	for span := 2; ; span *= 2 {
		if r != nil {
			r.Close()
		}
		if opts.Since.IsZero() {
			opts.LastFiles = span
		}
		if r, err = audit.NewReader(dir, opts); err != nil {
			fmt.Fprintln(stderr, err)
			return exitUsage
		}
		if backlog, err = readBacklog(ctx, r, opts.Since.IsZero(), *n, stderr); err != nil {
			fmt.Fprintln(stderr, err)
			r.Close()
			return exitUsage
		}
		if !opts.Since.IsZero() || len(backlog) >= *n || span >= len(files) {
			break
		}
	}
	defer r.Close()
	for _, e := range backlog {
		emit(e.rec, e.line)
	}
	if !*follow {
		return exitOK
	}
	r.SetFollow(true)
	for {
		rec, line, err := r.Next(ctx)
		var le *audit.LineError
		switch {
		case errors.As(err, &le):
			fmt.Fprintln(stderr, "audit tail: skipping:", le)
		case errors.Is(err, context.Canceled):
			return exitOK
		case err != nil:
			fmt.Fprintln(stderr, err)
			return exitUsage
		default:
			emit(rec, line)
		}
	}
}

// tailEntry is a record kept for the tail backlog.
type tailEntry struct {
	rec  *audit.Record
	line []byte
}

// readBacklog reads r to its end, keeping the last n matching records (all
// of them when limit is false).
func readBacklog(ctx context.Context, r *audit.Reader, limit bool, n int, stderr io.Writer) ([]tailEntry, error) {
	var backlog []tailEntry
	for {
		rec, line, err := r.Next(ctx)
		if err == io.EOF {
			return backlog, nil
		}
		var le *audit.LineError
		if errors.As(err, &le) {
			fmt.Fprintln(stderr, "audit tail: skipping:", le)
			continue
		}
		if err != nil {
			return nil, err
		}
		if limit {
			if n == 0 {
				continue
			}
			if len(backlog) == n {
				backlog = backlog[1:]
			}
		}
		backlog = append(backlog, tailEntry{rec, append([]byte(nil), line...)})
	}
}

// FormatRecord renders a record on one readable line: time, user@addr,
// database, decision, statement kind, normalized SQL, rows and duration for
// statements; time, type and what is known for other records.
func FormatRecord(r *audit.Record) string {
	var b strings.Builder
	b.WriteString(r.Time.Format("2006-01-02T15:04:05.000Z07:00"))
	b.WriteByte(' ')
	who := r.User
	if who == "" {
		who = "-"
	}
	if r.ClientAddr != "" {
		who += "@" + r.ClientAddr
	}
	b.WriteString(who)
	b.WriteByte(' ')
	b.WriteString(orDash(r.Database))
	switch {
	case r.Type == audit.TypeStatement || r.Type == audit.TypeExecute:
		fmt.Fprintf(&b, " %s %s %q rows=%d %s", orDash(r.Decision), orDash(r.StatementKind), r.Normalized, r.Rows,
			time.Duration(r.DurationUS)*time.Microsecond)
		if r.Reason != "" {
			fmt.Fprintf(&b, " reason=%q", r.Reason)
		}
	case r.Checkpoint != nil:
		fmt.Fprintf(&b, " checkpoint %s head_seq=%d file=%s", r.Checkpoint.Reason, r.Checkpoint.HeadSeq, r.Checkpoint.File)
	default:
		fmt.Fprintf(&b, " %s", r.Type)
		if r.Decision != "" {
			fmt.Fprintf(&b, " decision=%s", r.Decision)
		}
		if r.Reason != "" {
			fmt.Fprintf(&b, " reason=%q", r.Reason)
		}
		if r.ErrorCode != "" {
			fmt.Fprintf(&b, " error=%s", r.ErrorCode)
		}
	}
	if r.Rule != "" {
		fmt.Fprintf(&b, " rule=%s", r.Rule)
	}
	fmt.Fprintf(&b, " seq=%d", r.Seq)
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func cmdShow(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("show", "show [--dir DIR | DIR] [filters] [--decrypt --sm4-key-file F]\n\n"+
		"Prints matching records as JSON lines. With --decrypt, encrypted literals are\n"+
		"decrypted into \"literals\" (personal data: handle the output accordingly).", stderr)
	var rf readFlags
	rf.register(fs)
	decrypt := fs.Bool("decrypt", false, "decrypt literals_enc with the SM4 key")
	sm4File := fs.String("sm4-key-file", "", "hex SM4 key file (required with --decrypt)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return parseErr(err)
	}
	dir, opts, err := rf.options(pos, time.Now())
	if err != nil {
		fmt.Fprintln(stderr, "audit show:", err)
		return exitUsage
	}
	var sm4Key []byte
	if *decrypt {
		if *sm4File == "" {
			fmt.Fprintln(stderr, "audit show: --decrypt needs --sm4-key-file")
			return exitUsage
		}
		if sm4Key, err = audit.LoadHexKey(*sm4File, 16, 16); err != nil {
			fmt.Fprintln(stderr, err)
			return exitUsage
		}
	}
	r, err := audit.NewReader(dir, opts)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitUsage
	}
	defer r.Close()
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	status := exitOK
	for {
		rec, line, err := r.Next(ctx)
		if err == io.EOF {
			return status
		}
		var le *audit.LineError
		if errors.As(err, &le) {
			fmt.Fprintln(stderr, "audit show: skipping:", le)
			continue
		}
		if err != nil {
			fmt.Fprintln(stderr, err)
			return exitUsage
		}
		if sm4Key == nil || rec.LiteralsEnc == "" {
			stdout.Write(line)
			stdout.Write([]byte{'\n'})
			continue
		}
		lits, err := audit.OpenLiterals(sm4Key, rec.LiteralsEnc)
		if err != nil {
			fmt.Fprintf(stderr, "audit show: seq %d: %v\n", rec.Seq, err)
			status = exitFailed
			stdout.Write(line)
			stdout.Write([]byte{'\n'})
			continue
		}
		rec.Literals, rec.LiteralsEnc = lits, ""
		enc.Encode(rec)
	}
}

func cmdKeygen(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("keygen", "keygen --out DIR\n\n"+
		"Writes, each 0600 and never overwriting:\n"+
		"  "+audit.SM2PrivateKeyFileName+"      SM2 private key (PKCS#8 PEM): sm2_private_key_file, signs checkpoints\n"+
		"  "+audit.SM2PublicKeyFileName+"  SM2 public key: give it to auditors (verify --pubkey)\n"+
		"  "+audit.HMACKeyFileName+"      hex HMAC-SM3 key: hmac_key_file, chains records (verify --key-file)\n"+
		"  "+audit.SM4KeyFileName+"       hex SM4 key: sm4_key_file, encrypts literals (show --decrypt)", stderr)
	out := fs.String("out", "", "directory to write the keys to (created 0700)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return parseErr(err)
	}
	if *out == "" || len(pos) > 0 {
		fmt.Fprintln(stderr, "audit keygen: --out DIR is required and takes no other argument")
		fs.Usage()
		return exitUsage
	}
	keys, err := audit.GenerateKeys()
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitUsage
	}
	written, err := audit.WriteKeyFiles(keys, *out)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitUsage
	}
	for _, p := range written {
		fmt.Fprintln(stdout, "wrote", p)
	}
	abs, err := filepath.Abs(*out)
	if err != nil {
		abs = *out
	}
	fmt.Fprintf(stdout, "\n# audit configuration (the writer needs the first three; give auditors only %s):\n"+
		"hmac_key_file: %s\nsm4_key_file: %s\nsm2_private_key_file: %s\n",
		audit.SM2PublicKeyFileName, filepath.Join(abs, audit.HMACKeyFileName), filepath.Join(abs, audit.SM4KeyFileName),
		filepath.Join(abs, audit.SM2PrivateKeyFileName))
	return exitOK
}
