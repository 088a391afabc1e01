package masking

import (
	"bufio"
	"bytes"
	_ "embed"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

//go:embed data/divisions.tsv
var divisionsTSV []byte

// Division levels of GB/T 2260.
const (
	levelProvince   = 1
	levelPrefecture = 2
	levelCounty     = 3
)

// place is one spelling of a division name usable in an address.
type place struct {
	name  string
	code  int32 // normalised to 6 digits: 510000, 513400, 513401
	level uint8
	// short is set for spellings without the administrative suffix (成都,
	// 武侯, 凉山, 四川, 川). A short spelling only counts when the hierarchy
	// confirms it: a parent matched before it or a child matches after it.
	short bool
}

func (p *place) province() int32   { return p.code / 10000 }
func (p *place) prefecture() int32 { return p.code / 100 }

// divisionTable is the parsed GB/T 2260 table: region codes for identity
// number validation and a first-rune index of names for address matching.
type divisionTable struct {
	// regions maps 6-digit codes (provinces as XX0000, prefectures as
	// XXXX00) to true when current, false when known only historically.
	regions map[int32]bool
	// provinces holds the 2-digit province codes.
	provinces map[int32]bool
	places    []place
	// byFirstRune indexes places per level by first rune, longest name first.
	byFirstRune [4]map[rune][]int32
}

var divisions = sync.OnceValue(parseDivisions)

// provinceAbbreviations are the one-character official abbreviations (简称).
var provinceAbbreviations = map[int32]string{
	11: "京", 12: "津", 13: "冀", 14: "晋", 15: "蒙", 21: "辽", 22: "吉", 23: "黑",
	31: "沪", 32: "苏", 33: "浙", 34: "皖", 35: "闽", 36: "赣", 37: "鲁", 41: "豫",
	42: "鄂", 43: "湘", 44: "粤", 45: "桂", 46: "琼", 50: "渝", 51: "川", 52: "黔",
	53: "滇", 54: "藏", 61: "陕", 62: "甘", 63: "青", 64: "宁", 65: "新", 71: "台",
	81: "港", 82: "澳",
}

// ethnicGroups appear in the names of autonomous divisions (凉山彝族自治州);
// the short spelling is the part before the first of them.
var ethnicGroups = []string{
	"哈萨克", "柯尔克孜", "维吾尔", "蒙古", "朝鲜", "土家", "布依", "哈尼", "景颇", "傈僳",
	"仡佬", "毛南", "仫佬", "纳西", "普米", "拉祜", "独龙", "基诺", "德昂", "布朗", "阿昌",
	"达斡尔", "鄂温克", "鄂伦春", "锡伯", "塔吉克", "撒拉", "保安", "东乡", "裕固", "各",
	"彝", "藏", "羌", "苗", "侗", "傣", "白", "壮", "回", "瑶", "黎", "畲", "满", "土", "水", "佤", "怒",
}

func parseDivisions() *divisionTable {
	t := &divisionTable{regions: make(map[int32]bool, 8192), provinces: make(map[int32]bool, 40)}
	sc := bufio.NewScanner(bytes.NewReader(divisionsTSV))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		fields := strings.Split(line, "\t")
		if len(fields) != 3 {
			continue
		}
		code, err := strconv.Atoi(fields[0])
		if err != nil {
			continue
		}
		name, current := fields[1], fields[2] == "c"
		var full int32
		var level uint8
		switch len(fields[0]) {
		case 2:
			full, level = int32(code)*10000, levelProvince
			t.provinces[int32(code)] = true
		case 4:
			full, level = int32(code)*100, levelPrefecture
		case 6:
			full, level = int32(code), levelCounty
		default:
			continue
		}
		if _, seen := t.regions[full]; !seen || current {
			t.regions[full] = current
		}
		if current && !isPlaceholderName(name) {
			t.addPlace(name, full, level)
		}
	}
	for i := range t.byFirstRune {
		for r, idx := range t.byFirstRune[i] {
			sort.SliceStable(idx, func(a, b int) bool { return len(t.places[idx[a]].name) > len(t.places[idx[b]].name) })
			t.byFirstRune[i][r] = idx
		}
	}
	return t
}

// isPlaceholderName filters the statistical groupings that are not places.
func isPlaceholderName(name string) bool {
	return name == "市辖区" || name == "县" || name == "市" || strings.Contains(name, "直辖")
}

func (t *divisionTable) addPlace(name string, code int32, level uint8) {
	t.index(place{name: name, code: code, level: level})
	if level == levelProvince {
		if abbr, ok := provinceAbbreviations[code/10000]; ok {
			t.index(place{name: abbr, code: code, level: level, short: true})
		}
	}
	if short := shortName(name, level); short != "" && short != name {
		t.index(place{name: short, code: code, level: level, short: true})
	}
}

func (t *divisionTable) index(p place) {
	if t.byFirstRune[p.level] == nil {
		t.byFirstRune[p.level] = make(map[rune][]int32)
	}
	r, _ := utf8.DecodeRuneInString(p.name)
	t.places = append(t.places, p)
	t.byFirstRune[p.level][r] = append(t.byFirstRune[p.level][r], int32(len(t.places)-1))
}

