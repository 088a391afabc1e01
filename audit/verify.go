package audit

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/tjfoc/gmsm/sm2"

	"github.com/dbfence/dbfence/audit/internal/sm3"
)

// VerifyOptions say which keys Verify has.
type VerifyOptions struct {
	// HMACKey verifies every record's MAC. Without it only the structure
	// (seq order, file links, checkpoint heads) and the signatures are
	// checked: record contents are then unverified, and the report says so.
	HMACKey []byte
	// PublicKey verifies checkpoint signatures. Without it, signatures are
	// not checked, and the report says so.
	PublicKey *sm2.PublicKey
	// ExpectClosed makes it a problem when the newest file does not end with
	// a close checkpoint (use it on a log whose writer is stopped: then a
	// truncated tail cannot pass as a running log).
	ExpectClosed bool
	// MaxProblems stops listing problems after this many (default 1000).
	MaxProblems int
	// Progress, when set, is called after each file with how far Verify
	// has come (180 days of a busy log take hours to verify).
	Progress func(VerifyProgress)
}

// VerifyProgress is how far a Verify has come.
type VerifyProgress struct {
	FilesDone, Files int    // files verified so far, files in the directory
	Records          uint64 // records verified so far
	Bytes            int64  // bytes of the files verified so far
	File             string // the file just verified
}

// Problem kinds.
const (
	ProblemMissingFile   = "missing_file"   // a file of the sequence is absent
	ProblemMissingOldest = "missing_oldest" // files before the oldest are gone without a retention record
	ProblemBadLine       = "bad_line"       // not a record (framing or JSON)
	ProblemTornTail      = "torn_tail"      // incomplete last line not declared by a later anchor
	ProblemSeqGap        = "seq_gap"        // records missing
	ProblemSeqOrder      = "seq_order"      // seq repeated or going backwards (inserted or reordered)
	ProblemMAC           = "mac_mismatch"   // content or chain modified
	ProblemSignature     = "bad_signature"  // checkpoint signature invalid
	ProblemAnchor        = "bad_anchor"     // file does not start with an anchor for itself
	ProblemChainBreak    = "chain_break"    // anchor or checkpoint head does not match the records before it
	ProblemDiscard       = "discard"        // declared debris does not match, or was not a torn write
	ProblemNotClosed     = "not_closed"     // ExpectClosed and no final close checkpoint
	ProblemLostFile      = "lost_file"      // removed or replaced while being written, as the next anchor declares
)

// Problem is one integrity failure, located as precisely as possible.
type Problem struct {
	// File is the file name ("" for directory-level problems).
	File string `json:"file,omitempty"`
	// Line is the 1-based line within File (0 when not about a line).
	Line int `json:"line,omitempty"`
	// Seq is the seq of the record concerned, 0 if unknown.
	Seq uint64 `json:"seq,omitempty"`
	// Kind is one of the Problem* constants.
	Kind string `json:"kind"`
	// Msg says what is wrong.
	Msg string `json:"msg"`
}

// String renders "file:line seq N: kind: message".
func (p Problem) String() string {
	loc := p.File
	if p.Line > 0 {
		loc += ":" + strconv.Itoa(p.Line)
	}
	if p.Seq > 0 {
		loc += " seq " + strconv.FormatUint(p.Seq, 10)
	}
	if loc == "" {
		return p.Kind + ": " + p.Msg
	}
	return loc + ": " + p.Kind + ": " + p.Msg
}

// Report is the outcome of Verify.
type Report struct {
	// Files is the number of audit files found.
	Files int `json:"files"`
	// Records counts the records read (declared debris excluded).
	Records uint64 `json:"records"`
	// FirstSeq and LastSeq are the seq range read.
	FirstSeq uint64 `json:"first_seq"`
	LastSeq  uint64 `json:"last_seq"`
	// Checkpoints counts checkpoint records.
	Checkpoints int `json:"checkpoints"`
	// MACsChecked is true when an HMAC key was given.
	MACsChecked bool `json:"macs_checked"`
	// SignaturesValid counts checkpoints whose SM2 signature verified.
	SignaturesValid int `json:"signatures_valid"`
	// Closed is true when the newest file ends with a close checkpoint.
	Closed bool `json:"closed"`
	// Problems are integrity failures; the log verifies when there are none.
	Problems []Problem `json:"problems"`
	// MoreProblems counts problems beyond VerifyOptions.MaxProblems.
	MoreProblems int `json:"more_problems,omitempty"`
	// Notes say what could not be checked and what was accepted (declared
	// torn writes, retention).
	Notes []string `json:"notes"`
}

