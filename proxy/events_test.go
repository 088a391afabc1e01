package proxy

import (
	"strings"
	"testing"

	"github.com/dbfence/dbfence/rules"
)

type testMasker struct{}

func (testMasker) Mask(dst, src []byte) []byte { return append(dst, '*') }

func TestApplyVerdict(t *testing.T) {
	tests := []struct {
		desc   string
		sv     *rules.StatementVerdict
		want   string
		masked string
	}{
		{"no decision reads as allowed", nil, "allow", ""},
		{"masked columns named by origin or position", &rules.StatementVerdict{Kind: "select", Outcome: rules.Allow, Rule: "allow_masked",
			Columns: []rules.ColumnPlan{{OrgColumn: "id"}, {Masker: testMasker{}, OrgColumn: "id_card"}, {Masker: testMasker{}}}}, "allow", "id_card,#3"},
		{"denial", &rules.StatementVerdict{Kind: "select", Outcome: rules.Deny, Rule: "column_denied"}, "deny", ""},
	}
	for _, tc := range tests {
		ev := &StatementEvent{MaskedColumns: []string{"stale"}}
		ev.ApplyVerdict(tc.sv)
		if ev.Decision != tc.want || (tc.sv != nil && strings.Join(ev.MaskedColumns, ",") != tc.masked) {
			t.Errorf("%s: %+v", tc.desc, ev)
		}
	}
}
