package masking

import (
	"bytes"
	"unicode/utf8"
)

// ValidEmail reports whether b looks like an e-mail address: a non-empty
// local part of [A-Za-z0-9._%+-], '@', dot-separated labels of
// [A-Za-z0-9-] and a top-level domain of at least two letters.
func ValidEmail(b []byte) bool {
	at := bytes.LastIndexByte(b, '@')
	if at <= 0 || at > 64 {
		return false
	}
	for _, c := range b[:at] {
		if !isEmailLocalByte(c) {
			return false
		}
	}
	return validDomain(b[at+1:])
}

func isEmailLocalByte(c byte) bool {
	return isASCIIAlnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-'
}

func isDomainByte(c byte) bool { return isASCIIAlnum(c) || c == '-' || c == '.' }

func validDomain(d []byte) bool {
	if len(d) < 4 || len(d) > 253 || d[0] == '.' || d[0] == '-' {
		return false
	}
	lastDot := bytes.LastIndexByte(d, '.')
	if lastDot <= 0 || len(d)-lastDot-1 < 2 {
		return false
	}
	for i, c := range d {
		if !isDomainByte(c) || c == '.' && d[i-1] == '.' {
			return false
		}
	}
	for _, c := range d[lastDot+1:] {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// emailMasker keeps keep_first characters of the local part (1) and the
// domain; mask_domain=true also masks the domain except its top-level part.
// A local part no longer than keep_first is masked whole.
type emailMasker struct {
	keepFirst  int
	maskDomain bool
	maskRune   rune
}

// Mask implements Masker.
func (m *emailMasker) Mask(dst, src []byte) []byte {
	at := bytes.LastIndexByte(src, '@')
	if at < 0 {
		return appendKeep(dst, src, keepRule{first: m.keepFirst}, m.maskRune, nil)
	}
	local := src[:at]
	n := utf8.RuneCount(local)
	keep := m.keepFirst
	if keep >= n {
		keep = 0
	}
	dst = appendKeepExact(dst, local, keep, n, m.maskRune, nil)
	dst = append(dst, '@')
	domain := src[at+1:]
	if !m.maskDomain {
		return append(dst, domain...)
	}
	tld := bytes.LastIndexByte(domain, '.')
	if tld < 0 {
		return appendAllMasked(dst, domain, m.maskRune)
	}
	dst = appendKeepExact(dst, domain[:tld], 0, len(domain), m.maskRune, func(r rune) bool { return r != '.' })
	return append(dst, domain[tld:]...)
}
