package facts

import (
	"fmt"
	"io"
	"strings"
)

// Describe writes a statement's facts in a stable, line-oriented text form,
// for explanations and golden files. Empty facts are left out.
func Describe(w io.Writer, s *Statement, indent string) {
	p := func(format string, args ...any) { fmt.Fprintf(w, indent+format+"\n", args...) }
	p("kind: %s", s.Kind)
	objs := func(label string, list []Object) {
		if len(list) == 0 {
			return
		}
		names := make([]string, len(list))
		for i, o := range list {
			names[i] = o.String()
			if o.View {
				names[i] += "(view)"
			}
		}
		p("%s: %s", label, strings.Join(names, ", "))
	}
	objs("reads", s.Reads)
	objs("writes", s.Writes)
	objs("system", s.SystemObjects)
	for i, o := range s.Outputs {
		org := ""
		if o.OrgTable != "" || o.OrgColumn != "" {
			org = fmt.Sprintf(" [org %s.%s.%s]", o.OrgDatabase, o.OrgTable, o.OrgColumn)
		}
		p("output %d %q: %s%s", i+1, o.Name, o.Lineage, org)
	}
	if s.OutputsUnknown {
		p("outputs: not fully known")
	}
	if c := s.CopyOut; c != nil {
		line := fmt.Sprintf("copy out: %s, delimiter %q", c.Format, c.Delimiter)
		if c.Format == "csv" {
			line += fmt.Sprintf(", quote %q, escape %q", c.Quote, c.Escape)
		}
		if c.Header {
			line += ", header"
		}
		if c.Unsupported != "" {
			line += ", unsupported: " + c.Unsupported
		}
		p("%s", line)
	}
	if s.Cursor != "" {
		var opts string
		if s.CursorHold {
			opts = " (with hold)"
		}
		if s.CursorMove {
			opts = " (move)"
		}
		p("cursor: %s%s", s.Cursor, opts)
	}
	for _, sh := range s.Shaping {
		exact := ""
		if sh.ExactLookup {
			exact = " (exact lookup)"
			if sh.Guesses > 1 {
				exact = fmt.Sprintf(" (exact lookup of %d values)", sh.Guesses)
			}
		}
		p("shaping %s: %s%s", sh.Position, sh.Column, exact)
	}
	if s.ShapingUnknown {
		p("shaping: unknown lineage")
	}
	for _, f := range s.Flows {
		p("flow to %s %s: %s", f.Target, f.Name, f.Lineage)
	}
	var flags []string
	for _, f := range []struct {
		on   bool
		name string
	}{
		{s.Dynamic, "dynamic"}, {s.HasWhere, "where"}, {s.Aggregates, "aggregates"}, {s.Windows, "windows"},
		{s.SetOps, "set_ops"}, {s.Subqueries, "subqueries"}, {s.CTEs, "ctes"}, {s.DerivedTables, "derived_tables"},
		{s.ChangesSession, "changes_session"}, {s.SetsGlobal, "sets_global"}, {s.ChangesReading, "changes_reading"}, {s.LiteralDependent, "literal_dependent"},
		{s.ExplainAnalyze, "explain_analyze"},
	} {
		if f.on {
			flags = append(flags, f.name)
		}
	}
	if s.HasLimit {
		flags = append(flags, fmt.Sprintf("limit=%d", s.Limit))
	}
	if len(flags) > 0 {
		p("flags: %s", strings.Join(flags, " "))
	}
	if s.Show != "" {
		p("show: %s", s.Show)
	}
	if len(s.Functions) > 0 {
		p("functions: %s", strings.Join(s.Functions, " "))
	}
	if len(s.UnknownFunctions) > 0 {
		p("unknown functions: %s", strings.Join(s.UnknownFunctions, " "))
	}
	if len(s.Dangerous) > 0 {
		p("dangerous functions: %s", strings.Join(s.Dangerous, " "))
	}
	for _, u := range s.Unsupported {
		p("unsupported: %s", u)
	}
	if s.Prepared != nil {
		p("prepared:")
		Describe(w, s.Prepared, indent+"  ")
	}
}
