package facts

import (
	"fmt"
	"slices"
	"strings"
)

// Column names one base table column. Names are as the catalog spells them
// (the analyser resolves case and the current database).
type Column struct {
	// Database, Table and Column are the catalog's spelling of the names.
	Database, Table, Column string
}

// String is the dotted form db.table.column.
func (c Column) String() string { return c.Database + "." + c.Table + "." + c.Column }

// Object names a table, view or schema-level object a statement touches.
type Object struct {
	// Database and Name are the catalog's spelling (lower case for system schemas).
	Database, Name string
	// View is true when Name is a view (its base tables are listed as well).
	View bool
}

// String is the dotted form db.name.
func (o Object) String() string { return o.Database + "." + o.Name }

// Source is one base column that contributes to a value.
type Source struct {
	// Column is the base column.
	Column Column
	// Direct is true when the value is the column's value unchanged (through
	// aliases, views, CTEs and derived tables only); false when it passes
	// through a function, operator, cast, aggregate, window or subquery.
	Direct bool
	// Via lists the functions and operators the value passes through, outermost
	// first, without duplicates; empty when Direct.
	Via []string
}

// Lineage is where one value comes from.
type Lineage struct {
	// Sources are the base columns the value is computed from, sorted.
	Sources []Source
	// Unknown is true when some part of the value's origin could not be
	// resolved (an unknown function, table or column, a stored function, a
	// user variable of unknown content); the decision treats it as sensitive.
	Unknown bool
	// UnknownWhy says what could not be resolved, for the explanation.
	UnknownWhy string
}

// Output is one column of a statement's result set.
type Output struct {
	// Name is the column name the client sees (alias or expression text).
	Name string
	// Lineage is where the column's values come from.
	Lineage Lineage
	// OrgDatabase, OrgTable and OrgColumn predict the origin the server
	// reports in the result metadata: the base table (real name) and column
	// for a column read from a table; the view, derived table or CTE (by
	// alias) and its column name for one read through those (MariaDB reports
	// the nearest named relation); empty for computed columns. A field is
	// empty when not predicted: OrgDatabase for derived tables and CTEs, all
	// three for set operations.
	OrgDatabase, OrgTable, OrgColumn string
}

// Position is a row-shaping position in a statement.
type Position string

// The row-shaping positions.
const (
	InWhere     Position = "where"
	InJoin      Position = "join"
	InGroupBy   Position = "group_by"
	InHaving    Position = "having"
	InOrderBy   Position = "order_by"
	InDistinct  Position = "distinct"
	InWindow    Position = "window"
	InLimit     Position = "limit"
	InSetTarget Position = "update_target"
)

// Shaping is one column used to choose, order or group rows.
type Shaping struct {
	// Column is the base column used.
	Column Column
	// Position is where it is used.
	Position Position
	// ExactLookup is true for `col = literal` and `col IN (literals)` with the
	// column read directly: a clerk looking one record up.
	ExactLookup bool
	// Guesses is, for an exact lookup, how many values of the column the
	// statement tests this way (each `=`, each IN-list item, each element of
	// a literal array), summed over the statement: an IN list of hundreds
	// of candidates is a search, not a lookup.
	Guesses int
}

// AddExactLookup records an exact lookup of col testing n values, adding
// to an existing entry for the same column and position.
func (s *Statement) AddExactLookup(col Column, pos Position, n int) {
	for i := range s.Shaping {
		sh := &s.Shaping[i]
		if sh.ExactLookup && sh.Column == col && sh.Position == pos {
			sh.Guesses += n
			return
		}
	}
	s.Shaping = append(s.Shaping, Shaping{Column: col, Position: pos, ExactLookup: true, Guesses: n})
}

// FlowTarget is where a flow leaves the result set to.
type FlowTarget string

// The flow targets.
const (
	ToVariable FlowTarget = "variable" // user variable (@v := ..., INTO @v, SET @v = ...)
	ToSetting  FlowTarget = "setting"  // system variable (SET @@x = ..., SET sql_mode = ...)
	ToFile     FlowTarget = "file"     // INTO OUTFILE / DUMPFILE
	ToTable    FlowTarget = "table"    // INSERT/REPLACE ... SELECT, UPDATE ... SET, CTAS
)

// Flow is data that leaves through something other than the result set.
type Flow struct {
	// Target is the kind of destination.
	Target FlowTarget
	// Name is the variable, setting, file or table written.
	Name string
	// Lineage is what is written.
	Lineage Lineage
}

