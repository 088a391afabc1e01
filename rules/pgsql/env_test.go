package pgsql

import (
	"slices"
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
