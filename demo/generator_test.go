package demo

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// validIDCard checks an 18-character ID number independently of the
// generator: digits, GB 11643 check character, a region from the table and a
// real birthday between 1800 and today. It returns the reason it is invalid.
func validIDCard(id string, regionCodes map[string]Region) (birthday time.Time, reason string) {
	if len(id) != 18 {
		return birthday, "length"
	}
	weights := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := 0; i < 17; i++ {
		if id[i] < '0' || id[i] > '9' {
			return birthday, "non-digit"
		}
		sum += int(id[i]-'0') * weights[i]
	}
	if want := "10X98765432"[sum%11]; id[17] != want {
		return birthday, "check character " + string(id[17]) + ", want " + string(want)
	}
	if regionCodes != nil {
		if _, ok := regionCodes[id[:6]]; !ok {
			return birthday, "region " + id[:6] + " not in the table"
		}
	}
	birthday, err := time.Parse("20060102", id[6:14])
	if err != nil {
		return birthday, "birthday " + id[6:14]
	}
	if birthday.Year() < 1800 || birthday.After(time.Now()) {
		return birthday, "birthday out of range"
	}
	return birthday, ""
}

// luhnValid reports whether a digit string passes the Luhn check.
func luhnValid(s string) bool {
	sum := 0
	for i := 0; i < len(s); i++ {
		d := int(s[len(s)-1-i] - '0')
		if d < 0 || d > 9 {
			return false
		}
		if i%2 == 1 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return len(s) > 0 && sum%10 == 0
}

func regionIndex() map[string]Region {
	m := make(map[string]Region, len(regions))
	for _, r := range regions {
		m[r.Code] = r
	}
	return m
}

var (
	mobileRE   = regexp.MustCompile(`^1[3-9]\d{9}$`)
	bankCardRE = regexp.MustCompile(`^62\d{14,17}$`)
)

func TestValidatorsAgreeWithPublishedExamples(t *testing.T) {
	tests := []struct {
		desc  string
		value string
		check func(string) bool
		want  bool
	}{
		{desc: "ID with X check char", value: "11010519491231002X", check: idOK, want: true},
		{desc: "ID born 1880", value: "440524188001010014", check: idOK, want: true},
		{desc: "ID 34052419800101001X", value: "34052419800101001X", check: idOK, want: true},
		{desc: "ID with wrong check char", value: "110105194912310021", check: idOK, want: false},
		{desc: "ID with 17 chars", value: "11010519491231002", check: idOK, want: false},
		{desc: "UnionPay card", value: "6225882708965808", check: luhnValid, want: true},
		{desc: "card with one digit changed", value: "6225882708965809", check: luhnValid, want: false},
		{desc: "generator check char, X case", value: "11010519491231002X", check: generatorCheckChar, want: true},
		{desc: "generator check char, digit case", value: "440524188001010014", check: generatorCheckChar, want: true},
		{desc: "generator Luhn digit", value: "6225882708965808", check: generatorLuhn, want: true},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			if got := tt.check(tt.value); got != tt.want {
				t.Errorf("check(%q) = %v, want %v", tt.value, got, tt.want)
			}
		})
	}
}

func idOK(s string) bool { _, reason := validIDCard(s, nil); return reason == "" }

func generatorCheckChar(s string) bool { return idCardCheckChar(s[:17]) == s[17] }

func generatorLuhn(s string) bool { return luhnCheckDigit([]byte(s[:len(s)-1])) == s[len(s)-1] }

func TestRegionTable(t *testing.T) {
	idx := regionIndex()
	if len(idx) != len(regions) {
		t.Fatalf("%d regions but %d distinct codes", len(regions), len(idx))
	}
	if len(regions) < 150 {
		t.Errorf("only %d regions, want ≥ 150", len(regions))
	}
	provinceOf := map[string]string{}
	for _, r := range regions {
		if !regexp.MustCompile(`^[1-6]\d{5}$`).MatchString(r.Code) || strings.HasSuffix(r.Code, "00") {
			t.Errorf("%s %s: not a county-level code", r.Code, r.County)
		}
		if p, ok := provinceOf[r.Code[:2]]; ok && p != r.Province {
			t.Errorf("%s: province %s, but code prefix %s is %s elsewhere", r.Code, r.Province, r.Code[:2], p)
		}
		provinceOf[r.Code[:2]] = r.Province
		municipality := r.Province == "北京市" || r.Province == "天津市" || r.Province == "上海市" || r.Province == "重庆市"
		if municipality && r.City != "" {
			t.Errorf("%s: 直辖市 district with city %q", r.Code, r.City)
		}
	}
	if len(provinceOf) != 31 {
		t.Errorf("%d provinces, want all 31 mainland ones", len(provinceOf))
	}
	required := []struct {
		desc string
		want Region
	}{
		{desc: "自治州 county-level city", want: Region{"513401", "四川省", "凉山彝族自治州", "西昌市"}},
		{desc: "省直辖县级市 without city", want: Region{"429004", "湖北省", "", "仙桃市"}},
		{desc: "旗 in a 盟", want: Region{"152921", "内蒙古自治区", "阿拉善盟", "阿拉善左旗"}},
		{desc: "直辖市 district without city", want: Region{"110105", "北京市", "", "朝阳区"}},
		{desc: "地区 in an 自治区", want: Region{"653101", "新疆维吾尔自治区", "喀什地区", "喀什市"}},
	}
	for _, tt := range required {
		t.Run(tt.desc, func(t *testing.T) {
			if got, ok := idx[tt.want.Code]; !ok || got != tt.want {
				t.Errorf("region %s = %+v, want %+v", tt.want.Code, got, tt.want)
			}
		})
	}
}

