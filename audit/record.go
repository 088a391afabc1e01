package audit

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Record is one decoded line of an audit file: the event plus the chain
// fields. Reader and Verify return it; the writer never decodes.
type Record struct {
	// Seq numbers records across all files, starting at 1, without gaps.
	Seq uint64 `json:"seq"`
	Event
	// LiteralsEnc is base64(nonce || SM4-GCM ciphertext of the JSON array of
	// literals); see OpenLiterals.
	LiteralsEnc string `json:"literals_enc,omitempty"`
	// LiteralsDropped counts literals that were not written because no SM4
	// key was configured and plaintext literals were not allowed.
	LiteralsDropped int `json:"literals_dropped,omitempty"`
	// Checkpoint is set on records of type "checkpoint".
	Checkpoint *Checkpoint `json:"checkpoint,omitempty"`
	// MAC is hex HMAC-SM3(key, previous MAC || the line up to `,"mac":`).
	MAC string `json:"mac"`
}

// Checkpoint is the payload of a checkpoint record: an SM2 signature over the
// chain head, so that a holder of the public key alone can check the head.
type Checkpoint struct {
	// Reason is one of the Reason* constants.
	Reason string `json:"reason"`
	// Anchor is true for the first record of every file: the record that
	// links the file to the chain head of the previous one.
	Anchor bool `json:"anchor,omitempty"`
	// HeadSeq and HeadMAC are the record this checkpoint covers: the one just
	// before it in the chain (seq 0 and 64 zeros at genesis).
	HeadSeq uint64 `json:"head_seq"`
	HeadMAC string `json:"head_mac"`
	// File is the name of the file the checkpoint is written in.
	File string `json:"file"`
	// PrevFile, on anchors, is the file holding HeadSeq.
	PrevFile string `json:"prev_file,omitempty"`
	// NextFile, on rotate checkpoints, is the file the chain continues in.
	NextFile string `json:"next_file,omitempty"`
	// Discard, on restart and recovery anchors, declares bytes at the end of
	// PrevFile that are not part of the chain (a torn write).
	Discard *Discard `json:"discard,omitempty"`
	// Lost, on recovery anchors, declares that PrevFile was removed or
	// replaced while the writer had it open: its records are gone.
	Lost *Lost `json:"lost,omitempty"`
	// Sig is base64 of the ASN.1 SM2 signature over checkpointMessage.
	Sig string `json:"sig"`
}

// Discard describes the bytes a crash or failed write left after the last
// good record of a file. Verify checks the bytes still match.
type Discard struct {
	// File is the file name (no directory).
	File string `json:"file"`
	// ValidBytes is the length of the file's good prefix.
	ValidBytes int64 `json:"valid_bytes"`
	// Bytes is the number of bytes after the good prefix, -1 if they could
	// not be read when the discard was declared.
	Bytes int64 `json:"bytes"`
	// SM3 is the hex SM3 of those bytes ("" when Bytes is -1).
	SM3 string `json:"sm3,omitempty"`
	// Cause says what left them: "crash" or the write error.
	Cause string `json:"cause"`
}

// Lost describes a file the writer found removed or replaced under it.
// Verify still reports the missing records; the declaration says why.
type Lost struct {
	// File is the file name (no directory).
	File string `json:"file"`
	// FirstSeq is the seq of its first record (0 if unknown); its last is
	// the anchor's HeadSeq.
	FirstSeq uint64 `json:"first_seq"`
	// Cause is LostRemoved, LostReplaced or LostDirRemoved.
	Cause string `json:"cause"`
}

// Lost causes.
const (
	LostRemoved    = "removed"           // the file's name was unlinked or renamed
	LostReplaced   = "replaced"          // another file took its name
	LostDirRemoved = "directory removed" // the whole directory went
)

// Checkpoint reasons.
const (
	ReasonGenesis  = "genesis"  // anchor of the first file ever
	ReasonRotation = "rotation" // anchor after a size/age rotation
	ReasonRestart  = "restart"  // anchor after the writer was restarted
	ReasonRecovery = "recovery" // anchor after a write or fsync error
	ReasonPeriodic = "periodic" // every CheckpointEvery records or CheckpointInterval
	ReasonRotate   = "rotate"   // last record of a file before rotation
	ReasonClose    = "close"    // last record before a clean shutdown
)

// macSuffixLen is len(`,"mac":"` + 64 hex digits + `"}`).
const macSuffixLen = 8 + 64 + 2

var zeroMACHex = strings.Repeat("0", 64)

// ErrBadFrame is returned by SplitLine and ParseRecord for a line that does
// not end with the MAC member.
var ErrBadFrame = errors.New(`audit: line does not end with ,"mac":"<64 hex>"}`)

