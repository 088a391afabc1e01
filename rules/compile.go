package rules

import (
	"fmt"
	"net/netip"
	"path"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/dbfence/dbfence/rules/facts"
)

// compiledPolicy is a Policy turned into the lookups decisions need.
type compiledPolicy struct {
	version     string
	principals  []compiledPrincipal
	defaultRole *compiledRole
	roles       map[string]*compiledRole
	classes     []ClassRule // patterns lower-cased
	// userRoles memoises principal matching per user name.
	userRoles      sync.Map // string -> *compiledPrincipal (nil pointer: no match)
	userRolesCount atomic.Int64
	// columnClass memoises classification per column.
	columnClass sync.Map // facts.Column -> columnClass
}

type compiledPrincipal struct {
	users    []string
	networks []netip.Prefix
	role     *compiledRole
}

// compiledRole is a role with its maskers built.
type compiledRole struct {
	name         string
	unrestricted bool
	monitor      bool
	statements   map[string]bool
	allowTables  []string
	denyTables   []string
	rowCap       int64
	budget       *Budget
	classes      map[string]compiledAction
	levels       map[string]compiledAction
}

// compiledAction is a ColumnAction with its Masker.
type compiledAction struct {
	action string
	masker Masker
	// algorithm is kept for explanations.
	algorithm string
}

// columnClass is a column's classification.
type columnClass struct {
	class, level string
}

// maxMemoUsers bounds the user-to-principal memo.
const maxMemoUsers = 10000

var unrestrictedRole = &compiledRole{name: Unrestricted, unrestricted: true}

// compilePolicy validates p and builds its maskers. A nil policy makes every
// user unrestricted.
func compilePolicy(p *Policy, masks MaskerFactory) (*compiledPolicy, error) {
	if p == nil {
		return &compiledPolicy{defaultRole: unrestrictedRole, roles: map[string]*compiledRole{}}, nil
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	cp := &compiledPolicy{version: p.Version, roles: map[string]*compiledRole{Unrestricted: unrestrictedRole}}
	for name, r := range p.Roles {
		cr := &compiledRole{
			name:        name,
			monitor:     r.Monitor,
			statements:  map[string]bool{},
			allowTables: lowerAll(r.Tables.Allow),
			denyTables:  lowerAll(r.Tables.Deny),
			rowCap:      r.RowCap,
			budget:      r.Budget,
			classes:     map[string]compiledAction{},
			levels:      map[string]compiledAction{},
		}
		kinds := r.Statements
		if len(kinds) == 0 {
			kinds = defaultStatements
		}
		for _, k := range kinds {
			cr.statements[strings.ToLower(k)] = true
		}
		for key, a := range r.Classes {
			ca, err := compileAction(a, masks)
			if err != nil {
				return nil, p.errorAt("roles."+name+".classes."+key, err.Error())
			}
			if level, ok := strings.CutPrefix(key, "level:"); ok {
				cr.levels[normalizeLevel(level)] = ca
				continue
			}
			cr.classes[key] = ca
		}
		for key, a := range r.Levels {
			ca, err := compileAction(a, masks)
			if err != nil {
				return nil, p.errorAt("roles."+name+".levels."+key, err.Error())
			}
			cr.levels[normalizeLevel(key)] = ca
		}
		cp.roles[name] = cr
	}
	for _, pr := range p.Principals {
		cpr := compiledPrincipal{users: pr.Users, role: cp.roles[pr.Role]}
		for _, n := range pr.Networks {
			pfx, _ := parseNetwork(n) // validated
			cpr.networks = append(cpr.networks, pfx)
		}
		cp.principals = append(cp.principals, cpr)
	}
	cp.defaultRole = cp.roles[p.DefaultRole]
	for _, c := range p.Classification {
		c.Column = strings.ToLower(c.Column)
		c.Level = normalizeLevel(c.Level)
		cp.classes = append(cp.classes, c)
	}
	return cp, nil
}

func compileAction(a ColumnAction, masks MaskerFactory) (compiledAction, error) {
	ca := compiledAction{action: a.Action, algorithm: a.Algorithm}
	if a.Action == ActionMask {
		if masks == nil {
			return ca, fmt.Errorf("action mask needs a masking library, and none is configured")
		}
		m, err := masks(a.Algorithm, a.Params)
		if err != nil {
			return ca, fmt.Errorf("masking algorithm %q: %v", a.Algorithm, err)
		}
		if m == nil {
			return ca, fmt.Errorf("masking algorithm %q: the factory returned no masker", a.Algorithm)
		}
		ca.masker = m
	}
	return ca, nil
}

func lowerAll(in []string) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = strings.ToLower(s)
	}
	return out
}