func TestGeneratedPeopleAreValid(t *testing.T) {
	const n = 5000
	idx := regionIndex()
	depts := map[string]bool{}
	for _, d := range departments {
		depts[d.value] = true
	}
	g := NewGenerator(DefaultSeed)
	sameRegion := 0
	for i := 1; i <= n; i++ {
		p := g.Next()
		if p.ID != int64(i) {
			t.Fatalf("person %d has ID %d", i, p.ID)
		}
		birthday, reason := validIDCard(p.IDCard, idx)
		if reason != "" {
			t.Fatalf("person %d: invalid ID %s: %s", i, p.IDCard, reason)
		}
		if !birthday.Equal(p.Birthday) {
			t.Errorf("person %d: ID birthday %s, Birthday field %s", i, birthday, p.Birthday)
		}
		if y := p.Birthday.Year(); y < 1940 || y > 2005 {
			t.Errorf("person %d: born %d, want 1940–2005", i, y)
		}
		if !luhnValid(p.BankCard) || !bankCardRE.MatchString(p.BankCard) {
			t.Errorf("person %d: bank card %s fails Luhn or is not a 16–19-digit UnionPay number", i, p.BankCard)
		}
		if !mobileRE.MatchString(p.Phone) {
			t.Errorf("person %d: phone %s", i, p.Phone)
		}
		if p.Name == "" || strings.ContainsAny(p.Name, " *") {
			t.Errorf("person %d: name %q", i, p.Name)
		}
		if !depts[p.Dept] {
			t.Errorf("person %d: dept %q", i, p.Dept)
		}
		r := idx[p.IDCard[:6]]
		if strings.HasPrefix(p.Address, r.Province+r.City+r.County) {
			sameRegion++
		} else if !addressInSomeRegion(p.Address) {
			t.Errorf("person %d: address %q starts with no known province+city+county", i, p.Address)
		}
		if !regexp.MustCompile(`(室|号)$`).MatchString(p.Address) {
			t.Errorf("person %d: address %q does not end with a room or house number", i, p.Address)
		}
	}
	if share := float64(sameRegion) / n; share < 0.8 || share > 0.95 {
		t.Errorf("%.1f%% of addresses in the ID's county, want most (≈85%%)", share*100)
	}
}

func addressInSomeRegion(addr string) bool {
	for _, r := range regions {
		if strings.HasPrefix(addr, r.Province+r.City+r.County) {
			return true
		}
	}
	return false
}

func TestGeneratedPopulationHasTheHardCases(t *testing.T) {
	const n = 5000
	g := NewGenerator(DefaultSeed)
	people := make([]Person, n)
	for i := range people {
		people[i] = g.Next()
	}
	isCompound := func(p Person) bool {
		for _, s := range CompoundSurnames {
			if strings.HasPrefix(p.Name, s) {
				return true
			}
		}
		return false
	}
	tests := []struct {
		desc    string
		matches func(Person) bool
		atLeast int
	}{
		{desc: "compound surnames", matches: isCompound, atLeast: 50},
		{desc: "names with ·", matches: func(p Person) bool { return strings.Contains(p.Name, "·") }, atLeast: 20},
		{desc: "men (odd 17th digit)", matches: func(p Person) bool { return sexDigitIsMale(p.IDCard) }, atLeast: n * 4 / 10},
		{desc: "women (even 17th digit)", matches: func(p Person) bool { return !sexDigitIsMale(p.IDCard) }, atLeast: n * 4 / 10},
		{desc: "X check characters", matches: func(p Person) bool { return p.IDCard[17] == 'X' }, atLeast: n / 20},
		{desc: "直辖市 addresses", matches: func(p Person) bool {
			return strings.HasPrefix(p.Address, "重庆市") || strings.HasPrefix(p.Address, "北京市")
		}, atLeast: 50},
		{desc: "16-digit cards", matches: func(p Person) bool { return len(p.BankCard) == 16 }, atLeast: 50},
		{desc: "19-digit cards", matches: func(p Person) bool { return len(p.BankCard) == 19 }, atLeast: 1000},
		{desc: "rural addresses", matches: func(p Person) bool { return strings.Contains(p.Address, "村") }, atLeast: 100},
		{desc: "born before 1950", matches: func(p Person) bool { return p.Birthday.Year() < 1950 }, atLeast: 200},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			got := 0
			example := ""
			for _, p := range people {
				if tt.matches(p) {
					got++
					if example == "" {
						example = p.Name + " " + p.IDCard + " " + p.Address
					}
				}
			}
			if got < tt.atLeast {
				t.Errorf("%d of %d people, want ≥ %d", got, n, tt.atLeast)
			}
			t.Logf("%d of %d, e.g. %s", got, n, example)
		})
	}
}

