package demo

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// Person is one synthetic resident record. Every field is fake but valid in
// form: the ID number has a real county code and a correct check character,
// the bank card passes Luhn, the phone is a plausible mainland mobile.
type Person struct {
	// ID is the row id, 1-based and dense in generation order.
	ID int64
	// Name is the full name: surname + given name, a compound surname, a
	// Uyghur-style "名·父名", or a Tibetan name without surname.
	Name string
	// IDCard is an 18-character 居民身份证号 (GB 11643-1999).
	IDCard string
	// Phone is an 11-digit mainland mobile number.
	Phone string
	// Address is a full residential address, usually in the ID's county.
	Address string
	// BankCard is a 16–19-digit UnionPay debit card number passing Luhn.
	BankCard string
	// Birthday is the date of birth in the ID number (UTC midnight).
	Birthday time.Time
	// Dept is the agency the record is filed under, e.g. "民政局".
	Dept string
}

// Member is one household member of a Person (gov.household).
type Member struct {
	// ID is the row id: PersonID*10 + the member's position (1–3).
	ID int64
	// PersonID is the Person this member belongs to.
	PersonID int64
	// Relation is the member's relation to the person: 配偶, 子女, 父亲, 母亲.
	Relation string
	// Name is the member's full name.
	Name string
	// IDCard is the member's 居民身份证号, registered in the same county.
	IDCard string
}

// Generator produces a deterministic sequence of synthetic people. Person i is
// a pure function of (seed, i), so two generators with the same seed agree,
// whatever else has been drawn from them. A Generator is not safe for
// concurrent use.
type Generator struct {
	seed uint64
	next int64
}

// DefaultSeed is the seed the demo data set is generated with.
const DefaultSeed int64 = 20201016

// NewGenerator returns a generator whose first Person has ID 1.
func NewGenerator(seed int64) *Generator {
	return &Generator{seed: uint64(seed), next: 1}
}

// Next returns the next person in the sequence.
func (g *Generator) Next() Person {
	p := g.Person(g.next)
	g.next++
	return p
}

// Person returns the person with the given ID (≥ 1) without advancing the
// sequence.
func (g *Generator) Person(id int64) Person {
	r := g.rngFor(id, 0)
	region := regions[r.IntN(len(regions))]
	male := r.IntN(2) == 0
	birthday := randomDate(r, 1940, 2005)
	p := Person{
		ID:       id,
		Name:     personName(r, region, male),
		IDCard:   makeIDCard(r, region.Code, birthday, male),
		Phone:    mobileNumber(r),
		BankCard: bankCard(r),
		Birthday: birthday,
		Dept:     pickWeighted(r, departments),
	}
	// Most people live where they were registered; some have moved.
	home := region
	if r.IntN(100) < 15 {
		home = regions[r.IntN(len(regions))]
	}
	p.Address = address(r, home)
	return p
}

// Household returns the 0–3 household members of p. It is a pure function of
// the generator's seed and p.
func (g *Generator) Household(p Person) []Member {
	r := g.rngFor(p.ID, 1)
	region := regionOf(p.IDCard)
	surname := surnameOf(p.Name)
	maleHead := sexDigitIsMale(p.IDCard)
	// Draw up to 3 distinct relations; only children may repeat.
	relations := []string{"配偶", "子女", "父亲", "母亲", "子女"}
	r.Shuffle(len(relations), func(i, j int) { relations[i], relations[j] = relations[j], relations[i] })
	n := r.IntN(4)
	members := make([]Member, 0, n)
	for k, rel := range relations[:n] {
		var male bool
		var birthday time.Time
		by := p.Birthday.Year()
		switch rel {
		case "配偶":
			male = !maleHead
			birthday = randomDate(r, by-5, by+5)
		case "子女":
			male = r.IntN(2) == 0
			if by+20 > 2020 {
				continue // too young to have children
			}
			birthday = randomDate(r, by+20, min(by+38, 2020))
		case "父亲":
			male = true
			birthday = randomDate(r, by-35, by-20)
		default: // 母亲
			male = false
			birthday = randomDate(r, by-35, by-20)
		}
		if birthday.Year() < 1900 || birthday.Year() > 2020 {
			continue // an implausible relative for this person: leave out
		}
		name := personName(r, region, male)
		if surname != "" && (rel == "父亲" || rel == "子女" && r.IntN(10) < 8) {
			// Fathers share the surname; children usually do.
			name = surname + givenName(r, male)
		}
		members = append(members, Member{
			ID:       p.ID*10 + int64(k+1),
			PersonID: p.ID,
			Relation: rel,
			Name:     name,
			IDCard:   makeIDCard(r, region.Code, birthday, male),
		})
	}
	return members
}

