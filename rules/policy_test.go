package rules

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// redactMasker replaces every character with '*': the tests' masking
// library (the real one is package masking, written elsewhere).
type redactMasker struct{ algorithm string }

func (m redactMasker) Mask(dst, src []byte) []byte {
	for n := utf8.RuneCount(src); n > 0; n-- {
		dst = append(dst, '*')
	}
	return dst
}

// testMasks builds redaction maskers, one per algorithm and parameters, and
// refuses an algorithm called "missing".
func testMasks(algorithm string, params map[string]string) (Masker, error) {
	if algorithm == "missing" {
		return nil, errors.New("no such algorithm")
	}
	return redactMasker{algorithm: fmt.Sprint(algorithm, params)}, nil
}

// loadTestPolicy reads testdata/policy.yaml.
func loadTestPolicy(t testing.TB) *Policy {
	t.Helper()
	p, err := loadPolicyFile("testdata/policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func loadPolicyFile(file string) (*Policy, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	return PolicyFromConfig(data, file)
}

func TestLoadPolicy(t *testing.T) {
	p := loadTestPolicy(t)
	if p.Version != "test-1" || len(p.Roles) != 4 || p.Roles["clerk"].RowCap != 100 || p.Classification[1].Level != "4" {
		t.Fatalf("policy decoded as %+v", p)
	}
	if got := p.Roles["clerk"].Classes["id_card"].Params["keep_first"]; got != "6" {
		t.Errorf("params decoded as %q", got)
	}
}

func TestPolicyErrors(t *testing.T) {
	tests := []struct {
		desc     string
		yaml     string
		wantLine int
		wantText string
	}{
		{desc: "unknown top-level key", yaml: "policy:\n  version: v\n  default_role: unrestricted\n  rolez: {}\n", wantLine: 4, wantText: `unknown key "rolez"`},
		{desc: "unknown role key", yaml: "policy:\n  version: v\n  default_role: r\n  roles:\n    r:\n      row_capp: 1\n", wantLine: 6, wantText: `unknown key "row_capp"`},
		{desc: "missing version", yaml: "policy:\n  default_role: unrestricted\n", wantText: "version is required"},
		{desc: "undefined role", yaml: "policy:\n  version: v\n  default_role: unrestricted\n  principals:\n    - users: [a]\n      role: nobody\n", wantLine: 6, wantText: `role "nobody" is not defined`},
		{desc: "bad network", yaml: "policy:\n  version: v\n  default_role: unrestricted\n  principals:\n    - users: [a]\n      networks: [10.0.0.0/33]\n      role: unrestricted\n", wantLine: 6, wantText: "not a CIDR"},
		{desc: "bad level", yaml: "policy:\n  version: v\n  default_role: unrestricted\n  classification:\n    - column: a.b.c\n      level: 5\n", wantLine: 6, wantText: "level"},
		{desc: "bad column pattern", yaml: "policy:\n  version: v\n  default_role: unrestricted\n  classification:\n    - column: a.b\n      class: x\n", wantLine: 5, wantText: "db.table.column"},
		{desc: "mask without algorithm", yaml: "policy:\n  version: v\n  default_role: r\n  roles:\n    r:\n      classes:\n        x: {action: mask}\n", wantLine: 7, wantText: "needs an algorithm"},
		{desc: "unknown action", yaml: "policy:\n  version: v\n  default_role: r\n  roles:\n    r:\n      classes:\n        x: {action: hide}\n", wantLine: 7, wantText: `action "hide"`},
		{desc: "unknown statement kind", yaml: "policy:\n  version: v\n  default_role: r\n  roles:\n    r:\n      statements: [select, selcet]\n", wantLine: 6, wantText: `unknown statement kind "selcet"`},
		{desc: "bad table pattern", yaml: "policy:\n  version: v\n  default_role: r\n  roles:\n    r:\n      tables: {allow: [gov]}\n", wantLine: 6, wantText: "db.table"},
		{desc: "redefined unrestricted", yaml: "policy:\n  version: v\n  default_role: r\n  roles:\n    r: {}\n    unrestricted: {}\n", wantLine: 6, wantText: "built in"},
		{desc: "bad level key in classes", yaml: "policy:\n  version: v\n  default_role: r\n  roles:\n    r:\n      classes:\n        \"level:9\": {action: deny}\n", wantLine: 7, wantText: `level "9"`},
		{desc: "wrong type", yaml: "policy:\n  version: v\n  default_role: r\n  roles:\n    r:\n      row_cap: [1]\n", wantLine: 6, wantText: "expected a single value"},
		{desc: "no policy key", yaml: "listen: x\n", wantText: "no policy"},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			_, err := PolicyFromConfig([]byte(tc.yaml), "dbfence.yaml")
			var pe *PolicyError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v (%T), want a *PolicyError", err, err)
			}
			if tc.wantLine != 0 && pe.Line != tc.wantLine {
				t.Errorf("line %d, want %d (%v)", pe.Line, tc.wantLine, err)
			}
			if !strings.Contains(err.Error(), tc.wantText) {
				t.Errorf("error %q does not say %q", err, tc.wantText)
			}
			if tc.wantLine != 0 && !strings.HasPrefix(err.Error(), fmt.Sprintf("dbfence.yaml:%d: ", tc.wantLine)) {
				t.Errorf("error %q does not start with file:line", err)
			}
		})
	}
}

func TestPolicyAsConfigField(t *testing.T) {
	var cfg struct {
		Listen string `yaml:"listen"`
		Policy Policy `yaml:"policy"`
	}
	data, err := os.ReadFile("testdata/policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Policy.Validate(); err != nil {
		t.Fatal(err)
	}
	if _, err := NewEngine(&cfg.Policy, nil, testMasks, nil); err != nil {
		t.Fatal(err)
	}
	bad := "policy:\n  version: v\n  default_role: unrestricted\n  extra: 1\n"
	if err := yaml.Unmarshal([]byte(bad), &cfg); err == nil || !strings.Contains(err.Error(), "line 4") {
		t.Errorf("unknown key in embedded policy: %v", err)
	}
}

func TestNewEngineRejectsUnknownMasker(t *testing.T) {
	p, err := PolicyFromConfig([]byte("policy:\n  version: v\n  default_role: r\n  roles:\n    r:\n      classes:\n        x: {action: mask, algorithm: missing}\n"), "f.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewEngine(p, nil, testMasks, nil); err == nil || !strings.Contains(err.Error(), "f.yaml:7") {
		t.Errorf("NewEngine error %v, want one at f.yaml:7", err)
	}
	if _, err := NewEngine(p, nil, nil, nil); err == nil {
		t.Error("a policy with masks needs a masker factory")
	}
}

func TestLevelKeyInClasses(t *testing.T) {
	p, err := PolicyFromConfig([]byte(`policy:
  version: v
  classification:
    - {column: gov.person.id_card, class: id_card, level: core}
  default_role: r
  roles:
    r:
      classes:
        "level:core": {action: deny}
`), "f.yaml")
	if err != nil {
		t.Fatal(err)
	}
	e, err := NewEngine(p, govCatalog(), testMasks, nil)
	if err != nil {
		t.Fatal(err)
	}
	v := e.CheckMySQL(mariaSession("anyone"), "SELECT id_card FROM person WHERE id = 1")
	if v.Refusal == nil || v.Statements[0].Rule != "column_denied" {
		t.Errorf("a level:core deny did not apply: %+v", v.Statements[0])
	}
}
