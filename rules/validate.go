package rules

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/dbfence/dbfence/rules/mysqlsql"
)

// PolicyError is a policy mistake with the place it was written.
type PolicyError struct {
	// File is the configuration file, when known.
	File string
	// Line is the 1-based line of the offending setting; 0 when unknown.
	Line int
	// Path is the setting's dotted path (roles.clerk.row_cap).
	Path string
	// Msg says what is wrong.
	Msg string
}

// Error formats the mistake as file:line: policy.path: message.
func (e *PolicyError) Error() string {
	loc := ""
	switch {
	case e.File != "" && e.Line > 0:
		loc = fmt.Sprintf("%s:%d: ", e.File, e.Line)
	case e.Line > 0:
		loc = fmt.Sprintf("line %d: ", e.Line)
	case e.File != "":
		loc = e.File + ": "
	}
	if e.Path != "" {
		return loc + "policy." + e.Path + ": " + e.Msg
	}
	return loc + "policy: " + e.Msg
}

// errorAt builds a PolicyError for the setting at path.
func (p *Policy) errorAt(path, msg string) *PolicyError {
	return &PolicyError{File: p.file, Line: p.lineOf(path), Path: path, Msg: msg}
}

// lineOf returns the line of the setting at path or of its nearest parent.
func (p *Policy) lineOf(path string) int {
	for path != "" {
		if l, ok := p.lines[path]; ok {
			return l
		}
		i := len(path) - 1
		for i >= 0 && path[i] != '.' && path[i] != '[' {
			i--
		}
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return 0
}

// Validate checks the policy; the error (a *PolicyError) names the first
// mistake in file order and its line.
func (p *Policy) Validate() error {
	var errs []*PolicyError
	add := func(path, format string, args ...any) {
		errs = append(errs, p.errorAt(path, fmt.Sprintf(format, args...)))
	}
	if strings.TrimSpace(p.Version) == "" {
		add("version", "version is required: it stamps every decision")
	}
	for i, c := range p.Classification {
		path := fmt.Sprintf("classification[%d]", i)
		if len(strings.Split(c.Column, ".")) != 3 || slices.Contains(strings.Split(c.Column, "."), "") {
			add(path+".column", "column %q must be db.table.column (with optional * wildcards)", c.Column)
		}
		if c.Class == "" && c.Level == "" {
			add(path, "a classification needs a class or a level")
		}
		if c.Level != "" && levelRank(normalizeLevel(c.Level)) == 0 {
			add(path+".level", "level %q must be 1, 2, 3, 4, important or core", c.Level)
		}
	}
	roleExists := func(name string) bool { _, ok := p.Roles[name]; return ok || name == Unrestricted }
	for i, pr := range p.Principals {
		path := fmt.Sprintf("principals[%d]", i)
		if len(pr.Users) == 0 {
			add(path+".users", "a principal needs at least one user")
		}
		for j, u := range pr.Users {
			if u == "" {
				add(fmt.Sprintf("%s.users[%d]", path, j), "empty user name")
			}
		}
		for j, n := range pr.Networks {
			if _, err := parseNetwork(n); err != nil {
				add(fmt.Sprintf("%s.networks[%d]", path, j), "%q is not a CIDR prefix or address", n)
			}
		}
		if !roleExists(pr.Role) {
			add(path+".role", "role %q is not defined", pr.Role)
		}
	}
	if p.DefaultRole == "" {
		add("default_role", "default_role is required (%q keeps unnamed users transparent; a restricted role denies by default)", Unrestricted)
	} else if !roleExists(p.DefaultRole) {
		add("default_role", "role %q is not defined", p.DefaultRole)
	}
	names := make([]string, 0, len(p.Roles))
	for n := range p.Roles {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		r := p.Roles[name]
		path := "roles." + name
		if name == Unrestricted {
			add(path, "%q is built in and cannot be redefined", Unrestricted)
			continue
		}
		if r == nil {
			continue // an empty role: read-only defaults, no column rules
		}
		for i, k := range r.Statements {
			if !slices.Contains(mysqlsql.KnownKinds, strings.ToLower(k)) {
				add(fmt.Sprintf("%s.statements[%d]", path, i), "unknown statement kind %q (known: %s)", k, strings.Join(mysqlsql.KnownKinds, ", "))
			}
		}
		for i, t := range append(slices.Clone(r.Tables.Allow), r.Tables.Deny...) {
			list, j := "allow", i
			if i >= len(r.Tables.Allow) {
				list, j = "deny", i-len(r.Tables.Allow)
			}
			if parts := strings.Split(t, "."); len(parts) != 2 || parts[0] == "" || parts[1] == "" {
				add(fmt.Sprintf("%s.tables.%s[%d]", path, list, j), "table pattern %q must be db.table", t)
			}
		}
		if r.RowCap < 0 {
			add(path+".row_cap", "row_cap must not be negative")
		}
		if r.Budget != nil && (r.Budget.Rows <= 0 || r.Budget.Window <= 0) {
			add(path+".budget", "budget needs rows > 0 and a window > 0 (e.g. rows: 1000, window: 1h)")
		}
		for key, a := range r.Classes {
			if level, ok := strings.CutPrefix(key, "level:"); ok {
				if levelRank(normalizeLevel(level)) == 0 {
					add(path+".classes."+key, "level %q must be 1, 2, 3, 4, important or core", level)
				}
				if _, dup := r.Levels[level]; dup {
					add(path+".classes."+key, "level %q is also set under levels", level)
				}
			}
			p.validateAction(path+".classes."+key, a, add)
		}
		for key, a := range r.Levels {
			if levelRank(normalizeLevel(key)) == 0 {
				add(path+".levels."+key, "level %q must be 1, 2, 3, 4, important or core", key)
			}
			p.validateAction(path+".levels."+key, a, add)
		}
	}
	if len(errs) == 0 {
		return nil
	}
	sort.SliceStable(errs, func(i, j int) bool { return errs[i].Line < errs[j].Line })
	return errs[0]
}

func (p *Policy) validateAction(path string, a ColumnAction, add func(string, string, ...any)) {
	switch a.Action {
	case ActionMask:
		if a.Algorithm == "" {
			add(path+".algorithm", "action mask needs an algorithm")
		}
	case ActionDeny, ActionAllow:
		if a.Algorithm != "" || len(a.Params) > 0 {
			add(path+".algorithm", "only action mask takes an algorithm and params")
		}
	default:
		add(path+".action", "action %q must be mask, deny or allow", a.Action)
	}
}
