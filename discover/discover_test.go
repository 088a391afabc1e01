package discover

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dbfence/dbfence/masking"
	"gopkg.in/yaml.v3"
)

func TestParseDSN(t *testing.T) {
	tests := []struct {
		desc       string
		dsn        string
		wantDriver string
		wantDSN    string
		wantDB     string
		wantErr    string
	}{
		{desc: "mysql full", dsn: "mysql://root:s3cret@127.0.0.1:3306/gov", wantDriver: "mysql", wantDSN: "root:s3cret@tcp(127.0.0.1:3306)/gov", wantDB: "gov"},
		{desc: "mysql default port, no db", dsn: "mysql://u@db.example", wantDriver: "mysql", wantDSN: "u@tcp(db.example:3306)/"},
		{desc: "mysql with parameters", dsn: "mysql://u@h:3307/d?charset=utf8mb4", wantDriver: "mysql", wantDSN: "u@tcp(h:3307)/d?charset=utf8mb4", wantDB: "d"},
		{desc: "postgres passed through", dsn: "postgres://postgres@127.0.0.1:5432/app?sslmode=disable", wantDriver: "pgx", wantDSN: "postgres://postgres@127.0.0.1:5432/app?sslmode=disable"},
		{desc: "postgresql scheme", dsn: "postgresql://p@h/app", wantDriver: "pgx", wantDSN: "postgresql://p@h/app"},
		{desc: "unknown scheme", dsn: "oracle://u@h/x", wantErr: "not supported"},
		{desc: "no host", dsn: "mysql:///db", wantErr: "no host"},
		{desc: "password not echoed", dsn: "sqlserver://u:topsecret@h/x", wantErr: "not supported"},
		{desc: "unparsable", dsn: "mysql://u:p@[::1/x", wantErr: "bad DSN"},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			got, err := parseDSN(tc.dsn)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "topsecret") {
					t.Errorf("error leaks the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.driver != tc.wantDriver || got.driverDSN != tc.wantDSN || got.database != tc.wantDB {
				t.Errorf("got %+v", got)
			}
			if strings.Contains(got.redactedDS, "s3cret") {
				t.Errorf("redacted DSN leaks the password: %s", got.redactedDS)
			}
		})
	}
}

func FuzzParseDSN(f *testing.F) {
	for _, s := range []string{"mysql://root@127.0.0.1:3306/db", "postgres://u:p@h/db", "mysql://u:p@h:1/a?x=y&x=z", "", "mysql:%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, dsn string) {
		tgt, err := parseDSN(dsn)
		if err == nil && tgt.driver != "mysql" && tgt.driver != "pgx" {
			t.Fatalf("driver %q", tgt.driver)
		}
	})
}

func TestPropose(t *testing.T) {
	tests := []struct {
		desc      string
		column    string
		sampled   int
		hits      map[masking.Class]int
		wantClass masking.Class
		accepted  bool
	}{
		{desc: "all valid", column: "id_card", sampled: 10, hits: map[masking.Class]int{masking.ClassIDCard: 10, masking.ClassBankCard: 1}, wantClass: masking.ClassIDCard, accepted: true},
		{desc: "below threshold", column: "note", sampled: 10, hits: map[masking.Class]int{masking.ClassPhone: 3}, wantClass: masking.ClassPhone},
		{desc: "tie goes to the checked class", column: "x", sampled: 4, hits: map[masking.Class]int{masking.ClassBankCard: 4, masking.ClassIDCard: 4}, wantClass: masking.ClassIDCard, accepted: true},
		{desc: "date named as birthday", column: "birth_date", sampled: 5, hits: map[masking.Class]int{masking.ClassDate: 5}, wantClass: masking.ClassBirthday, accepted: true},
		{desc: "pinyin abbreviation csrq", column: "CSRQ", sampled: 5, hits: map[masking.Class]int{masking.ClassDate: 5}, wantClass: masking.ClassBirthday, accepted: true},
		{desc: "plain date is not personal", column: "created_at", sampled: 5, hits: map[masking.Class]int{masking.ClassDate: 5}},
		{desc: "nothing sampled", column: "empty", sampled: 0, hits: map[masking.Class]int{}},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			p := propose("db.t."+tc.column, tc.column, columnTally{sampled: tc.sampled, hits: tc.hits}, DefaultMinRatio)
			if p.Class != tc.wantClass || p.Accepted != tc.accepted {
				t.Errorf("propose = %+v, want class %q accepted %v", p, tc.wantClass, tc.accepted)
			}
		})
	}
}