// Statement is everything the decision needs to know about one statement.
type Statement struct {
	// Kind is the statement kind in lower case ("select", "insert", "set", ...).
	Kind string
	// Reads and Writes are the tables and views read and written, sorted.
	Reads, Writes []Object
	// Outputs are the result columns, in order; nil when the statement
	// returns no result set, or when OutputsUnknown.
	Outputs []Output
	// OutputsUnknown is true when the statement returns rows whose columns the
	// analyser cannot predict (SHOW of table data, a procedure's result, ...).
	OutputsUnknown bool
	// Shaping lists columns used in row-shaping positions.
	Shaping []Shaping
	// ShapingUnknown is true when some row-shaping expression has lineage
	// the analyser could not resolve.
	ShapingUnknown bool
	// Flows lists data written somewhere other than the client.
	Flows []Flow
	// Evaluated is the lineage of every select list of every query block
	// (subqueries, derived tables, CTEs, EXISTS, set-operation arms, and
	// the outputs themselves): the server may compute those values even
	// when no output shows them, and a computation can fail, so whether a
	// statement errors can tell something about them. View bodies are not
	// included (their definer chose them).
	Evaluated Lineage
	// Dynamic is true for dynamic SQL the analyser cannot see into
	// (PREPARE FROM @v, EXECUTE, EXECUTE IMMEDIATE).
	Dynamic bool
	// Prepared is the analysis of the literal statement of PREPARE p FROM '...'.
	Prepared *Statement
	// SystemObjects lists objects read in system schemas (mysql,
	// information_schema, performance_schema, sys), lower case.
	SystemObjects []Object
	// HasWhere and HasLimit tell whether the outermost query has a WHERE clause
	// and a LIMIT; Limit is the LIMIT row count, or -1 when not a literal.
	HasWhere, HasLimit bool
	// Limit is the row count of the LIMIT, or -1.
	Limit int64
	// Aggregates, Windows, SetOps, Subqueries, CTEs and DerivedTables tell
	// which constructs appear (anywhere in the statement).
	Aggregates, Windows, SetOps, Subqueries, CTEs, DerivedTables bool
	// Show names what a SHOW statement shows ("tables", "warnings", ...).
	Show string
	// ExplainAnalyze is true for EXPLAIN ANALYZE / ANALYZE of a statement,
	// which runs it and reports row counts.
	ExplainAnalyze bool
	// Functions lists the functions called, lower case, sorted, unique.
	Functions []string
	// UnknownFunctions lists called functions the analyser does not know to
	// be side-effect-free built-ins (stored functions, UDFs).
	UnknownFunctions []string
	// Dangerous lists built-ins that are refused for restricted roles whatever
	// their arguments (LOAD_FILE, SLEEP, BENCHMARK, ...).
	Dangerous []string
	// Unsupported lists constructs the analyser does not understand well
	// enough to decide on; any entry makes the statement sensitive.
	Unsupported []string
	// ChangesSession is true when the statement may change session state the
	// rules depend on (sql_mode, character set, current database, user, role).
	ChangesSession bool
	// SetsGlobal is true when the statement assigns a GLOBAL system
	// variable, which affects every session (and, with general_log_file and
	// the like, can write server files).
	SetsGlobal bool
	// ChangesReading is true when it may change how later text is read
	// (sql_mode or character set), so nothing may follow it in the same text.
	ChangesReading bool
	// Cursor names the SQL cursor a PostgreSQL DECLARE creates, a FETCH or
	// MOVE reads, or a CLOSE closes ("" for CLOSE ALL). CursorHold is set
	// for DECLARE ... WITH HOLD (it outlives its transaction); CursorMove for
	// MOVE, which returns no rows.
	Cursor                 string
	CursorHold, CursorMove bool
	// CopyOut is how a PostgreSQL COPY ... TO STDOUT writes its rows (nil
	// for other statements).
	CopyOut *CopyFormat
	// LiteralDependent is true when the analysis depends on literal values
	// (LIMIT counts, positional ORDER/GROUP BY, PREPARE FROM '...'), so the
	// decision must not be reused for another text with the same shape.
	LiteralDependent bool
}

// AddUnsupported records a construct the analyser does not understand.
func (s *Statement) AddUnsupported(what string) {
	if !slices.Contains(s.Unsupported, what) {
		s.Unsupported = append(s.Unsupported, what)
	}
}