func TestGeneratorIsDeterministic(t *testing.T) {
	tests := []struct {
		desc      string
		seedA     int64
		seedB     int64
		wantEqual bool
	}{
		{desc: "same seed, same people", seedA: DefaultSeed, seedB: DefaultSeed, wantEqual: true},
		{desc: "seed 1 twice", seedA: 1, seedB: 1, wantEqual: true},
		{desc: "different seeds differ", seedA: 1, seedB: 2, wantEqual: false},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			a, b := NewGenerator(tt.seedA), NewGenerator(tt.seedB)
			equal := 0
			for i := 0; i < 500; i++ {
				pa, pb := a.Next(), b.Next()
				ha, hb := a.Household(pa), b.Household(pb)
				if pa == pb && len(ha) == len(hb) {
					equal++
				}
			}
			if tt.wantEqual && equal != 500 {
				t.Errorf("%d of 500 people equal, want all", equal)
			}
			if !tt.wantEqual && equal > 5 {
				t.Errorf("%d of 500 people equal, want (almost) none", equal)
			}
		})
	}
	// Person(i) does not depend on what was drawn before.
	g := NewGenerator(7)
	for i := 0; i < 10; i++ {
		g.Next()
	}
	if got, want := g.Person(3), NewGenerator(7).Person(3); got != want {
		t.Errorf("Person(3) after 10 draws = %+v, want %+v", got, want)
	}
}

func TestHouseholdMembersAreValid(t *testing.T) {
	idx := regionIndex()
	g := NewGenerator(DefaultSeed)
	relations := map[string]int{}
	total := 0
	for i := 0; i < 2000; i++ {
		p := g.Next()
		seen := map[int64]bool{}
		perRelation := map[string]int{}
		for _, m := range g.Household(p) {
			perRelation[m.Relation]++
			if m.Relation != "子女" && perRelation[m.Relation] > 1 {
				t.Errorf("person %d has two members with relation %s", p.ID, m.Relation)
			}
			if s := surnameOf(p.Name); m.Relation == "父亲" && s != "" && !strings.HasPrefix(m.Name, s) {
				t.Errorf("person %s has father %s with another surname", p.Name, m.Name)
			}
			total++
			relations[m.Relation]++
			if m.PersonID != p.ID || m.ID/10 != p.ID || seen[m.ID] {
				t.Fatalf("member %+v of person %d: bad ids", m, p.ID)
			}
			seen[m.ID] = true
			if _, reason := validIDCard(m.IDCard, idx); reason != "" {
				t.Errorf("member %+v: invalid ID: %s", m, reason)
			}
			if m.IDCard[:6] != p.IDCard[:6] {
				t.Errorf("member %s registered in %s, person in %s", m.IDCard, m.IDCard[:6], p.IDCard[:6])
			}
			if m.Relation == "父亲" && !sexDigitIsMale(m.IDCard) || m.Relation == "母亲" && sexDigitIsMale(m.IDCard) {
				t.Errorf("member %+v: sex digit does not fit relation", m)
			}
		}
	}
	for _, rel := range []string{"配偶", "子女", "父亲", "母亲"} {
		if relations[rel] == 0 {
			t.Errorf("no %s among %d members", rel, total)
		}
	}
	if total < 2000 {
		t.Errorf("%d members for 2000 people, want about 1.5 each", total)
	}
}

func BenchmarkGeneratorNext(b *testing.B) {
	g := NewGenerator(DefaultSeed)
	b.ReportAllocs()
	for b.Loop() {
		g.Next()
	}
}