// rngFor returns the random stream of one record kind of one person.
func (g *Generator) rngFor(id int64, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(g.seed^0x9e3779b97f4a7c15, uint64(id)<<2|stream))
}

// Regions returns a copy of the county-level divisions the generator draws
// from.
func Regions() []Region {
	return append([]Region(nil), regions...)
}

// regionOf returns the region of an ID number the generator made.
func regionOf(idCard string) Region {
	for _, r := range regions {
		if r.Code == idCard[:6] {
			return r
		}
	}
	return regions[0]
}

func sexDigitIsMale(idCard string) bool { return (idCard[16]-'0')%2 == 1 }

// idCardWeights are the GB 11643-1999 weights of positions 1–17.
var idCardWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// idCardCheckChar returns the GB 11643-1999 check character of the first 17
// digits of an ID number.
func idCardCheckChar(first17 string) byte {
	s := 0
	for i := 0; i < 17; i++ {
		s += int(first17[i]-'0') * idCardWeights[i]
	}
	return "10X98765432"[s%11]
}

// makeIDCard builds an 18-character ID number: region, birthday, a sequence
// number whose last digit is odd for men and even for women, check char.
func makeIDCard(r *rand.Rand, regionCode string, birthday time.Time, male bool) string {
	b := make([]byte, 0, 18)
	b = append(b, regionCode...)
	b = birthday.AppendFormat(b, "20060102")
	b = append(b, byte('0'+r.IntN(10)), byte('0'+r.IntN(10)))
	sex := r.IntN(5) * 2 // even: female
	if male {
		sex++
	}
	b = append(b, byte('0'+sex))
	b = append(b, idCardCheckChar(string(b)))
	return string(b)
}

// randomDate returns a uniformly random date in [fromYear-01-01, toYear-12-31].
func randomDate(r *rand.Rand, fromYear, toYear int) time.Time {
	from := time.Date(fromYear, 1, 1, 0, 0, 0, 0, time.UTC)
	to := time.Date(toYear, 12, 31, 0, 0, 0, 0, time.UTC)
	days := int(to.Sub(from).Hours()/24) + 1
	return from.AddDate(0, 0, r.IntN(days))
}

// mobileNumber returns a mainland mobile number: a real prefix + 8 digits.
func mobileNumber(r *rand.Rand) string {
	b := make([]byte, 0, 11)
	b = append(b, pickWeighted(r, mobilePrefixes)...)
	for len(b) < 11 {
		b = append(b, byte('0'+r.IntN(10)))
	}
	return string(b)
}

// bankCard returns a card number with a real BIN, the BIN's length and a
// Luhn check digit.
func bankCard(r *rand.Rand) string {
	total := 0
	for _, c := range cardBINs {
		total += c.weight
	}
	x := r.IntN(total)
	bin := cardBINs[0]
	for _, c := range cardBINs {
		if x < c.weight {
			bin = c
			break
		}
		x -= c.weight
	}
	b := make([]byte, 0, bin.length)
	b = append(b, bin.prefix...)
	for len(b) < bin.length-1 {
		b = append(b, byte('0'+r.IntN(10)))
	}
	b = append(b, luhnCheckDigit(b))
	return string(b)
}

