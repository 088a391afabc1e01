package pgsql

import (
	"slices"
	"strings"
	"testing"
)

func TestParseSearchPath(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{`"$user", public`, []string{"$user", "public"}},
		{`public`, []string{"public"}},
		{`  Sales ,HR`, []string{"sales", "hr"}},
		{`"Mixed Case", "a,b", "q""uote"`, []string{"Mixed Case", "a,b", `q"uote`}},
		{`"unterminated`, []string{"unterminated"}},
		{`ÄBC, "ÄBC"`, []string{"Äbc", "ÄBC"}}, // the server folds ASCII letters only
		{strings.Repeat("a", 70), []string{strings.Repeat("a", 63)}},
		{`"` + strings.Repeat("é", 40) + `"`, []string{strings.Repeat("é", 31)}}, // cut at 63 bytes, not inside a character
		{``, nil},
	} {
		if got := ParseSearchPath(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("ParseSearchPath(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func FuzzParseSearchPath(f *testing.F) {
	f.Add(`"$user", public`)
	f.Add(`"a""b",c`)
	f.Fuzz(func(t *testing.T, s string) {
		for _, name := range ParseSearchPath(s) {
			if len(name) > len(s) {
				t.Fatalf("entry %q longer than the setting %q", name, s)
			}
		}
	})
}
