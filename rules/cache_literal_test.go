package rules

import "testing"

// TestCacheKeepsLiteralKinds: whether `col = literal` is an exact lookup
// depends on the literal (an integer tests one value, a float a range), so
// a decision cached for one literal must not serve the other.
func TestCacheKeepsLiteralKinds(t *testing.T) {
	const lookup = "SELECT id, bank_card FROM person WHERE bank_card = 2 AND id < 50"
	const search = "SELECT id, bank_card FROM person WHERE bank_card = 6222025947583294000.0 AND id < 50"
	tests := []struct {
		desc   string
		texts  []string
		reused bool // whether the last text may share the first one's decision
	}{
		{desc: "integer then float", texts: []string{lookup, search}},
		{desc: "float then integer", texts: []string{search, lookup}},
		{desc: "string then float", texts: []string{"SELECT id FROM person WHERE bank_card = '6222' AND id < 50", "SELECT id FROM person WHERE bank_card = 6222.0 AND id < 50"}},
		{desc: "large integer then small", texts: []string{"SELECT id FROM person WHERE bank_card = 6222025947583294654 AND id < 50", "SELECT id FROM person WHERE bank_card = 00000000000000000006222 AND id < 50"}},
		{desc: "parameter and literal swap places", texts: []string{"SELECT id FROM person WHERE bank_card = ? AND dept = 1.5", "SELECT id FROM person WHERE bank_card = 1.5 AND dept = ?"}},
		{desc: "two small integers", texts: []string{"SELECT id FROM person WHERE bank_card = 1 AND id < 50", "SELECT id FROM person WHERE bank_card = 2 AND id < 51"}, reused: true},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			for _, user := range []string{"clerk", "analyst"} {
				last := tc.texts[len(tc.texts)-1]
				want := newTestEngine(t).CheckMySQL(mariaSession(user), last)
				e := newTestEngine(t)
				for _, text := range tc.texts {
					e.CheckMySQL(mariaSession(user), text)
				}
				got := e.CheckMySQL(mariaSession(user), last)
				if (got.Refusal == nil) != (want.Refusal == nil) {
					t.Errorf("%s: after the other text, refusal %v; on its own %v", user, got.Refusal, want.Refusal)
				}
				if n := e.state.Load().cache.len(); tc.reused && n != 1 {
					t.Errorf("%s: %d cache entries, want the decision shared", user, n)
				}
			}
		})
	}
}
