package mysqlsql

import "testing"

var benchTexts = []struct{ name, sql string }{
	{"PointSelect", "SELECT c FROM sbtest1 WHERE id=4711"},
	{"FourWayJoin", "SELECT a.c, b.c, c.c, d.c FROM sbtest1 a JOIN sbtest2 b ON a.id = b.id JOIN sbtest3 c ON b.id = c.id JOIN sbtest4 d ON c.id = d.id WHERE a.id = 4711"},
}

// BenchmarkParse is the TiDB parser alone: the floor under first sight.
func BenchmarkParse(b *testing.B) {
	for _, bt := range benchTexts {
		b.Run(bt.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := Parse(bt.sql, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkAnalyze is the full analysis after parsing.
func BenchmarkAnalyze(b *testing.B) {
	a := NewAnalyzer(govCatalog())
	for _, bt := range benchTexts {
		stmts, err := Parse(bt.sql, 0)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(bt.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				a.Analyze(stmts[0], "sbtest", 0, Full)
			}
		})
	}
}

// BenchmarkResolveAndNormalize is the reader's work on every text (the
// cache-hit path).
func BenchmarkResolveAndNormalize(b *testing.B) {
	buf := make([]byte, 0, 512)
	for _, bt := range benchTexts {
		b.Run(bt.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				r, err := Resolve(bt.sql, 0, maria1011)
				if err != nil {
					b.Fatal(err)
				}
				buf = AppendNormalized(buf[:0], r, 0)
			}
		})
	}
}
