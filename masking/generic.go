package masking

import (
	"fmt"
	"unicode/utf8"
)

// keepMasker is the generic "keep first n / last m" rule. It backs the keep,
// uscc, passport and license_plate algorithms; the class-specific ones only
// differ in defaults and in ignoring separators.
type keepMasker struct {
	keep     keepRule
	maskRune rune
	// alnumOnly skips separators (space, '-', '·'...) when counting positions.
	alnumOnly bool
}

// Mask implements Masker.
func (m *keepMasker) Mask(dst, src []byte) []byte {
	var counted runeCounter
	if m.alnumOnly {
		counted = notSeparator
	}
	return appendKeep(dst, src, m.keep, m.maskRune, counted)
}

// rangeMasker masks characters from..to (1-based, inclusive; to = 0 means to
// the end), the "mask x..y" primitive of cloud DSC products.
type rangeMasker struct {
	from, to int
	maskRune rune
}

func newRangeMasker(p *paramReader, maskRune rune) (Masker, error) {
	from := p.intParam("from", 1, 1, 1<<20)
	to := p.intParam("to", 0, 0, 1<<20)
	if p.err == nil && to != 0 && to < from {
		return nil, fmt.Errorf("masking: algorithm %q: parameter to=%d is before from=%d", "mask_range", to, from)
	}
	return &rangeMasker{from: from, to: to, maskRune: maskRune}, p.err
}

// Mask implements Masker.
func (m *rangeMasker) Mask(dst, src []byte) []byte {
	n := utf8.RuneCount(src)
	to := m.to
	if to == 0 || to > n {
		to = n
	}
	if m.from > to { // range beyond the value: fail closed, hide it all
		return appendAllMasked(dst, src, m.maskRune)
	}
	return appendKeepExact(dst, src, m.from-1, to, m.maskRune, nil)
}

// redactMasker replaces the whole value with a fixed string.
type redactMasker struct {
	replacement []byte
}

// Mask implements Masker.
func (m *redactMasker) Mask(dst, src []byte) []byte {
	return append(dst, m.replacement...)
}

// nullMasker stands for "send NULL". Mask appends nothing (an empty string);
// MaskTyped reports ok=false for every type so the proxy sends a real NULL.
type nullMasker struct{}

// Mask implements Masker.
func (nullMasker) Mask(dst, src []byte) []byte { return dst }