// SplitLine splits a record line (with or without its trailing newline) into
// the MAC input prefix (everything before `,"mac":`) and the raw 32-byte MAC.
func SplitLine(line []byte) (prefix []byte, mac [32]byte, err error) {
	line = bytes.TrimSuffix(line, []byte{'\n'})
	if len(line) < macSuffixLen+2 || line[0] != '{' {
		return nil, mac, ErrBadFrame
	}
	cut := len(line) - macSuffixLen
	suffix := line[cut:]
	if !bytes.HasPrefix(suffix, []byte(`,"mac":"`)) || !bytes.HasSuffix(suffix, []byte(`"}`)) {
		return nil, mac, ErrBadFrame
	}
	if _, err := hex.Decode(mac[:], suffix[8:72]); err != nil {
		return nil, mac, ErrBadFrame
	}
	return line[:cut], mac, nil
}

// ParseRecord decodes one line of an audit file. It checks the framing and
// JSON syntax but not the MAC; the returned Record does not retain line.
func ParseRecord(line []byte) (*Record, error) {
	if _, _, err := SplitLine(line); err != nil {
		return nil, err
	}
	var r Record
	if err := json.Unmarshal(line, &r); err != nil {
		return nil, fmt.Errorf("audit: bad record JSON: %w", err)
	}
	if r.Seq == 0 {
		return nil, errors.New("audit: record has no seq")
	}
	if r.Type == "" {
		return nil, errors.New("audit: record has no type")
	}
	if (r.Type == TypeCheckpoint) != (r.Checkpoint != nil) {
		return nil, errors.New("audit: checkpoint payload and type disagree")
	}
	return &r, nil
}

// checkpointMessage is what the SM2 signature of a checkpoint covers: every
// checkpoint field except the signature, plus the record's seq and time, in
// a fixed text form that does not depend on JSON encoding.
func checkpointMessage(seq uint64, timeText string, cp *Checkpoint) []byte {
	var b []byte
	b = append(b, "dbfence-audit-checkpoint-v1\nseq="...)
	b = strconv.AppendUint(b, seq, 10)
	b = append(b, "\ntime="...)
	b = append(b, timeText...)
	b = append(b, "\nreason="...)
	b = append(b, cp.Reason...)
	b = append(b, "\nanchor="...)
	b = strconv.AppendBool(b, cp.Anchor)
	b = append(b, "\nhead_seq="...)
	b = strconv.AppendUint(b, cp.HeadSeq, 10)
	b = append(b, "\nhead_mac="...)
	b = append(b, cp.HeadMAC...)
	b = append(b, "\nfile="...)
	b = append(b, cp.File...)
	b = append(b, "\nprev_file="...)
	b = append(b, cp.PrevFile...)
	b = append(b, "\nnext_file="...)
	b = append(b, cp.NextFile...)
	if d := cp.Discard; d != nil {
		b = fmt.Appendf(b, "\ndiscard=%s,%d,%d,%s,%s", d.File, d.ValidBytes, d.Bytes, d.SM3, d.Cause)
	}
	if l := cp.Lost; l != nil {
		b = fmt.Appendf(b, "\nlost=%s,%d,%s", l.File, l.FirstSeq, l.Cause)
	}
	return append(b, '\n')
}

// appendCheckpointBody appends the JSON members of a checkpoint record (the
// part after `"seq":N,`).
func appendCheckpointBody(dst []byte, timeText string, cp *Checkpoint) []byte {
	dst = append(dst, `"type":"checkpoint","time":"`...)
	dst = append(dst, timeText...)
	dst = append(dst, `","checkpoint":{"reason":`...)
	dst = appendJSONString(dst, cp.Reason)
	if cp.Anchor {
		dst = append(dst, `,"anchor":true`...)
	}
	dst = append(dst, `,"head_seq":`...)
	dst = strconv.AppendUint(dst, cp.HeadSeq, 10)
	dst = append(dst, `,"head_mac":"`...)
	dst = append(dst, cp.HeadMAC...)
	dst = append(dst, `","file":`...)
	dst = appendJSONString(dst, cp.File)
	dst = appendStringField(dst, "prev_file", cp.PrevFile)
	dst = appendStringField(dst, "next_file", cp.NextFile)
	if d := cp.Discard; d != nil {
		dst = append(dst, `,"discard":{"file":`...)
		dst = appendJSONString(dst, d.File)
		dst = append(dst, `,"valid_bytes":`...)
		dst = strconv.AppendInt(dst, d.ValidBytes, 10)
		dst = append(dst, `,"bytes":`...)
		dst = strconv.AppendInt(dst, d.Bytes, 10)
		dst = appendStringField(dst, "sm3", d.SM3)
		dst = append(dst, `,"cause":`...)
		dst = appendJSONString(dst, d.Cause)
		dst = append(dst, '}')
	}
	if l := cp.Lost; l != nil {
		dst = append(dst, `,"lost":{"file":`...)
		dst = appendJSONString(dst, l.File)
		dst = append(dst, `,"first_seq":`...)
		dst = strconv.AppendUint(dst, l.FirstSeq, 10)
		dst = append(dst, `,"cause":`...)
		dst = appendJSONString(dst, l.Cause)
		dst = append(dst, '}')
	}
	dst = append(dst, `,"sig":"`...)
	dst = append(dst, cp.Sig...)
	return append(dst, `"}`...)
}