// OK reports whether no problem was found.
func (r *Report) OK() bool { return len(r.Problems) == 0 && r.MoreProblems == 0 }

// ErrVerifyFailed is wrapped by the error Verify returns when it found problems.
var ErrVerifyFailed = errors.New("audit: verification failed")

type retentionMark struct {
	throughFile string
	throughSeq  uint64
}

// verifier carries the chain across files.
type verifier struct {
	opts VerifyOptions
	rep  *Report
	mac  *sm3.HMAC

	prevFile string // name of the file before the current one
	haveHead bool
	headSeq  uint64
	headMAC  [32]byte
	headHex  string
	last     *Record // last record of the previous file with records

	oldestAnchor *Checkpoint
	oldestFile   string
	retention    []retentionMark
	sinceCP      int
}

func (v *verifier) problem(p Problem) {
	if len(v.rep.Problems) >= v.opts.MaxProblems {
		v.rep.MoreProblems++
		return
	}
	v.rep.Problems = append(v.rep.Problems, p)
}

// Verify checks the audit files in dir: every record's MAC chain (with
// HMACKey), seq continuity across files, that each file starts with an
// anchor linking it to the previous file, checkpoint signatures (with
// PublicKey), declared debris, missing files (index gaps, a rotate
// checkpoint naming an absent file, files before the oldest without a
// retention record). It reads files one at a time.
//
// The error is nil only when the report has no problems; it wraps
// ErrVerifyFailed (with the first problem) or an I/O error. The report is
// never nil.
func Verify(dir string, opts VerifyOptions) (*Report, error) {
	if opts.MaxProblems <= 0 {
		opts.MaxProblems = 1000
	}
	rep := &Report{Problems: []Problem{}, Notes: []string{}}
	v := &verifier{opts: opts, rep: rep}
	if opts.HMACKey != nil {
		v.mac = sm3.NewHMAC(opts.HMACKey)
		rep.MACsChecked = true
	} else {
		rep.Notes = append(rep.Notes, "no HMAC key: record contents are NOT verified; only seq order, file links, checkpoint heads and signatures were checked")
	}
	if opts.PublicKey == nil {
		rep.Notes = append(rep.Notes, "no SM2 public key: checkpoint signatures are NOT verified")
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return rep, fmt.Errorf("audit: verify: %w", err)
	}
	files := listLogFiles(entries)
	rep.Files = len(files)
	if len(files) == 0 {
		v.problem(Problem{Kind: ProblemMissingFile, Msg: "no audit files in " + dir})
		return rep, v.result()
	}
	for i := 1; i < len(files); i++ {
		if a, b := files[i-1].index, files[i].index; b == a+2 && declaresLost(filepath.Join(dir, files[i].name), a+1) {
			continue // reported with the explanation by checkAnchor
		} else if b != a+1 {
			msg := fmt.Sprintf("file index %d follows %d: %d file(s) missing between %s and %s", b, a, b-a-1, files[i-1].name, files[i].name)
			if b == a {
				msg = "two files share index " + strconv.FormatUint(a, 10)
			}
			v.problem(Problem{File: files[i].name, Kind: ProblemMissingFile, Msg: msg})
		}
	}
	// Files are read as streams, one line at a time: memory is bounded by
	// the longest line, not by rotate_bytes.
	var doneBytes int64
	for i, f := range files {
		var nextAnchor *Checkpoint
		if i+1 < len(files) {
			first, err := readFirstLine(filepath.Join(dir, files[i+1].name))
			if err != nil {
				return rep, fmt.Errorf("audit: verify: %w", err)
			}
			nextAnchor = firstAnchor(first)
		}
		size, err := v.verifyFile(filepath.Join(dir, f.name), f.name, i == 0, i == len(files)-1, nextAnchor)
		if err != nil {
			return rep, fmt.Errorf("audit: verify: %w", err)
		}
		v.prevFile = f.name
		doneBytes += size
		if opts.Progress != nil {
			opts.Progress(VerifyProgress{FilesDone: i + 1, Files: len(files), Records: v.rep.Records, Bytes: doneBytes, File: f.name})
		}
	}
	v.finish(files)
	return rep, v.result()
}

