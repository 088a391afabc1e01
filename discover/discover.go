package discover

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/dbfence/dbfence/masking"
	_ "github.com/go-sql-driver/mysql" // registers "mysql"
	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
)

// DefaultSampleRows is the number of rows sampled per table unless
// Options.SampleRows says otherwise.
const DefaultSampleRows = 1000

// DefaultMinRatio is the share of non-empty sampled values that must
// validate as a class for the column to be proposed as that class.
const DefaultMinRatio = 0.8

// Options configure a discovery run.
type Options struct {
	// DSN is mysql://user:pass@host:port/db (db optional: without it every
	// non-system database is scanned) or postgres://user@host:port/db.
	DSN string
	// SampleRows is the number of rows read per table; 0 means 1000.
	SampleRows int
	// MinRatio is the minimum hits/non-empty ratio for a proposal; 0 means
	// 0.8. Columns with some hits below it are listed as comments.
	MinRatio float64
}

// Proposal is the outcome for one column.
type Proposal struct {
	// Column is database.table.column (MySQL) or schema.table.column.
	Column string
	// Class is the best class; empty when nothing matched.
	Class masking.Class
	// Hits is the number of sampled values that validate as Class.
	Hits int
	// Sampled is the number of non-NULL, non-empty sampled values.
	Sampled int
	// Accepted is true when Hits/Sampled reaches the minimum ratio.
	Accepted bool
	// Contained and ContainedClass describe free text: how many values that
	// are not themselves of a class contain a value of ContainedClass. Such
	// columns are not classified; they are listed for review (the content
	// safety net masking.RedactDetected fits them).
	Contained      int
	ContainedClass masking.Class
	// SkipReason is set (and Column names the table) when a table could
	// not be sampled.
	SkipReason string
}

// Level is the classification level of the proposed class.
func (p Proposal) Level() int { return p.Class.Level() }

