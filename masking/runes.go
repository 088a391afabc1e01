package masking

import "unicode/utf8"

// keepRule is "show the first `first` and the last `last` characters".
type keepRule struct {
	first, last int
}

// shrink adapts the rule to a value of n characters so that at least a third
// of it (and at least one character) stays hidden: a short or malformed value
// must not come out in clear because the rule was written for longer ones.
func (k keepRule) shrink(n int) (first, last int) {
	first, last = k.first, k.last
	hidden := n / 3
	if hidden < 1 {
		hidden = 1
	}
	if first+last > n-hidden {
		first, last = min(first, n/4), min(last, n/4)
	}
	return first, last
}

// appendRune appends r as UTF-8; the ASCII case avoids the encoder call.
func appendRune(dst []byte, r rune) []byte {
	if r < utf8.RuneSelf {
		return append(dst, byte(r))
	}
	return utf8.AppendRune(dst, r)
}

// appendMaskRunes appends n copies of r.
func appendMaskRunes(dst []byte, r rune, n int) []byte {
	if r < utf8.RuneSelf {
		for ; n > 0; n-- {
			dst = append(dst, byte(r))
		}
		return dst
	}
	for ; n > 0; n-- {
		dst = utf8.AppendRune(dst, r)
	}
	return dst
}

// runeCounter decides which characters count as positions for a keep rule;
// the others (separators such as space, '-' or '·') pass through unchanged.
// nil counts every character.
type runeCounter func(r rune) bool

func countRunes(src []byte, counted runeCounter) int {
	n := 0
	for off := 0; off < len(src); {
		r, size := utf8.DecodeRune(src[off:])
		if counted == nil || counted(r) {
			n++
		}
		off += size
	}
	return n
}

// appendKeep masks every counted character of src except the first `first`
// and the last `last` of them (after shrink). An invalid UTF-8 byte counts as
// one character; hidden ones become the mask rune, so hidden output is always
// valid UTF-8.
func appendKeep(dst, src []byte, k keepRule, maskRune rune, counted runeCounter) []byte {
	n := countRunes(src, counted)
	first, last := k.shrink(n)
	return appendKeepExact(dst, src, first, n-last, maskRune, counted)
}

// appendKeepExact shows counted characters with index < showBefore or
// >= showFrom and masks the rest.
func appendKeepExact(dst, src []byte, showBefore, showFrom int, maskRune rune, counted runeCounter) []byte {
	i := 0
	for off := 0; off < len(src); {
		c := src[off]
		if c < utf8.RuneSelf { // ASCII fast path
			if counted != nil && !counted(rune(c)) {
				dst = append(dst, c)
			} else {
				if i < showBefore || i >= showFrom {
					dst = append(dst, c)
				} else {
					dst = appendRune(dst, maskRune)
				}
				i++
			}
			off++
			continue
		}
		r, size := utf8.DecodeRune(src[off:])
		if counted != nil && !counted(r) {
			dst = append(dst, src[off:off+size]...)
		} else {
			if i < showBefore || i >= showFrom {
				dst = append(dst, src[off:off+size]...)
			} else {
				dst = appendRune(dst, maskRune)
			}
			i++
		}
		off += size
	}
	return dst
}

// appendAllMasked replaces every character of src with the mask rune.
func appendAllMasked(dst, src []byte, maskRune rune) []byte {
	return appendMaskRunes(dst, maskRune, utf8.RuneCount(src))
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isASCIIAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
}

// isSeparator reports the punctuation people put inside identifiers for
// readability: spaces, hyphens, dots and the middle dots used in plates and
// minority names. Separators are kept and not counted by keep rules.
func isSeparator(r rune) bool {
	switch r {
	case ' ', '-', '.', '\t', '·', '•', '・', '．', '－', '\u3000':
		return true
	}
	return false
}

func notSeparator(r rune) bool { return !isSeparator(r) }