func (v *verifier) result() error {
	if v.rep.OK() {
		return nil
	}
	return fmt.Errorf("%w: %s (%d problem(s))", ErrVerifyFailed, v.rep.Problems[0], len(v.rep.Problems)+v.rep.MoreProblems)
}

// declaresLost reports whether the file at path starts with an anchor that
// declares the file of the given index lost.
func declaresLost(path string, index uint64) bool {
	line, err := readFirstLine(path)
	if err != nil {
		return false
	}
	cp := firstAnchor(line)
	if cp == nil || cp.Lost == nil || cp.Lost.File != cp.PrevFile {
		return false
	}
	lf, ok := parseFileName(cp.Lost.File)
	return ok && lf.index == index
}

// lostText explains the loss an anchor in file declares, ending with outcome.
func lostText(file string, cp *Checkpoint, outcome string) string {
	l := cp.Lost
	what := fmt.Sprintf("%s was %s", l.File, l.Cause)
	if l.Cause == LostDirRemoved {
		what = "the audit directory was removed with " + l.File
	}
	if l.FirstSeq > 0 && l.FirstSeq <= cp.HeadSeq {
		what += fmt.Sprintf(" (seq %d-%d)", l.FirstSeq, cp.HeadSeq)
	}
	return what + " while dbfence was writing it, as the recovery anchor of " + file + " declares: " + outcome
}

// firstAnchor parses the first line of data if it is an anchor.
func firstAnchor(data []byte) *Checkpoint {
	line, _, ok := bytes.Cut(data, []byte{'\n'})
	if !ok {
		return nil
	}
	r, err := ParseRecord(line)
	if err != nil || r.Checkpoint == nil || !r.Checkpoint.Anchor {
		return nil
	}
	return r.Checkpoint
}

func (v *verifier) verifyFile(path, name string, oldest, newest bool, nextAnchor *Checkpoint) (size int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	size = st.Size()
	valid := size
	if nextAnchor != nil && nextAnchor.Discard != nil && nextAnchor.Discard.File == name {
		if valid, err = v.checkDiscard(name, f, size, nextAnchor.Discard); err != nil {
			return size, err
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return size, err
		}
	}
	r := bufio.NewReaderSize(io.LimitReader(f, valid), 256<<10)
	var long []byte
	lineNo := 0
	var lastRec *Record
	for {
		line, err := readLine(r, &long)
		if len(line) == 0 && err == io.EOF {
			break
		}
		if err != nil && err != io.EOF {
			return size, err
		}
		lineNo++
		if err == io.EOF {
			v.problem(Problem{File: name, Line: lineNo, Kind: ProblemTornTail,
				Msg: fmt.Sprintf("incomplete last line (%d bytes, no newline): crash or truncation not declared by any later anchor", len(line))})
			break
		}
		rec := v.verifyLine(name, lineNo, line[:len(line)-1], oldest)
		if rec != nil {
			lastRec = rec
		}
	}
	if lineNo == 0 && !(nextAnchor != nil && nextAnchor.Discard != nil && nextAnchor.Discard.File == name) {
		v.problem(Problem{File: name, Kind: ProblemAnchor, Msg: "file is empty"})
	}
	if lastRec != nil {
		v.last = lastRec
	}
	if lastRec != nil && lastRec.Checkpoint != nil && lastRec.Checkpoint.Reason == ReasonRotate && newest {
		v.problem(Problem{File: name, Line: lineNo, Seq: lastRec.Seq, Kind: ProblemMissingFile,
			Msg: fmt.Sprintf("file ends with a rotate checkpoint naming %s, which is missing (newest file deleted?)", lastRec.Checkpoint.NextFile)})
	}
	return size, nil
}

