package postgres

import (
	"encoding/binary"

	"github.com/dbfence/dbfence/fault"
	"github.com/dbfence/dbfence/rules"
)

// COPY ... TO STDOUT of a restricted role (an export, so it runs only under
// an approval) is relayed row by row: each CopyData message the server sends
// holds one row (and, with HEADER, the first one the column names). A row
// is counted against the row cap and the rolling budget, split into fields
// as the statement's options wrote it (text or CSV), its masked fields
// decoded, masked and written again the same way. Binary COPY, a NULL
// string of the statement's choosing and other encodings are refused when
// rows must be treated: a row that cannot be rewritten exactly is never
// relayed.

// copyOutState is the COPY TO STDOUT being relayed under a plan.
type copyOutState struct {
	plan   *rules.StatementVerdict
	format *rules.CopyFormat
	// header is set until the header line (HEADER) has been relayed.
	header bool
}

func copyRefused(why string) *fault.Error {
	return fault.New(fault.UnsupportedCommand, "dbfence: COPY TO STDOUT of a result with masked columns or a row limit cannot use %s; use text or CSV format with the default NULL", why)
}

// startCopyOut checks a CopyOutResponse against plan and prepares the
// relay of its rows; s.copyOut stays nil when they pass untreated.
func (s *session) startCopyOut(plan *rules.StatementVerdict, body []byte) *fault.Error {
	s.copyOut = nil
	if copyOutAllowed(plan) {
		return nil
	}
	f := plan.CopyOut
	switch {
	case f == nil:
		return errCopyRefused
	case f.Unsupported != "":
		return copyRefused(f.Unsupported)
	case f.Format != "text" && f.Format != "csv" || len(body) < 3 || body[0] != 0:
		return copyRefused("the binary format")
	}
	if n := int(binary.BigEndian.Uint16(body[1:3])); plan.Columns != nil && n != len(plan.Columns) {
		return mismatch(n, len(plan.Columns))
	}
	s.copyOut = &copyOutState{plan: plan, format: f, header: f.Header}
	return nil
}

// copyData relays one CopyData message of a COPY TO STDOUT, counting and
// rewriting it when a plan applies; rows counts the rows relayed.
func (s *session) copyData(body []byte, rows *int64) error {
	st := s.copyOut
	if s.discard || st == nil {
		return s.emit(msgCopyData, body)
	}
	if st.header {
		st.header = false
		return s.emit(msgCopyData, body)
	}
	if ok, err := s.admitRow(st.plan, rows); !ok {
		return err
	}
	if st.plan.Columns == nil {
		s.e.m.rowsPlain.Inc()
		return s.emit(msgCopyData, body)
	}
	row, cell, ok := rewriteCopyRow(s.rowBuf[:0], s.cellBuf, body, st.format, st.plan.Columns)
	s.cellBuf = cell
	if !ok {
		return s.abort(fault.New(fault.ResultMismatch, "dbfence: a COPY row does not match its description; result refused"))
	}
	s.rowBuf = row
	s.e.m.rowsMasked.Inc()
	return s.emit(msgCopyData, row)
}

// rewriteCopyRow appends to dst the row line (text or CSV format, as f
// says) with the fields of masked columns decoded, masked and written back
// in that format; NULLs stay NULL. ok=false when the line is not exactly
// one row of len(cols) fields. scratch holds decoded values.
func rewriteCopyRow(dst, scratch, line []byte, f *rules.CopyFormat, cols []rules.ColumnPlan) (out, scratchOut []byte, ok bool) {
	if len(line) == 0 || line[len(line)-1] != '\n' {
		return dst, scratch, false
	}
	line = line[:len(line)-1]
	csv := f.Format == "csv"
	for c, i := 0, 0; c < len(cols); c++ {
		var end int
		var null bool
		if csv {
			scratch, end, null, ok = nextCopyCSVField(scratch[:0], line, i, f)
		} else {
			scratch, end, null, ok = nextCopyTextField(scratch[:0], line, i, f.Delimiter, cols[c].Masker != nil)
		}
		if !ok {
			return dst, scratch, false
		}
		if m := cols[c].Masker; m != nil && !null {
			n := len(scratch)
			scratch = m.Mask(scratch, scratch[:n])
			if csv {
				dst = appendCopyCSV(dst, scratch[n:], f)
			} else {
				dst = appendCopyText(dst, scratch[n:], f.Delimiter)
			}
		} else {
			dst = append(dst, line[i:end]...)
		}
		if end == len(line) {
			return append(dst, '\n'), scratch, c == len(cols)-1
		}
		dst = append(dst, f.Delimiter)
		i = end + 1
	}
	return dst, scratch, false // more fields than columns
}