// Merge returns the union of lineages: sources of both (a column reached
// directly in one and transformed in the other appears twice), unknown if
// either is.
func Merge(a, b Lineage) Lineage {
	if len(b.Sources) == 0 && !b.Unknown {
		return a
	}
	if len(a.Sources) == 0 && !a.Unknown {
		return b
	}
	out := Lineage{Unknown: a.Unknown || b.Unknown}
	out.UnknownWhy = a.UnknownWhy
	if out.UnknownWhy == "" {
		out.UnknownWhy = b.UnknownWhy
	}
	out.Sources = make([]Source, 0, len(a.Sources)+len(b.Sources))
	out.Sources = append(out.Sources, a.Sources...)
	for _, s := range b.Sources {
		out.Sources = addSource(out.Sources, s)
	}
	sortSources(out.Sources)
	return out
}

// Transform returns the lineage of fn applied to l: every source becomes
// indirect and records fn.
func Transform(l Lineage, fn string) Lineage {
	if len(l.Sources) == 0 {
		return l
	}
	out := Lineage{Unknown: l.Unknown, UnknownWhy: l.UnknownWhy, Sources: make([]Source, 0, len(l.Sources))}
	for _, s := range l.Sources {
		via := s.Via
		if !slices.Contains(via, fn) {
			via = append([]string{fn}, via...)
		}
		out.Sources = addSource(out.Sources, Source{Column: s.Column, Direct: false, Via: via})
	}
	sortSources(out.Sources)
	return out
}

// Unknown returns an unknown lineage with a reason.
func Unknown(why string) Lineage { return Lineage{Unknown: true, UnknownWhy: why} }

// FromColumn returns the direct lineage of one base column.
func FromColumn(c Column) Lineage { return Lineage{Sources: []Source{{Column: c, Direct: true}}} }

// IsEmpty reports whether the value depends on no column and nothing unknown (a constant).
func (l Lineage) IsEmpty() bool { return len(l.Sources) == 0 && !l.Unknown }

// DirectColumn returns the single column of a lineage that is exactly one
// directly-read column, and whether it is.
func (l Lineage) DirectColumn() (Column, bool) {
	if l.Unknown || len(l.Sources) != 1 || !l.Sources[0].Direct {
		return Column{}, false
	}
	return l.Sources[0].Column, true
}

// String renders the lineage for explanations and golden files.
func (l Lineage) String() string {
	var b strings.Builder
	for i, s := range l.Sources {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(s.Column.String())
		if !s.Direct {
			fmt.Fprintf(&b, " via %s", strings.Join(s.Via, "/"))
		}
	}
	if l.Unknown {
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		b.WriteString("unknown(" + l.UnknownWhy + ")")
	}
	if b.Len() == 0 {
		return "constant"
	}
	return b.String()
}

func addSource(list []Source, s Source) []Source {
	for i, o := range list {
		if o.Column == s.Column && o.Direct == s.Direct {
			if !s.Direct {
				for _, v := range s.Via {
					if !slices.Contains(o.Via, v) {
						list[i].Via = append(slices.Clip(list[i].Via), v)
					}
				}
			}
			return list
		}
	}
	return append(list, s)
}

// CompareColumns orders columns by database, table and column name.
func CompareColumns(a, b Column) int {
	if c := strings.Compare(a.Database, b.Database); c != 0 {
		return c
	}
	if c := strings.Compare(a.Table, b.Table); c != 0 {
		return c
	}
	return strings.Compare(a.Column, b.Column)
}

// CompareObjects orders objects by database and name.
func CompareObjects(a, b Object) int {
	if c := strings.Compare(a.Database, b.Database); c != 0 {
		return c
	}
	if c := strings.Compare(a.Name, b.Name); c != 0 {
		return c
	}
	switch {
	case a.View == b.View:
		return 0
	case a.View:
		return 1
	}
	return -1
}

func sortSources(list []Source) {
	if len(list) < 2 {
		return
	}
	slices.SortFunc(list, func(a, b Source) int {
		if c := CompareColumns(a.Column, b.Column); c != 0 {
			return c
		}
		if a.Direct == b.Direct {
			return 0
		}
		if a.Direct {
			return -1
		}
		return 1
	})
}

// CopyFormat is the row format of a PostgreSQL COPY ... TO STDOUT, as its
// options set it: enough for an engine to split each row into fields,
// treat them and write the row again the same way.
type CopyFormat struct {
	// Format is "text", "csv" or "binary".
	Format string
	// Delimiter separates fields; Quote and Escape are CSV's.
	Delimiter, Quote, Escape byte
	// Header is set when the first data line holds the column names.
	Header bool
	// Unsupported names an option under which rows cannot be rewritten
	// safely ("" when none): a NULL string of the statement's choosing
	// (in text format a value equal to it is written the same way), an
	// ENCODING other than the session's.
	Unsupported string
}