// readLine returns the next line of r with its newline (without one at
// the end of the input, with io.EOF). A line longer than r's buffer is
// gathered in *long, which grows to the longest line seen.
func readLine(r *bufio.Reader, long *[]byte) ([]byte, error) {
	line, err := r.ReadSlice('\n')
	if err != bufio.ErrBufferFull {
		return line, err
	}
	*long = append((*long)[:0], line...)
	for {
		line, err = r.ReadSlice('\n')
		*long = append(*long, line...)
		if err != bufio.ErrBufferFull {
			return *long, err
		}
	}
}

// readFirstLine returns the first line of the file at path (see firstLine).
func readFirstLine(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return firstLine(f)
}

// firstLine returns the first line of r with its newline, or nil when r
// holds no newline in its first 64 KiB (an anchor is far shorter); err is
// a read error.
func firstLine(r io.Reader) ([]byte, error) {
	line, err := bufio.NewReaderSize(r, 64<<10).ReadSlice('\n')
	if err == io.EOF || err == bufio.ErrBufferFull {
		return nil, nil
	}
	return line, err
}

// checkDiscard checks the debris a later anchor declares for file name (f,
// size bytes) and returns the length of the good prefix.
func (v *verifier) checkDiscard(name string, f *os.File, size int64, d *Discard) (int64, error) {
	if d.ValidBytes < 0 || d.ValidBytes > size {
		v.problem(Problem{File: name, Kind: ProblemDiscard,
			Msg: fmt.Sprintf("the next file's anchor says the first %d bytes are good, but the file has only %d (truncated)", d.ValidBytes, size)})
		return size, nil
	}
	line, err := countLines(io.LimitReader(f, d.ValidBytes))
	if err != nil {
		return 0, err
	}
	line++
	debris := size - d.ValidBytes
	switch {
	case d.Bytes < 0:
		v.rep.Notes = append(v.rep.Notes, fmt.Sprintf("%s: %d bytes after offset %d were discarded after a write error (%s) and could not be hashed then", name, debris, d.ValidBytes, d.Cause))
	case debris != d.Bytes:
		v.problem(Problem{File: name, Line: line, Kind: ProblemDiscard,
			Msg: fmt.Sprintf("declared %d discarded bytes after offset %d, found %d", d.Bytes, d.ValidBytes, debris)})
	default:
		h := sm3.New()
		if _, err := io.Copy(h, f); err != nil { // f is at ValidBytes
			return 0, err
		}
		sum := h.Sum32()
		if hex.EncodeToString(sum[:]) != d.SM3 {
			v.problem(Problem{File: name, Line: line, Kind: ProblemDiscard, Msg: "discarded bytes were modified after they were declared"})
		} else if d.Cause == "invalid" {
			v.problem(Problem{File: name, Line: line, Kind: ProblemDiscard,
				Msg: fmt.Sprintf("%d bytes after offset %d held complete lines that were not valid records (a crash leaves only a torn last line)", d.Bytes, d.ValidBytes)})
		} else if d.Bytes > 0 {
			v.rep.Notes = append(v.rep.Notes, fmt.Sprintf("%s: %d bytes after offset %d discarded (%s), matching their declaration", name, d.Bytes, d.ValidBytes, d.Cause))
		}
	}
	return d.ValidBytes, nil
}

