package masking

import "unicode/utf8"

// addressMasker keeps the administrative prefix of an address (province,
// prefecture, county by longest match against GB/T 2260) and masks every
// following character. When no division matches it keeps a short prefix of at
// most fallback_keep characters and never more than a third of the value.
type addressMasker struct {
	table        *divisionTable
	keepLevel    uint8
	fallbackKeep int
	maskRune     rune
}

func newAddressMasker(p *paramReader, maskRune rune) (Masker, error) {
	m := &addressMasker{table: divisions(), maskRune: maskRune}
	switch p.choiceParam("level", "county", "province", "city", "county") {
	case "province":
		m.keepLevel = levelProvince
	case "city":
		m.keepLevel = levelPrefecture
	default:
		m.keepLevel = levelCounty
	}
	m.fallbackKeep = p.intParam("fallback_keep", 3, 0, 16)
	return m, p.err
}

// Mask implements Masker.
func (m *addressMasker) Mask(dst, src []byte) []byte {
	keep := m.table.matchAddress(src).keepEnd(m.keepLevel)
	if keep == 0 {
		n := utf8.RuneCount(src)
		return appendKeepExact(dst, src, min(m.fallbackKeep, n/3), n, m.maskRune, nil)
	}
	dst = append(dst, src[:keep]...)
	return appendAllMasked(dst, src[keep:], m.maskRune)
}
