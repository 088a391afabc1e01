package catalog

import (
	"context"
	"sort"
	"strings"
	"sync/atomic"
)

// Column is one column of a table or view.
type Column struct {
	// Name is the column name as the server stores it.
	Name string
	// Type is the column's data type as information_schema reports it (informational).
	Type string
}

// View is the definition of a view.
type View struct {
	// Definition is the view's SELECT statement as the server stores it
	// (information_schema.VIEWS.VIEW_DEFINITION, with qualified names).
	Definition string
}

// Table is a base table or a view.
type Table struct {
	// Database and Name as the server spells them.
	Database, Name string
	// Columns in ordinal order.
	Columns []Column
	// View is the definition when the table is a view; nil for base tables.
	View *View

	// derived holds an analyser's result that depends only on this snapshot
	// (a view's resolved lineage), so each view is analysed once per snapshot.
	derived atomic.Pointer[any]
}

// Column returns the column with the given name (column names are
// case-insensitive in MySQL) and its position.
func (t *Table) Column(name string) (Column, int, bool) {
	for i, c := range t.Columns {
		if strings.EqualFold(c.Name, name) {
			return c, i, true
		}
	}
	return Column{}, -1, false
}

// Derived returns what SetDerived stored, or nil.
func (t *Table) Derived() any {
	if p := t.derived.Load(); p != nil {
		return *p
	}
	return nil
}

// SetDerived stores an analyser's result for this table in this snapshot.
// The value must be immutable: it is shared by every session.
func (t *Table) SetDerived(v any) { t.derived.Store(&v) }

// Options are the server settings that change how names are compared.
type Options struct {
	// LowerCaseTableNames is the server's lower_case_table_names (0: database
	// and table names are case-sensitive; 1 or 2: compared in lower case).
	LowerCaseTableNames int
}

// Catalog is an immutable snapshot of the schema.
type Catalog struct {
	opts      Options
	tables    map[string]*Table
	databases map[string]string // folded name -> name
	// Generation increases with every snapshot built in this process; caches
	// keyed by it never mix snapshots.
	Generation uint64
}

var generations atomic.Uint64

// New builds a snapshot from tables (base tables and views). Databases are
// those the tables belong to plus extraDatabases (empty databases).
func New(opts Options, tables []*Table, extraDatabases ...string) *Catalog {
	c := &Catalog{
		opts:       opts,
		tables:     make(map[string]*Table, len(tables)),
		databases:  make(map[string]string),
		Generation: generations.Add(1),
	}
	for _, t := range tables {
		c.tables[c.key(t.Database, t.Name)] = t
		c.databases[c.fold(t.Database)] = t.Database
	}
	for _, d := range extraDatabases {
		c.databases[c.fold(d)] = d
	}
	return c
}

// Options returns the name-comparison settings of the snapshot.
func (c *Catalog) Options() Options { return c.opts }

func (c *Catalog) fold(name string) string {
	if c.opts.LowerCaseTableNames != 0 {
		return strings.ToLower(name)
	}
	return name
}

func (c *Catalog) key(db, name string) string { return c.fold(db) + "\x00" + c.fold(name) }

// Table returns the table or view db.name under the server's case rules.
func (c *Catalog) Table(db, name string) (*Table, bool) {
	if c == nil {
		return nil, false
	}
	t, ok := c.tables[c.key(db, name)]
	return t, ok
}

// Database returns a database's name as the server spells it.
func (c *Catalog) Database(name string) (string, bool) {
	if c == nil {
		return "", false
	}
	d, ok := c.databases[c.fold(name)]
	return d, ok
}

// Tables returns every table and view, sorted by database and name.
func (c *Catalog) Tables() []*Table {
	if c == nil {
		return nil
	}
	out := make([]*Table, 0, len(c.tables))
	for _, t := range c.tables {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Database != out[j].Database {
			return out[i].Database < out[j].Database
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// Loader loads a fresh snapshot (see MySQLLoader).
type Loader func(ctx context.Context) (*Catalog, error)