// shortName drops the administrative suffix: 四川省→四川, 成都市→成都,
// 凉山彝族自治州→凉山, 大兴安岭地区→大兴安岭, 武侯区→武侯. Spellings of fewer
// than two characters are not kept (和县 stays 和县): they match too much.
func shortName(name string, level uint8) string {
	short := name
	if i := ethnicIndex(name); i > 0 {
		short = name[:i]
	} else {
		for _, suffix := range []string{"特别行政区", "自治区", "自治州", "自治县", "自治旗", "林区", "地区", "新区", "省", "市", "区", "县", "盟", "旗"} {
			if s, ok := strings.CutSuffix(name, suffix); ok {
				short = s
				break
			}
		}
	}
	if utf8.RuneCountInString(short) < 2 {
		return ""
	}
	return short
}

// ethnicIndex is the byte offset of the first ethnic group name followed by
// 族 or 自治 at rune position ≥ 2 (place names have at least two characters),
// or -1.
func ethnicIndex(name string) int {
	runePos := 0
	for off := range name {
		if runePos >= 2 {
			for _, g := range ethnicGroups {
				if rest, ok := strings.CutPrefix(name[off:], g); ok && (strings.HasPrefix(rest, "族") || strings.HasPrefix(rest, "自治")) {
					return off
				}
			}
		}
		runePos++
	}
	return -1
}

// regionStatus tells what the table knows about a 6-digit region code.
type regionStatus uint8

const (
	regionUnknown regionStatus = iota
	regionHistorical
	regionCurrent
)

func (t *divisionTable) region(code int32) regionStatus {
	current, ok := t.regions[code]
	switch {
	case !ok:
		return regionUnknown
	case current:
		return regionCurrent
	}
	return regionHistorical
}

// addressMatch is the result of matching division names at the start of an
// address: the byte offset where each level ends (0 when not matched).
type addressMatch struct {
	end [4]int
}

// keepEnd returns the end of the deepest matched level up to maxLevel.
func (m addressMatch) keepEnd(maxLevel uint8) int {
	end := 0
	for l := uint8(levelProvince); l <= maxLevel; l++ {
		if m.end[l] > end {
			end = m.end[l]
		}
	}
	return end
}

// matchAddress finds the longest chain province → prefecture → county at the
// start of s. Short spellings need hierarchical confirmation; when several
// chains match, the one that explains more bytes wins.
func (t *divisionTable) matchAddress(s []byte) addressMatch {
	var best addressMatch
	t.matchLevel(s, 0, levelProvince, 0, false, &addressMatch{}, &best)
	return best
}

// matchLevel tries every candidate at level from offset off, and skipping
// the level when no candidate leads to an accepted chain (直辖市 have no
// prefecture; an address may start below the province). parent is the code
// of the last matched division (0 = none); pendingShort is true when the
// previous match was a short spelling that still needs a child to confirm
// it. It reports whether some accepted chain was found.
func (t *divisionTable) matchLevel(s []byte, off int, level uint8, parent int32, pendingShort bool, cur, best *addressMatch) bool {
	if level > levelCounty {
		if pendingShort || cur.keepEnd(levelCounty) == 0 {
			return false
		}
		if cur.keepEnd(levelCounty) > best.keepEnd(levelCounty) {
			*best = *cur
		}
		return true
	}
	found := false
	if off < len(s) {
		r, _ := utf8.DecodeRune(s[off:])
		for _, i := range t.byFirstRune[level][r] {
			p := &t.places[i]
			if !p.childOf(parent) || !hasPrefixString(s[off:], p.name) {
				continue
			}
			// A short spelling with no matched parent must be confirmed by a
			// child; counties have no children, so they need a parent.
			needsChild := p.short && parent == 0
			if needsChild && level == levelCounty {
				continue
			}
			end := skipSpaces(s, off+len(p.name))
			saved := *cur
			cur.end[level] = end
			if t.matchLevel(s, end, level+1, p.code, needsChild, cur, best) {
				found = true
			}
			*cur = saved
		}
	}
	if found {
		return true
	}
	return t.matchLevel(s, off, level+1, parent, pendingShort, cur, best)
}

func (p *place) childOf(parent int32) bool {
	switch {
	case parent == 0:
		return true
	case parent%10000 == 0: // a province
		return p.province() == parent/10000 && p.code != parent
	case parent%100 == 0: // a prefecture
		return p.prefecture() == parent/100 && p.code != parent
	}
	return false
}

func skipSpaces(s []byte, off int) int {
	for off < len(s) {
		switch {
		case s[off] == ' ' || s[off] == '\t':
			off++
		case hasPrefixString(s[off:], "\u3000"):
			off += len("\u3000")
		default:
			return off
		}
	}
	return off
}

// hasPrefixString is bytes.HasPrefix for a string prefix without converting
// it (a conversion of a name longer than 32 bytes would allocate).
func hasPrefixString(s []byte, prefix string) bool {
	return len(s) >= len(prefix) && string(s[:len(prefix)]) == prefix
}