// countLines counts the newlines r holds.
func countLines(r io.Reader) (int, error) {
	buf := make([]byte, 64<<10)
	n := 0
	for {
		k, err := r.Read(buf)
		n += bytes.Count(buf[:k], []byte{'\n'})
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// verifyLine checks one complete line and returns its record, nil if it is
// not one.
func (v *verifier) verifyLine(name string, lineNo int, line []byte, oldest bool) *Record {
	prefix, mac, err := SplitLine(line)
	var rec *Record
	macChecked, macOK := false, false
	// The first line of a file is an anchor that may move the head
	// (checkAnchor): its MAC is checked after that, below.
	if err == nil && v.mac != nil && v.haveHead && lineNo > 1 {
		v.mac.Reset()
		v.mac.Write(v.headMAC[:])
		v.mac.Write(prefix)
		macChecked, macOK = true, v.mac.Sum32() == mac
	}
	if err == nil {
		// A record whose MAC chains is the writer's own bytes: its seq and
		// type, which the writer puts first, are all the checks below read
		// of it unless it is one the verifier inspects. Decoding the JSON
		// of every record was most of the time Verify took.
		if seq, typ, ok := leadingSeqType(prefix); ok && macOK && !verifyReads[typ] {
			rec = &Record{Seq: seq, Event: Event{Type: typ}}
		} else {
			rec, err = ParseRecord(line)
		}
	}
	if err != nil {
		v.problem(Problem{File: name, Line: lineNo, Kind: ProblemBadLine, Msg: err.Error()})
		if prefix != nil { // framing intact: keep the chain going from its MAC
			v.headSeq++
			v.headMAC, v.headHex = mac, hex.EncodeToString(mac[:])
		}
		return nil
	}
	cp := rec.Checkpoint
	if lineNo == 1 {
		v.checkAnchor(name, rec, oldest)
	} else if cp != nil && cp.Anchor {
		v.problem(Problem{File: name, Line: lineNo, Seq: rec.Seq, Kind: ProblemAnchor, Msg: "anchor checkpoint in the middle of a file"})
	}
	reported := false
	switch {
	case !v.haveHead:
	case rec.Seq == v.headSeq+1:
	case rec.Seq > v.headSeq+1:
		v.problem(Problem{File: name, Line: lineNo, Seq: rec.Seq, Kind: ProblemSeqGap,
			Msg: fmt.Sprintf("expected seq %d: %d record(s) missing", v.headSeq+1, rec.Seq-v.headSeq-1)})
		reported = true
	default:
		v.problem(Problem{File: name, Line: lineNo, Seq: rec.Seq, Kind: ProblemSeqOrder,
			Msg: fmt.Sprintf("seq %d after seq %d: record inserted, duplicated or reordered", rec.Seq, v.headSeq)})
		reported = true
	}
	if !macChecked && v.mac != nil && v.haveHead {
		v.mac.Reset()
		v.mac.Write(v.headMAC[:])
		v.mac.Write(prefix)
		macChecked, macOK = true, v.mac.Sum32() == mac
	}
	if macChecked && !macOK && !reported {
		v.problem(Problem{File: name, Line: lineNo, Seq: rec.Seq, Kind: ProblemMAC,
			Msg: "MAC does not match: the record was modified, inserted, or the record before it is missing"})
		reported = true
	}
	if cp != nil {
		v.checkCheckpoint(name, lineNo, rec, reported)
	} else {
		v.sinceCP++
	}
	if reported && rec.Seq <= v.headSeq {
		// An inserted or moved line: keep the head, so the records after it
		// still verify and the problem is reported once.
		return rec
	}
	if rec.Type == TypeRetentionDelete {
		if seq, err := strconv.ParseUint(rec.Detail["through_seq"], 10, 64); err == nil {
			v.retention = append(v.retention, retentionMark{throughFile: rec.Detail["through_file"], throughSeq: seq})
		}
	}
	v.haveHead, v.headSeq, v.headMAC, v.headHex = true, rec.Seq, mac, hex.EncodeToString(mac[:])
	if v.rep.FirstSeq == 0 {
		v.rep.FirstSeq = rec.Seq
	}
	v.rep.LastSeq = rec.Seq
	v.rep.Records++
	return rec
}

// verifyReads are the record types whose contents Verify inspects beyond
// seq and type; every other record is decoded only when its MAC does not
// chain (or there is no key), to report exactly what is wrong with it.
var verifyReads = map[EventType]bool{TypeCheckpoint: true, TypeRetentionDelete: true}

// leadingSeqType reads the seq and type the writer frames every record
// with, {"seq":N,"type":"T", at the start of prefix. ok is false for
// anything else.
func leadingSeqType(prefix []byte) (seq uint64, typ EventType, ok bool) {
	rest, found := bytes.CutPrefix(prefix, []byte(`{"seq":`))
	if !found {
		return 0, "", false
	}
	i := 0
	for i < len(rest) && i < 20 && rest[i] >= '0' && rest[i] <= '9' {
		seq = seq*10 + uint64(rest[i]-'0')
		i++
	}
	if i == 0 || i == 20 || rest[0] == '0' {
		return 0, "", false
	}
	rest, found = bytes.CutPrefix(rest[i:], []byte(`,"type":"`))
	if !found {
		return 0, "", false
	}
	end := bytes.IndexByte(rest, '"')
	if end <= 0 {
		return 0, "", false
	}
	for _, c := range rest[:end] {
		if (c < 'a' || c > 'z') && c != '_' {
			return 0, "", false
		}
	}
	return seq, EventType(rest[:end]), true
}

// checkAnchor checks that the first record of a file is an anchor for that
// file continuing the chain where the previous file left it, and sets the
// head from it for the oldest file.
func (v *verifier) checkAnchor(name string, rec *Record, oldest bool) {
	cp := rec.Checkpoint
	if cp == nil || !cp.Anchor {
		v.problem(Problem{File: name, Line: 1, Seq: rec.Seq, Kind: ProblemAnchor, Msg: "file does not start with an anchor checkpoint"})
		return
	}
	if cp.File != name {
		v.problem(Problem{File: name, Line: 1, Seq: rec.Seq, Kind: ProblemAnchor, Msg: fmt.Sprintf("anchor belongs to file %s (file renamed or copied)", cp.File)})
	}
	headMAC, err := hex.DecodeString(cp.HeadMAC)
	if err != nil || len(headMAC) != 32 {
		v.problem(Problem{File: name, Line: 1, Seq: rec.Seq, Kind: ProblemAnchor, Msg: "anchor head_mac is not 32 hex bytes"})
		return
	}
	if oldest || !v.haveHead {
		v.oldestAnchor, v.oldestFile = cp, name
		if cp.Reason == ReasonGenesis && (cp.HeadSeq != 0 || cp.HeadMAC != zeroMACHex) {
			v.problem(Problem{File: name, Line: 1, Seq: rec.Seq, Kind: ProblemAnchor, Msg: "genesis anchor with a non-zero head"})
		}
		v.haveHead, v.headSeq, v.headHex = true, cp.HeadSeq, cp.HeadMAC
		copy(v.headMAC[:], headMAC)
		return
	}
	// One problem per broken link, however many ways it shows.
	var why []string
	kind := ProblemChainBreak
	// A crash right after rotation created the next file leaves it empty;
	// the restart anchor that follows declares it (nothing to discard).
	emptyNextDeclared := v.last != nil && v.last.Checkpoint != nil && cp.Discard != nil &&
		cp.Discard.File == v.last.Checkpoint.NextFile && cp.Discard.ValidBytes == 0 && cp.Discard.Bytes == 0
	if v.last != nil && v.last.Checkpoint != nil && v.last.Checkpoint.Reason == ReasonRotate && v.last.Checkpoint.NextFile != name && !emptyNextDeclared {
		why = append(why, fmt.Sprintf("the previous file rotated to %s", v.last.Checkpoint.NextFile))
		kind = ProblemMissingFile
	}
	if cp.PrevFile != v.prevFile {
		why = append(why, fmt.Sprintf("the anchor continues file %s, but the file before it is %s", cp.PrevFile, v.prevFile))
		kind = ProblemMissingFile
	}
	if cp.HeadSeq != v.headSeq || cp.HeadMAC != v.headHex {
		why = append(why, fmt.Sprintf("the anchor continues from seq %d, but the records before it end at seq %d", cp.HeadSeq, v.headSeq))
	}
	if l := cp.Lost; l != nil && l.File == cp.PrevFile {
		// The writer found its file gone. Explain the break, and check
		// that the lost file is the only thing missing.
		if len(why) == 0 {
			v.rep.Notes = append(v.rep.Notes, lostText(name, cp, "the file now there still continues the chain"))
			return
		}
		msg := lostText(name, cp, "its records are lost")
		if l.File != v.prevFile {
			// Removed: it must be the only missing file, and hold the
			// records that follow the previous file's.
			lf, _ := parseFileName(l.File)
			pf, _ := parseFileName(v.prevFile)
			rotatedTo := ""
			if c := v.last; c != nil && c.Checkpoint != nil && c.Checkpoint.Reason == ReasonRotate {
				rotatedTo = c.Checkpoint.NextFile
			}
			if lf.index != pf.index+1 || (rotatedTo != "" && rotatedTo != l.File) || (l.FirstSeq != 0 && l.FirstSeq != v.headSeq+1) {
				msg += fmt.Sprintf("; but the records before it end at seq %d in %s, so more is missing", v.headSeq, v.prevFile)
			}
		}
		why, kind = []string{msg}, ProblemLostFile
	}
	if len(why) > 0 {
		if kind != ProblemLostFile {
			why[len(why)-1] += ": records or files missing or truncated"
		}
		v.problem(Problem{File: name, Line: 1, Seq: rec.Seq, Kind: kind, Msg: strings.Join(why, "; ")})
		// Resynchronize on the anchor so one break is reported once.
		v.headSeq, v.headHex = cp.HeadSeq, cp.HeadMAC
		copy(v.headMAC[:], headMAC)
	}
}

func (v *verifier) checkCheckpoint(name string, lineNo int, rec *Record, reported bool) {
	cp := rec.Checkpoint
	v.rep.Checkpoints++
	v.sinceCP = 0
	if !cp.Anchor && !reported && (cp.HeadSeq != rec.Seq-1 || cp.HeadMAC != v.headHex) {
		v.problem(Problem{File: name, Line: lineNo, Seq: rec.Seq, Kind: ProblemChainBreak,
			Msg: fmt.Sprintf("checkpoint covers seq %d mac %.16s…, but the record before it is seq %d mac %.16s…", cp.HeadSeq, cp.HeadMAC, v.headSeq, v.headHex)})
	}
	if v.opts.PublicKey == nil {
		return
	}
	sig, err := base64.StdEncoding.DecodeString(cp.Sig)
	if err != nil || !v.opts.PublicKey.Verify(checkpointMessage(rec.Seq, rec.Time.Format(timeLayout), cp), sig) {
		v.problem(Problem{File: name, Line: lineNo, Seq: rec.Seq, Kind: ProblemSignature, Msg: "checkpoint SM2 signature does not verify with the given public key"})
		return
	}
	v.rep.SignaturesValid++
}

// finish checks the ends of the log.
func (v *verifier) finish(files []logFile) {
	if a := v.oldestAnchor; a != nil && a.Reason != ReasonGenesis {
		covered := false
		for _, m := range v.retention {
			if m.throughFile == a.PrevFile && m.throughSeq == a.HeadSeq {
				covered = true
			}
		}
		switch {
		case covered:
			v.rep.Notes = append(v.rep.Notes, fmt.Sprintf("records up to seq %d (through %s) were deleted by retention, as recorded", a.HeadSeq, a.PrevFile))
		case a.Lost != nil && a.Lost.File == a.PrevFile:
			msg := fmt.Sprintf("the log starts after seq %d: %s", a.HeadSeq, lostText(v.oldestFile, a, "its records are lost"))
			if a.Lost.FirstSeq != 1 {
				msg += "; the files before it are missing too, without a retention record"
			}
			v.problem(Problem{File: v.oldestFile, Line: 1, Seq: a.HeadSeq + 1, Kind: ProblemLostFile, Msg: msg})
		default:
			v.problem(Problem{File: v.oldestFile, Line: 1, Seq: a.HeadSeq + 1, Kind: ProblemMissingOldest,
				Msg: fmt.Sprintf("the log starts after seq %d (file %s) but no retention_delete record covers the deletion", a.HeadSeq, a.PrevFile)})
		}
	}
	if l := v.last; l != nil && l.Checkpoint != nil && l.Checkpoint.Reason == ReasonClose {
		v.rep.Closed = true
	}
	if !v.rep.Closed {
		if v.opts.ExpectClosed {
			v.problem(Problem{File: files[len(files)-1].name, Kind: ProblemNotClosed,
				Msg: "the newest file does not end with a close checkpoint: writer running, crashed, or tail truncated"})
		} else {
			v.rep.Notes = append(v.rep.Notes, "the log does not end with a close checkpoint (writer running or crashed): truncation of the newest records cannot be ruled out")
		}
	}
	if v.sinceCP > 0 {
		v.rep.Notes = append(v.rep.Notes, fmt.Sprintf("%d record(s) after the last checkpoint are protected by the HMAC chain only", v.sinceCP))
	}
}
