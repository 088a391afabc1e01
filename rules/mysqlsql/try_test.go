package mysqlsql

import (
	"os"
	"strings"
	"testing"

	"github.com/dbfence/dbfence/rules/facts"
)

func TestTry(t *testing.T) {
	q := os.Getenv("TRYSQL")
	if q == "" {
		t.Skip()
	}
	a := NewAnalyzer(govCatalog())
	r, err := Resolve(q, 0, maria1011)
	if err != nil {
		t.Fatal(err)
	}
	stmts, err := Parse(r, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range stmts {
		f, _ := a.Analyze(s, "gov", 0, Full)
		var b strings.Builder
		facts.Describe(&b, f, "")
		t.Log("\n" + b.String())
	}
}