// Run samples every column of every non-system table of the database at
// opts.DSN, writes the proposed classification as YAML to out and progress
// lines to progress (either may be io.Discard). It stops at ctx's
// cancellation.
func Run(ctx context.Context, opts Options, out, progress io.Writer) error {
	if opts.SampleRows == 0 {
		opts.SampleRows = DefaultSampleRows
	}
	if opts.MinRatio == 0 {
		opts.MinRatio = DefaultMinRatio
	}
	if opts.SampleRows < 0 || opts.MinRatio < 0 || opts.MinRatio > 1 {
		return fmt.Errorf("discover: SampleRows must be ≥ 0 and MinRatio in [0, 1]")
	}
	if opts.DSN == "" {
		return errNoDSN
	}
	tgt, err := parseDSN(opts.DSN)
	if err != nil {
		return err
	}
	db, err := sql.Open(tgt.driver, tgt.driverDSN)
	if err != nil {
		return fmt.Errorf("discover: open %s: %v", tgt.redactedDS, err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if err := db.PingContext(ctx); err != nil {
		return fmt.Errorf("discover: connect %s: %v", tgt.redactedDS, err)
	}
	proposals, err := scan(ctx, db, tgt, opts, progress)
	if err != nil {
		return err
	}
	return WriteClassification(out, proposals, fmt.Sprintf("proposed by dbfence discover from %s, up to %d rows per table", tgt.redactedDS, opts.SampleRows))
}

// column is one column to sample.
type column struct {
	schema, table, name, dataType string
}

func scan(ctx context.Context, db *sql.DB, tgt target, opts Options, progress io.Writer) ([]Proposal, error) {
	cols, err := listColumns(ctx, db, tgt)
	if err != nil {
		return nil, err
	}
	var proposals []Proposal
	tables := 0
	for start := 0; start < len(cols); {
		end := start + 1
		for end < len(cols) && cols[end].schema == cols[start].schema && cols[end].table == cols[start].table {
			end++
		}
		table := cols[start:end]
		start = end
		tables++
		began := time.Now()
		fmt.Fprintf(progress, "discover: sampling %s.%s (%d columns)\n", table[0].schema, table[0].table, len(table))
		props, rows, err := sampleTable(ctx, db, tgt.dialect, table, opts)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			// One unreadable table (no privilege, dropped meanwhile) must not
			// hide the rest; it is reported in the output as well.
			fmt.Fprintf(progress, "discover: skipping %s.%s: %v\n", table[0].schema, table[0].table, err)
			proposals = append(proposals, Proposal{Column: table[0].schema + "." + table[0].table, SkipReason: err.Error()})
			continue
		}
		fmt.Fprintf(progress, "discover: %s.%s: %d rows in %v\n", table[0].schema, table[0].table, rows, time.Since(began).Round(time.Millisecond))
		proposals = append(proposals, props...)
	}
	accepted := 0
	for _, p := range proposals {
		if p.Accepted {
			accepted++
		}
	}
	fmt.Fprintf(progress, "discover: %d tables, %d columns, %d classified\n", tables, len(cols), accepted)
	return proposals, nil
}

// sampledTypes are the data types read; the rest cannot hold the detected
// classes in detectable form.
var sampledTypes = []string{
	"char", "varchar", "text", "tinytext", "mediumtext", "longtext", "character", "character varying",
	"bpchar", "int", "integer", "bigint", "mediumint", "decimal", "numeric", "date", "datetime",
	"timestamp", "timestamp without time zone", "timestamp with time zone", "nvarchar", "nchar", "citext",
}

func listColumns(ctx context.Context, db *sql.DB, tgt target) ([]column, error) {
	var query string
	var args []any
	switch tgt.dialect {
	case dialectMySQL:
		query = `SELECT c.TABLE_SCHEMA, c.TABLE_NAME, c.COLUMN_NAME, c.DATA_TYPE
FROM information_schema.COLUMNS c JOIN information_schema.TABLES t
  ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME
WHERE t.TABLE_TYPE = 'BASE TABLE'
  AND c.TABLE_SCHEMA NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys')`
		if tgt.database != "" {
			query += " AND c.TABLE_SCHEMA = ?"
			args = append(args, tgt.database)
		}
		query += " ORDER BY c.TABLE_SCHEMA, c.TABLE_NAME, c.ORDINAL_POSITION"
	case dialectPostgres:
		query = `SELECT c.table_schema, c.table_name, c.column_name, c.data_type
FROM information_schema.columns c JOIN information_schema.tables t
  ON t.table_schema = c.table_schema AND t.table_name = c.table_name
WHERE t.table_type = 'BASE TABLE'
  AND c.table_schema NOT IN ('pg_catalog', 'information_schema') AND c.table_schema NOT LIKE 'pg\_toast%'
ORDER BY c.table_schema, c.table_name, c.ordinal_position`
	}
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("discover: list columns: %v", err)
	}
	defer rows.Close()
	var cols []column
	for rows.Next() {
		var c column
		if err := rows.Scan(&c.schema, &c.table, &c.name, &c.dataType); err != nil {
			return nil, fmt.Errorf("discover: list columns: %v", err)
		}
		if slices.Contains(sampledTypes, strings.ToLower(c.dataType)) {
			cols = append(cols, c)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("discover: list columns: %v", err)
	}
	return cols, nil
}

// quoteIdent quotes an identifier for the dialect, doubling the quote
// character inside it.
func quoteIdent(d dialect, name string) string {
	q := "`"
	if d == dialectPostgres {
		q = `"`
	}
	return q + strings.ReplaceAll(name, q, q+q) + q
}

// columnTally counts detector hits for one column.
type columnTally struct {
	sampled int
	// hits counts values that as a whole validate as a class.
	hits map[masking.Class]int
	// contains counts values that do not, but contain a value of the class
	// (free text with a phone number inside).
	contains map[masking.Class]int
}

func sampleTable(ctx context.Context, db *sql.DB, d dialect, table []column, opts Options) ([]Proposal, int, error) {
	var sb strings.Builder
	sb.WriteString("SELECT ")
	for i, c := range table {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(quoteIdent(d, c.name))
	}
	fmt.Fprintf(&sb, " FROM %s.%s LIMIT %d", quoteIdent(d, table[0].schema), quoteIdent(d, table[0].table), opts.SampleRows)
	rows, err := db.QueryContext(ctx, sb.String())
	if err != nil {
		return nil, 0, fmt.Errorf("discover: sample %s.%s: %v", table[0].schema, table[0].table, err)
	}
	defer rows.Close()
	values := make([]sql.RawBytes, len(table))
	dest := make([]any, len(table))
	for i := range values {
		dest[i] = &values[i]
	}
	tallies := make([]columnTally, len(table))
	for i := range tallies {
		tallies[i].hits = map[masking.Class]int{}
		tallies[i].contains = map[masking.Class]int{}
	}
	var classes []masking.Class
	var spans []masking.Span
	n := 0
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, n, fmt.Errorf("discover: sample %s.%s: %v", table[0].schema, table[0].table, err)
		}
		n++
		for i, v := range values {
			if len(bytes.TrimSpace(v)) == 0 { // NULL or blank
				continue
			}
			tallies[i].sampled++
			classes = masking.AppendDetected(classes[:0], v)
			counted := masking.Class("")
			for _, c := range classes {
				// Count per policy class, once per value: a column mixing
				// mobiles and landlines is one phone column.
				if pc := c.PolicyClass(); pc != counted {
					tallies[i].hits[pc]++
					counted = pc
				}
			}
			if len(classes) == 0 {
				spans = masking.FindAll(v, spans[:0])
				seen := masking.Class("")
				for _, s := range spans {
					if pc := s.Class.PolicyClass(); pc != seen { // once per value and class
						tallies[i].contains[pc]++
						seen = pc
					}
				}
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, n, fmt.Errorf("discover: sample %s.%s: %v", table[0].schema, table[0].table, err)
	}
	props := make([]Proposal, len(table))
	for i, c := range table {
		props[i] = propose(c.schema+"."+c.table+"."+c.name, c.name, tallies[i], opts.MinRatio)
	}
	return props, n, nil
}

// classPriority breaks ties between classes with equal hits: the more
// specific (check-digit validated) class first.
var classPriority = []masking.Class{
	masking.ClassIDCard, masking.ClassUSCC, masking.ClassBankCard, masking.ClassPhone,
	masking.ClassEmail, masking.ClassPassport, masking.ClassLicensePlate,
	masking.ClassAddress, masking.ClassName, masking.ClassDate,
}

// birthHints mark a date column as a birthday.
var birthHints = []string{"birth", "dob", "csrq", "出生", "生日"}

// propose picks the class with most hits and decides acceptance.
func propose(fullName, columnName string, t columnTally, minRatio float64) Proposal {
	p := Proposal{Column: fullName, Sampled: t.sampled}
	for _, c := range classPriority {
		if h := t.hits[c]; h > p.Hits {
			p.Class, p.Hits = c, h
		}
	}
	if p.Class == masking.ClassDate {
		lower := strings.ToLower(columnName)
		isBirth := slices.ContainsFunc(birthHints, func(h string) bool { return strings.Contains(lower, h) })
		if !isBirth { // a date alone is not personal information
			p.Class, p.Hits = "", 0
		} else {
			p.Class = masking.ClassBirthday
		}
	}
	p.Accepted = p.Sampled > 0 && p.Hits > 0 && float64(p.Hits) >= minRatio*float64(p.Sampled)
	for _, c := range classPriority {
		if n := t.contains[c]; n > p.Contained {
			p.ContainedClass, p.Contained = c, n
		}
	}
	return p
}

// WriteClassification writes proposals as the policy's classification
// section: accepted ones as entries with their hit ratio, the others that
// had some hits as comments below. header, if not empty, becomes a leading
// comment.
func WriteClassification(w io.Writer, proposals []Proposal, header string) error {
	var sb strings.Builder
	if header != "" {
		fmt.Fprintf(&sb, "# %s\n", strings.ReplaceAll(header, "\n", " "))
	}
	var accepted, partial []Proposal
	var skipped []Proposal
	for _, p := range proposals {
		switch {
		case p.SkipReason != "":
			skipped = append(skipped, p)
		case p.Accepted:
			accepted = append(accepted, p)
		case p.Hits > 0 || p.Contained > 0:
			partial = append(partial, p)
		}
	}
	if len(accepted) == 0 {
		sb.WriteString("classification: []\n")
	} else {
		sb.WriteString("classification:\n")
		for _, p := range accepted {
			fmt.Fprintf(&sb, "  - column: %s   # %d/%d sampled values are valid %s\n", yamlScalar(p.Column), p.Hits, p.Sampled, p.Class)
			fmt.Fprintf(&sb, "    class: %s\n    level: %d\n", p.Class, p.Level())
		}
	}
	if len(partial) > 0 {
		sb.WriteString("# below the threshold, review by hand:\n")
		for _, p := range partial {
			name := strings.ReplaceAll(p.Column, "\n", " ")
			if p.Hits > 0 {
				fmt.Fprintf(&sb, "#   %s: %d/%d sampled values are valid %s\n", name, p.Hits, p.Sampled, p.Class)
			}
			if p.Contained > 0 {
				fmt.Fprintf(&sb, "#   %s: %d/%d sampled values contain a %s (free text)\n", name, p.Contained, p.Sampled, p.ContainedClass)
			}
		}
	}
	for _, p := range skipped {
		fmt.Fprintf(&sb, "# skipped table %s: %s\n", p.Column, strings.ReplaceAll(p.SkipReason, "\n", " "))
	}
	_, err := io.WriteString(w, sb.String())
	return err
}

// yamlScalar writes s plain when that is unambiguous, else double-quoted.
func yamlScalar(s string) string {
	plain := s != ""
	for _, r := range s {
		if !(r == '.' || r == '_' || r == '-' || r == '$' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r > 0x7f && r != 0x85 && r != 0x2028 && r != 0x2029 && r != 0xfeff) {
			plain = false
			break
		}
	}
	if plain && (s[0] == '-' || s[0] == '.') {
		plain = false
	}
	if plain {
		return s
	}
	var sb strings.Builder
	sb.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			sb.WriteByte('\\')
			sb.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&sb, "\\x%02x", r)
		default:
			sb.WriteRune(r)
		}
	}
	sb.WriteByte('"')
	return sb.String()
}

// errNoDSN is returned when Options.DSN is empty.
var errNoDSN = errors.New("discover: Options.DSN is empty")
