package pgsql

import (
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/dbfence/dbfence/rules/catalog"
)

// Env is what the analysis needs to know about the session.
type Env struct {
	// Catalog is the snapshot of the session's database (nil: empty).
	Catalog *catalog.Catalog
	// SearchPath is the session's search_path as the server reports it
	// (current_setting('search_path'), already split into entries, quotes
	// removed, "$user" still literal); SearchPathKnown is false when the
	// proxy does not know it. Then unqualified names cannot be resolved:
	// relations are refused (Unsupported "search_path not known ..."),
	// functions, operators and types are unknown; schema-qualified names
	// still resolve.
	SearchPath      []string
	SearchPathKnown bool
	// User is current_user, which "$user" stands for.
	User string
	// ServerVersion is the server's version as server_version_num gives it
	// (150020 for 15.20; 0 when not known). The grammar is PostgreSQL 17's:
	// where an older server reads a text otherwise, the analysis refuses it
	// unless the server is known to be recent enough.
	ServerVersion int
}

// pathInfo is the effective search path of one analysis, resolved the way
// PostgreSQL resolves it: "$user" expands to the current user, pg_temp is
// ignored (restricted roles cannot create temporary tables through the
// proxy), schemas that do not exist are skipped, and pg_catalog is searched
// first unless it is listed explicitly.
type pathInfo struct {
	// known is false when the session's search_path is not known.
	known bool
	// schemas is the relation lookup order, pg_catalog included.
	schemas []string
	// builtins is true when unqualified functions, operators and types
	// resolve to pg_catalog first (pg_catalog implicit, or listed before any
	// other existing schema): only then do the built-in tables apply to them.
	builtins bool
	// create is the schema new relations are created in ("" when none).
	create string
	// serverVersion is Env.ServerVersion (0 for view definitions: see
	// funcCall).
	serverVersion int
}

// viewPath is the path view definitions are read under: pg_get_viewdef
// runs under an empty search_path, so only pg_catalog is implicit.
var viewPath = pathInfo{known: true, schemas: []string{"pg_catalog"}, builtins: true}

// resolvePath computes the effective search path of env.
func resolvePath(env Env) pathInfo {
	if !env.SearchPathKnown {
		return pathInfo{serverVersion: env.ServerVersion}
	}
	p := pathInfo{known: true, serverVersion: env.ServerVersion}
	listed := make([]string, 0, len(env.SearchPath)+1)
	explicitCatalog := false
	for _, e := range env.SearchPath {
		name := e
		if e == "$user" {
			name = env.User
		}
		if name == "" || name == "pg_temp" || strings.HasPrefix(name, "pg_temp_") {
			continue
		}
		if name == "pg_catalog" {
			explicitCatalog = true
		} else if _, ok := env.Catalog.Database(name); !ok {
			continue // a schema that does not exist is skipped
		}
		if !slices.Contains(listed, name) {
			listed = append(listed, name)
		}
	}
	if len(listed) > 0 {
		p.create = listed[0]
	}
	if !explicitCatalog {
		p.schemas = append([]string{"pg_catalog"}, listed...)
		p.builtins = true
		return p
	}
	p.schemas = listed
	p.builtins = listed[0] == "pg_catalog"
	return p
}

// ParseSearchPath splits a search_path setting the way the server does
// (SplitIdentifierString): comma-separated, double quotes keep case and
// commas, unquoted names are folded to lower case (ASCII letters only, as
// the server does under UTF-8), and names are cut to 63 bytes.
func ParseSearchPath(v string) []string {
	var out []string
	for i := 0; i < len(v); {
		for i < len(v) && (v[i] == ' ' || v[i] == '\t' || v[i] == '\n' || v[i] == '\r') {
			i++
		}
		if i >= len(v) {
			break
		}
		var b strings.Builder
		if v[i] == '"' {
			i++
			for i < len(v) {
				if v[i] == '"' {
					if i+1 < len(v) && v[i+1] == '"' {
						b.WriteByte('"')
						i += 2
						continue
					}
					i++
					break
				}
				b.WriteByte(v[i])
				i++
			}
			for i < len(v) && v[i] != ',' {
				i++
			}
			out = append(out, truncateIdentifier(b.String()))
		} else {
			start := i
			for i < len(v) && v[i] != ',' {
				i++
			}
			out = append(out, truncateIdentifier(lowerASCII(strings.TrimRight(v[start:i], " \t\n\r"))))
		}
		if i < len(v) && v[i] == ',' {
			i++
		}
	}
	return out
}

// maxIdentifierBytes is NAMEDATALEN - 1: the server cuts longer names.
const maxIdentifierBytes = 63

// truncateIdentifier cuts a name to maxIdentifierBytes without splitting a
// UTF-8 sequence, as the server's truncate_identifier does.
func truncateIdentifier(s string) string {
	if len(s) <= maxIdentifierBytes {
		return s
	}
	n := maxIdentifierBytes
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
