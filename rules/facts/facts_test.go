package facts

import (
	"strings"
	"testing"
)

var (
	idCard = Column{Database: "gov", Table: "person", Column: "id_card"}
	phone  = Column{Database: "gov", Table: "person", Column: "phone"}
)

func TestLineageAlgebra(t *testing.T) {
	tests := []struct {
		desc string
		got  Lineage
		want string
	}{
		{desc: "a column", got: FromColumn(idCard), want: "gov.person.id_card"},
		{desc: "a constant", got: Lineage{}, want: "constant"},
		{desc: "transform marks indirect", got: Transform(FromColumn(idCard), "concat"), want: "gov.person.id_card via concat"},
		{desc: "nested transforms list outermost first", got: Transform(Transform(FromColumn(idCard), "lower"), "concat"), want: "gov.person.id_card via concat/lower"},
		{desc: "transform of a constant is a constant", got: Transform(Lineage{}, "now"), want: "constant"},
		{desc: "merge keeps both and sorts", got: Merge(FromColumn(phone), FromColumn(idCard)), want: "gov.person.id_card, gov.person.phone"},
		{desc: "merge of direct and transformed keeps both", got: Merge(FromColumn(idCard), Transform(FromColumn(idCard), "hex")), want: "gov.person.id_card, gov.person.id_card via hex"},
		{desc: "merge with a constant", got: Merge(Lineage{}, FromColumn(phone)), want: "gov.person.phone"},
		{desc: "unknown is kept through merge and transform", got: Transform(Merge(FromColumn(phone), Unknown("function f")), "f"), want: "gov.person.phone via f, unknown(function f)"},
		{desc: "merge de-duplicates", got: Merge(FromColumn(phone), FromColumn(phone)), want: "gov.person.phone"},
	}
	for _, tc := range tests {
		if s := tc.got.String(); s != tc.want {
			t.Errorf("%s: %s, want %s", tc.desc, s, tc.want)
		}
	}
}

func TestDirectColumn(t *testing.T) {
	tests := []struct {
		desc string
		lin  Lineage
		ok   bool
	}{
		{desc: "one direct column", lin: FromColumn(idCard), ok: true},
		{desc: "transformed", lin: Transform(FromColumn(idCard), "lower")},
		{desc: "two columns", lin: Merge(FromColumn(idCard), FromColumn(phone))},
		{desc: "unknown", lin: Merge(FromColumn(idCard), Unknown("x"))},
		{desc: "constant", lin: Lineage{}},
	}
	for _, tc := range tests {
		if _, ok := tc.lin.DirectColumn(); ok != tc.ok {
			t.Errorf("%s: DirectColumn ok=%v, want %v", tc.desc, ok, tc.ok)
		}
	}
}

func TestTransformDoesNotAlias(t *testing.T) {
	base := Transform(FromColumn(idCard), "a")
	_ = Transform(base, "b")
	_ = Merge(base, Transform(FromColumn(idCard), "c"))
	if s := base.String(); s != "gov.person.id_card via a" {
		t.Errorf("a derived lineage changed its input: %s", s)
	}
}

func TestDescribe(t *testing.T) {
	st := &Statement{Kind: "select", Reads: []Object{{Database: "gov", Name: "person"}}, Limit: -1,
		Outputs:  []Output{{Name: "x", Lineage: FromColumn(idCard), OrgDatabase: "gov", OrgTable: "person", OrgColumn: "id_card"}},
		Shaping:  []Shaping{{Column: phone, Position: InWhere, ExactLookup: true}},
		Flows:    []Flow{{Target: ToVariable, Name: "v", Lineage: FromColumn(phone)}},
		HasWhere: true}
	st.AddUnsupported("x")
	st.AddUnsupported("x")
	var b strings.Builder
	Describe(&b, st, "")
	want := `kind: select
reads: gov.person
output 1 "x": gov.person.id_card [org gov.person.id_card]
shaping where: gov.person.phone (exact lookup)
flow to variable v: gov.person.phone
flags: where
unsupported: x
`
	if b.String() != want {
		t.Errorf("Describe:\n%s\nwant:\n%s", b.String(), want)
	}
}