// luhnCheckDigit returns the digit that makes payload+digit pass Luhn.
func luhnCheckDigit(payload []byte) byte {
	sum := 0
	double := true // the rightmost payload digit is doubled
	for i := len(payload) - 1; i >= 0; i-- {
		d := int(payload[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return byte('0' + (10-sum%10)%10)
}

// personName picks a name fitting the region: Uyghur-style names are common
// in Xinjiang, Tibetan names in Tibet and Tibetan areas, Han names elsewhere.
func personName(r *rand.Rand, region Region, male bool) string {
	roll := r.IntN(1000)
	switch {
	case strings.HasPrefix(region.Code, "65") && roll < 600,
		!strings.HasPrefix(region.Code, "65") && roll < 8:
		return uyghurName(r, male)
	case isTibetanArea(region) && roll < 700:
		return tibetanName(r, male)
	case roll >= 975: // 2.5%: compound surname
		return CompoundSurnames[r.IntN(len(CompoundSurnames))] + givenName(r, male)
	}
	return pickWeighted(r, singleSurnames) + givenName(r, male)
}

func isTibetanArea(region Region) bool {
	return strings.HasPrefix(region.Code, "54") || strings.HasPrefix(region.Code, "5132") ||
		strings.HasPrefix(region.Code, "5133") || strings.HasPrefix(region.Code, "6327") ||
		strings.HasPrefix(region.Code, "6230") || strings.HasPrefix(region.Code, "5334")
}

func uyghurName(r *rand.Rand, male bool) string {
	own := uyghurFemaleNames
	if male {
		own = uyghurMaleNames
	}
	return own[r.IntN(len(own))] + "·" + uyghurFatherNames[r.IntN(len(uyghurFatherNames))]
}

func tibetanName(r *rand.Rand, male bool) string {
	parts := tibetanFemaleParts
	if male {
		parts = tibetanMaleParts
	}
	first := parts[r.IntN(len(parts))]
	if r.IntN(3) == 0 {
		return first
	}
	second := parts[r.IntN(len(parts))]
	for second == first {
		second = parts[r.IntN(len(parts))]
	}
	return first + second
}

// givenName returns a one- or two-character given name.
func givenName(r *rand.Rand, male bool) string {
	chars, classic := femaleGivenChars, femaleClassicNames
	if male {
		chars, classic = maleGivenChars, maleClassicNames
	}
	switch x := r.IntN(100); {
	case x < 10:
		return classic[r.IntN(len(classic))]
	case x < 35:
		return chars[r.IntN(len(chars))]
	default:
		return chars[r.IntN(len(chars))] + chars[r.IntN(len(chars))]
	}
}

// surnameOf returns the Han surname of a name the generator made, or "" for
// Uyghur and Tibetan names.
func surnameOf(name string) string {
	if strings.Contains(name, "·") {
		return ""
	}
	for _, part := range append(tibetanMaleParts, tibetanFemaleParts...) {
		if strings.HasPrefix(name, part) {
			return "" // e.g. 白珍 is a Tibetan name, not surname 白
		}
	}
	for _, s := range CompoundSurnames {
		if strings.HasPrefix(name, s) {
			return s
		}
	}
	for _, s := range singleSurnames {
		if strings.HasPrefix(name, s.value) {
			return s.value
		}
	}
	return ""
}

// address returns a full address in region: province, city, county,
// 街道/镇/乡/苏木, road and number, then building/unit/room in town or
// 村/组/号 in the countryside.
func address(r *rand.Rand, region Region) string {
	var b strings.Builder
	b.WriteString(region.Province)
	b.WriteString(region.City)
	b.WriteString(region.County)
	urban := strings.HasSuffix(region.County, "区") || r.IntN(100) < 60
	if urban {
		b.WriteString(streetNames[r.IntN(len(streetNames))])
		b.WriteString("街道")
		b.WriteString(roadNames[r.IntN(len(roadNames))])
		b.WriteString(roadSuffixes[r.IntN(len(roadSuffixes))])
		b.WriteString(strconv.Itoa(1 + r.IntN(999)))
		b.WriteString("号")
		b.WriteString(compoundNames[r.IntN(len(compoundNames))])
		b.WriteString(strconv.Itoa(1 + r.IntN(30)))
		b.WriteString("栋")
		b.WriteString(strconv.Itoa(1 + r.IntN(6)))
		b.WriteString("单元")
		b.WriteString(strconv.Itoa((1+r.IntN(32))*100 + 1 + r.IntN(4)))
		b.WriteString("室")
		return b.String()
	}
	b.WriteString(townNames[r.IntN(len(townNames))])
	switch {
	case strings.HasSuffix(region.County, "旗") && r.IntN(2) == 0:
		b.WriteString("苏木")
	case r.IntN(4) == 0:
		b.WriteString("乡")
	default:
		b.WriteString("镇")
	}
	b.WriteString(villageNames[r.IntN(len(villageNames))])
	b.WriteString("村")
	b.WriteString(strconv.Itoa(1 + r.IntN(12)))
	b.WriteString("组")
	b.WriteString(strconv.Itoa(1 + r.IntN(120)))
	b.WriteString("号")
	return b.String()
}

// pickWeighted returns a value with probability proportional to its weight.
func pickWeighted(r *rand.Rand, items []weightedString) string {
	total := 0
	for _, it := range items {
		total += it.weight
	}
	x := r.IntN(total)
	for _, it := range items {
		if x < it.weight {
			return it.value
		}
		x -= it.weight
	}
	return items[len(items)-1].value
}
