package pgsql

import "testing"

var benchTexts = []struct{ name, sql string }{
	{"PointSelect", "SELECT name, id_card, phone FROM gov.person WHERE id = $1"},
	{"Join", "SELECT p.name, h.member_name, h.relation FROM person p JOIN household h ON h.person_id = p.id WHERE p.id = 7 ORDER BY h.id LIMIT 10"},
}

func benchAnalyze(b *testing.B, sql string) {
	stmts, err := Parse(sql)
	if err != nil || len(stmts) != 1 {
		b.Fatal(err)
	}
	env := testEnv()
	Analyze(stmts[0], env) // warm the catalog's cached columns
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if f := Analyze(stmts[0], env); len(f.Unsupported) > 0 {
			b.Fatal(f.Unsupported)
		}
	}
}

// BenchmarkAnalyzePointSelect is the analysis of a point select after parsing.
func BenchmarkAnalyzePointSelect(b *testing.B) { benchAnalyze(b, benchTexts[0].sql) }

// BenchmarkAnalyzeJoin is the analysis of a two-table join after parsing.
func BenchmarkAnalyzeJoin(b *testing.B) { benchAnalyze(b, benchTexts[1].sql) }

// BenchmarkParse is pg_query alone (cgo and protobuf decoding): the floor
// under first sight of a text.
func BenchmarkParse(b *testing.B) {
	for _, bt := range benchTexts {
		b.Run(bt.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := Parse(bt.sql); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