// parseNetwork reads a CIDR prefix or a single address.
func parseNetwork(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return p, err
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// principalFor returns the first principal matching user, or nil.
func (cp *compiledPolicy) principalFor(user string) *compiledPrincipal {
	if v, ok := cp.userRoles.Load(user); ok {
		return v.(*compiledPrincipal)
	}
	var found *compiledPrincipal
	for i := range cp.principals {
		if slices.ContainsFunc(cp.principals[i].users, func(pat string) bool { return wildcardMatch(pat, user) }) {
			found = &cp.principals[i]
			break
		}
	}
	// Memoise only a bounded number of names: user names come from
	// authenticated sessions, but a bound keeps a flood from growing memory.
	if cp.userRolesCount.Add(1) <= maxMemoUsers {
		cp.userRoles.Store(user, found)
	}
	return found
}

// roleFor returns the role of a user.
func (cp *compiledPolicy) roleFor(user string) *compiledRole {
	if pr := cp.principalFor(user); pr != nil {
		return pr.role
	}
	return cp.defaultRole
}

// classify returns a base column's classification ("" class when none).
// Rules match case-insensitively; the first rule sets the class and the
// highest level of all matching rules wins.
func (cp *compiledPolicy) classify(c facts.Column) columnClass {
	if v, ok := cp.columnClass.Load(c); ok {
		return v.(columnClass)
	}
	name := strings.ToLower(c.String())
	var out columnClass
	for _, r := range cp.classes {
		if !columnPatternMatch(r.Column, name) {
			continue
		}
		if out.class == "" {
			out.class = r.Class
		}
		if levelRank(r.Level) > levelRank(out.level) {
			out.level = r.Level
		}
	}
	cp.columnClass.Store(c, out)
	return out
}

// columnPatternMatch matches db.table.column patterns part by part.
func columnPatternMatch(pattern, name string) bool {
	pp := strings.Split(pattern, ".")
	np := strings.SplitN(name, ".", 3)
	if len(pp) != 3 || len(np) != 3 {
		return false
	}
	for i := range pp {
		if !wildcardMatch(pp[i], np[i]) {
			return false
		}
	}
	return true
}

// wildcardMatch matches s against a pattern where * matches any run of
// characters (and nothing else is special).
func wildcardMatch(pattern, s string) bool {
	if !strings.Contains(pattern, "*") {
		return pattern == s
	}
	// path.Match treats ?, [ and \ specially: escape them.
	var b strings.Builder
	for _, r := range pattern {
		if r == '?' || r == '[' || r == '\\' || r == ']' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	s = strings.ReplaceAll(s, "/", "\x00") // path.Match's * stops at '/'
	ok, err := path.Match(strings.ReplaceAll(b.String(), "/", "\x00"), s)
	return err == nil && ok
}

// normalizeLevel spells levels canonically ("4", "important", "core").
func normalizeLevel(l string) string { return strings.ToLower(strings.TrimSpace(l)) }

// levelRank orders levels: 1 < 2 < 3 < 4 < important < core; "" is lowest.
func levelRank(l string) int {
	switch l {
	case "1":
		return 1
	case "2":
		return 2
	case "3":
		return 3
	case "4":
		return 4
	case "important":
		return 5
	case "core":
		return 6
	}
	return 0
}
