package rules

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/dbfence/dbfence/rules/mysqlsql"
)

// Validate checks the policy; the error (a *PolicyError) names the first
// mistake in file order and its line.
func (p *Policy) Validate() error {
	var errs []*PolicyError
	add := func(path, format string, args ...any) { errs = append(errs, p.errorAt(path, fmt.Sprintf(format, args...))) }
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
		for key, a := range r.Classes {
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
