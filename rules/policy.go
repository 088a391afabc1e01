package rules

import "time"

// Unrestricted is the built-in role with no rules: every statement that
// parses is allowed and results pass untouched. It cannot be redefined.
const Unrestricted = "unrestricted"

// Policy is the rules part of the dbfence configuration (the `policy:` key).
// Build it with LoadPolicy, which reports unknown keys and bad values with
// their line; a Policy is immutable once given to an engine.
type Policy struct {
	// Version identifies this policy; every decision is stamped with it.
	Version string `yaml:"version"`
	// Classification maps column patterns to a data class and level. The
	// first rule per column sets its class; a column matched by several rules
	// takes the highest level among them.
	Classification []ClassRule `yaml:"classification"`
	// Principals map database users to roles; the first match wins.
	Principals []Principal `yaml:"principals"`
	// DefaultRole is the role of users no principal matches. The built-in
	// "unrestricted" keeps dbfence transparent for users the policy does not
	// name; a restricted role name makes the policy deny-by-default.
	DefaultRole string `yaml:"default_role"`
	// Roles by name.
	Roles map[string]*Role `yaml:"roles"`

	// lines records where each setting was written, for errors ("roles.clerk" -> 12).
	lines map[string]int
	// file is the configuration file name, for errors; empty when unknown.
	file string
}

// ClassRule classifies the columns matching a pattern.
type ClassRule struct {
	// Column is a db.table.column pattern; * matches any run of characters
	// within one part. Matching is case-insensitive.
	Column string `yaml:"column"`
	// Class names the kind of personal data (id_card, name, phone, ...).
	Class string `yaml:"class"`
	// Level is a general level "1" to "4", or "important" or "core" (GB/T 43697).
	Level string `yaml:"level"`
}

// Principal assigns a role to database users.
type Principal struct {
	// Users are user names or patterns with * wildcards.
	Users []string `yaml:"users"`
	// Networks is an optional CIDR allowlist; a connection from any other
	// address is refused at the handshake. Empty allows every address.
	Networks []string `yaml:"networks"`
	// Role is the role name (a key of Policy.Roles, or "unrestricted").
	Role string `yaml:"role"`
}

// Role is what a group of users may do.
type Role struct {
	// Monitor makes the role decide, log and count without blocking or masking.
	Monitor bool `yaml:"monitor"`
	// Statements lists the statement kinds allowed (see mysqlsql.KnownKinds);
	// empty means the read-only defaults: select, show, explain, set, use,
	// transaction, prepare and deallocate. Reading through a PostgreSQL
	// cursor (DECLARE, FETCH, MOVE, CLOSE) counts as select, COPY TO as
	// select and COPY FROM as insert.
	Statements []string `yaml:"statements"`
	// Tables allow and deny db.table patterns; deny wins; an empty allow list
	// allows every table not denied.
	Tables TableRules `yaml:"tables"`
	// RowCap is the most rows one statement may return; 0 means no cap. A
	// statement reading classified data with neither WHERE nor LIMIT ≤ cap
	// needs an approval.
	RowCap int64 `yaml:"row_cap"`
	// Budget bounds the classified rows one user may receive over a rolling
	// window, across all their connections (pagination loops, parallel
	// sessions); nil means no budget.
	Budget *Budget `yaml:"budget"`
	// Classes gives the treatment per data class; a key "level:N" gives the
	// treatment per level instead (the same as Levels["N"]).
	Classes map[string]ColumnAction `yaml:"classes"`
	// Levels gives the treatment per level, for classified columns whose class
	// has no entry in Classes. Keys are levels ("4", "core").
	Levels map[string]ColumnAction `yaml:"levels"`
}

// TableRules are allow and deny lists of db.table patterns.
type TableRules struct {
	// Allow lists patterns of tables the role may touch; empty allows all.
	Allow []string `yaml:"allow"`
	// Deny lists patterns of tables the role may not touch; deny wins.
	Deny []string `yaml:"deny"`
}

// ColumnAction is the treatment of a classified column.
type ColumnAction struct {
	// Action is "mask" (values masked in results), "deny" (the column may not
	// be read at all) or "allow" (plain).
	Action string `yaml:"action"`
	// Algorithm names the masking algorithm (for action mask).
	Algorithm string `yaml:"algorithm"`
	// Params are the algorithm's parameters.
	Params map[string]string `yaml:"params"`
}

// The column actions.
const (
	ActionMask  = "mask"
	ActionDeny  = "deny"
	ActionAllow = "allow"
)

// defaultStatements are the kinds a role allows when it lists none.
var defaultStatements = []string{"select", "show", "explain", "set", "use", "transaction", "prepare", "deallocate"}

// Budget is a rolling per-user allowance of classified rows.
type Budget struct {
	// Rows is how many classified rows a user may receive per window.
	Rows int64 `yaml:"rows"`
	// Window is the rolling window, e.g. 1h.
	Window time.Duration `yaml:"window"`
}
