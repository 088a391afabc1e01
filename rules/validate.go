package rules

import (
	"fmt"
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