func TestWriteClassificationIsValidYAML(t *testing.T) {
	props := []Proposal{
		{Column: "gov.person.id_card", Class: masking.ClassIDCard, Hits: 1000, Sampled: 1000, Accepted: true},
		{Column: "gov.person.\"odd: name\"#x", Class: masking.ClassPhone, Hits: 9, Sampled: 10, Accepted: true},
		{Column: "gov.person.地址", Class: masking.ClassAddress, Hits: 10, Sampled: 10, Accepted: true},
		{Column: "gov.person.note", Class: masking.ClassPhone, Hits: 2, Sampled: 10},
		{Column: "gov.locked", SkipReason: "Error 1142: SELECT command denied\nline 2"},
	}
	var buf bytes.Buffer
	if err := WriteClassification(&buf, props, "header\nwith newline"); err != nil {
		t.Fatal(err)
	}
	got := parseClassification(t, buf.Bytes())
	want := map[string]string{"gov.person.id_card": "id_card/4", "gov.person.\"odd: name\"#x": "phone/3", "gov.person.地址": "address/3"}
	if len(got) != len(want) {
		t.Fatalf("parsed %v from\n%s", got, buf.String())
	}
	for col, cl := range want {
		if got[col] != cl {
			t.Errorf("%s: got %q, want %q\n%s", col, got[col], cl, buf.String())
		}
	}
	out := buf.String()
	if !strings.Contains(out, "  - column: gov.person.id_card   # 1000/1000 sampled values are valid id_card\n    class: id_card\n    level: 4\n") {
		t.Errorf("entry not in the policy format:\n%s", out)
	}
	if !strings.Contains(out, "#   gov.person.note: 2/10") || !strings.Contains(out, "# skipped table gov.locked") {
		t.Errorf("partial or skipped columns not listed:\n%s", out)
	}
	var empty bytes.Buffer
	_ = WriteClassification(&empty, nil, "")
	if parsed := parseClassification(t, empty.Bytes()); len(parsed) != 0 {
		t.Errorf("empty output parsed as %v", parsed)
	}
}

// parseClassification parses the YAML into column → "class/level".
func parseClassification(t *testing.T, doc []byte) map[string]string {
	t.Helper()
	var parsed struct {
		Classification []struct {
			Column string `yaml:"column"`
			Class  string `yaml:"class"`
			Level  int    `yaml:"level"`
		} `yaml:"classification"`
	}
	if err := yaml.Unmarshal(doc, &parsed); err != nil {
		t.Fatalf("output is not YAML: %v\n%s", err, doc)
	}
	got := map[string]string{}
	for _, e := range parsed.Classification {
		got[e.Column] = fmt.Sprintf("%s/%d", e.Class, e.Level)
	}
	return got
}

func TestRunOptionsErrors(t *testing.T) {
	tests := []struct {
		desc string
		opts Options
		want string
	}{
		{desc: "no DSN", opts: Options{}, want: "DSN is empty"},
		{desc: "bad ratio", opts: Options{DSN: "mysql://u@h/d", MinRatio: 2}, want: "MinRatio"},
		{desc: "unreachable server", opts: Options{DSN: "mysql://u:pw@127.0.0.1:1/d"}, want: "connect mysql://u:xxxxx@127.0.0.1:1/d"},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err := Run(ctx, tc.opts, &bytes.Buffer{}, &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}
