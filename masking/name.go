package masking

import (
	"unicode"
	"unicode/utf8"
)

// compoundSurnames are the two-character surnames (复姓) kept whole.
var compoundSurnames = map[string]bool{}

func init() {
	for _, s := range []string{
		"欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒",
		"夏侯", "轩辕", "令狐", "钟离", "闾丘", "太史", "端木", "申屠", "独孤", "南宫", "万俟", "司空",
		"澹台", "公冶", "呼延", "赫连", "百里", "东郭", "西门", "第五", "濮阳", "淳于", "单于", "太叔",
		"仲孙", "鲜于", "宗政", "拓跋", "公羊", "谷梁", "漆雕", "乐正", "壤驷", "公良", "梁丘", "左丘",
		"东门", "微生", "羊舌", "段干", "亓官", "司寇", "巫马", "公西", "颛孙", "子车", "公伯", "梁丘",
		"公玉", "哥舒", "完颜", "耶律", "纳兰", "爱新觉罗",
	} {
		compoundSurnames[s] = true
	}
}

// surnameLen returns how many leading runes of a Han name form the surname.
func surnameLen(name []byte) int {
	off, runes := 0, 0
	for runes < 4 && off < len(name) {
		_, size := utf8.DecodeRune(name[off:])
		off += size
		runes++
		if runes >= 2 && compoundSurnames[string(name[:off])] {
			return runes
		}
	}
	return 1
}

// nameMasker keeps the surname (compound surnames whole), masks the given
// name per character; keep_last shows the last character of names of three or
// more characters (张*丰). Names written with a middle dot (阿卜杜·热合曼)
// keep their first part and the dots. Latin names keep their first letter
// and spaces. A one-character value is masked entirely.
type nameMasker struct {
	keepLast int
	maskRune rune
}

// Mask implements Masker.
func (m *nameMasker) Mask(dst, src []byte) []byte {
	n := countRunes(src, notSeparator)
	if n <= 1 {
		return appendKeepExact(dst, src, 0, n, m.maskRune, notSeparator)
	}
	if dot := firstSeparatorRune(src, isNameDot); dot > 0 {
		first := countRunes(src[:dot], nil)
		if first < n { // something after the dot to hide
			return appendKeepExact(dst, src, first, n, m.maskRune, notSeparator)
		}
	}
	keep := 1
	if r, _ := utf8.DecodeRune(src); unicode.Is(unicode.Han, r) {
		keep = surnameLen(src)
	}
	keep = min(keep, n-1)
	last := m.keepLast
	if n-keep-last < 1 {
		last = 0
	}
	return appendKeepExact(dst, src, keep, n-last, m.maskRune, notSeparator)
}

func isNameDot(r rune) bool {
	switch r {
	case '·', '•', '・', '．', '.', '\u2027':
		return true
	}
	return false
}

// firstSeparatorRune returns the byte offset of the first rune satisfying
// is, or -1.
func firstSeparatorRune(src []byte, is func(rune) bool) int {
	for off := 0; off < len(src); {
		r, size := utf8.DecodeRune(src[off:])
		if is(r) {
			return off
		}
		off += size
	}
	return -1
}