// nextCopyTextField reads the text-format field at line[i:], appending its
// decoded value to dst when decode is set (a field relayed as it is need
// not be decoded); end is where it stops (a delimiter or the end).
func nextCopyTextField(dst, line []byte, i int, delim byte, decode bool) (value []byte, end int, null, ok bool) {
	start := i
	for i < len(line) && line[i] != delim {
		if line[i] == '\\' {
			i++
		}
		i++
	}
	if i > len(line) {
		return dst, 0, false, false // a trailing backslash
	}
	field := line[start:i]
	if string(field) == `\N` || !decode {
		return dst, i, string(field) == `\N`, true
	}
	dst, ok = unescapeCopyText(dst, field)
	return dst, i, false, ok
}

// nextCopyCSVField reads the CSV field at line[i:], appending its value to
// dst; an unquoted empty field is NULL.
func nextCopyCSVField(dst, line []byte, i int, f *rules.CopyFormat) (value []byte, end int, null, ok bool) {
	if i == len(line) || line[i] != f.Quote {
		start := i
		for i < len(line) && line[i] != f.Delimiter {
			if line[i] == f.Quote {
				return dst, 0, false, false
			}
			i++
		}
		return append(dst, line[start:i]...), i, i == start, true
	}
	for i++; i < len(line); {
		b := line[i]
		switch {
		case b == f.Escape && f.Escape != f.Quote && i+1 < len(line) && (line[i+1] == f.Quote || line[i+1] == f.Escape):
			dst = append(dst, line[i+1])
			i += 2
		case b == f.Quote && f.Escape == f.Quote && i+1 < len(line) && line[i+1] == f.Quote:
			dst = append(dst, f.Quote)
			i += 2
		case b == f.Quote:
			i++
			return dst, i, false, i == len(line) || line[i] == f.Delimiter
		default:
			dst = append(dst, b)
			i++
		}
	}
	return dst, 0, false, false // no closing quote
}

// unescapeCopyText decodes a text-format field (COPY's backslash escapes).
func unescapeCopyText(dst, field []byte) ([]byte, bool) {
	for i := 0; i < len(field); i++ {
		b := field[i]
		if b != '\\' {
			dst = append(dst, b)
			continue
		}
		i++
		if i == len(field) {
			return dst, false
		}
		e := field[i]
		if raw, ok := copyUnescape(e); ok {
			dst = append(dst, raw)
			continue
		}
		switch e {
		case '0', '1', '2', '3', '4', '5', '6', '7':
			v := int(e - '0')
			for k := 0; k < 2 && i+1 < len(field) && field[i+1] >= '0' && field[i+1] <= '7'; k++ {
				i++
				v = v*8 + int(field[i]-'0')
			}
			dst = append(dst, byte(v))
		case 'x':
			v, digits := 0, 0
			for ; digits < 2 && i+1 < len(field) && hexVal(field[i+1]) >= 0; digits++ {
				i++
				v = v*16 + hexVal(field[i])
			}
			if digits == 0 {
				dst = append(dst, 'x')
			} else {
				dst = append(dst, byte(v))
			}
		default:
			dst = append(dst, e)
		}
	}
	return dst, true
}

// copyUnescape is the control character a backslash and letter stand for.
func copyUnescape(letter byte) (byte, bool) {
	for _, e := range copyEscapes {
		if e.letter == letter {
			return e.raw, true
		}
	}
	return 0, false
}

func hexVal(b byte) int {
	switch {
	case b >= '0' && b <= '9':
		return int(b - '0')
	case b >= 'a' && b <= 'f':
		return int(b-'a') + 10
	case b >= 'A' && b <= 'F':
		return int(b-'A') + 10
	}
	return -1
}

// copyEscapes are the control characters COPY's text format writes as a
// backslash and a letter.
var copyEscapes = [...]struct{ raw, letter byte }{
	{'\b', 'b'}, {'\f', 'f'}, {'\n', 'n'}, {'\r', 'r'}, {'\t', 't'}, {'\v', 'v'},
}

// appendCopyText appends v escaped as a text-format field.
func appendCopyText(dst, v []byte, delim byte) []byte {
next:
	for _, b := range v {
		for _, e := range copyEscapes {
			if b == e.raw {
				dst = append(dst, '\\', e.letter)
				continue next
			}
		}
		if b == '\\' || b == delim {
			dst = append(dst, '\\')
		}
		dst = append(dst, b)
	}
	return dst
}

// appendCopyCSV appends v as a quoted CSV field.
func appendCopyCSV(dst, v []byte, f *rules.CopyFormat) []byte {
	dst = append(dst, f.Quote)
	for _, b := range v {
		if b == f.Quote || b == f.Escape && f.Escape != f.Quote {
			dst = append(dst, f.Escape)
		}
		dst = append(dst, b)
	}
	return append(dst, f.Quote)
}
