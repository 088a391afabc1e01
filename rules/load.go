package rules

import (
	"fmt"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"
)

// LoadPolicy decodes the `policy:` node of a configuration file and
// validates it. Unknown keys are errors; every error is a *PolicyError with
// the line it refers to. file names the configuration file in errors ("" if
// unknown).
func LoadPolicy(node *yaml.Node, file string) (*Policy, error) {
	if node == nil {
		return nil, &PolicyError{File: file, Msg: "missing policy"}
	}
	if node.Kind == yaml.DocumentNode && len(node.Content) == 1 {
		node = node.Content[0]
	}
	p := &Policy{lines: map[string]int{}, file: file}
	if err := checkKeys(node, reflect.TypeOf(Policy{}), "", p.lines); err != nil {
		err.File = file
		return nil, err
	}
	if err := node.Decode(p); err != nil {
		return nil, &PolicyError{File: file, Line: yamlErrorLine(err, node.Line), Msg: cleanYAMLError(err)}
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p, nil
}

// UnmarshalYAML lets a Policy be a field of the dbfence configuration
// struct: decoding checks keys and records lines like LoadPolicy (the file
// name is unknown there; set it with SetFile before Validate for errors).
func (p *Policy) UnmarshalYAML(node *yaml.Node) error {
	lines := map[string]int{}
	if err := checkKeys(node, reflect.TypeOf(Policy{}), "", lines); err != nil {
		return err
	}
	type plain Policy // without this method
	if err := node.Decode((*plain)(p)); err != nil {
		return err
	}
	p.lines = lines
	return nil
}

// SetFile records the configuration file name used in error messages.
func (p *Policy) SetFile(file string) { p.file = file }

// checkKeys walks node against the yaml tags of type t, recording the line
// of every setting under its dotted path and refusing unknown keys.
func checkKeys(node *yaml.Node, t reflect.Type, path string, lines map[string]int) *PolicyError {
	if path != "" {
		lines[path] = node.Line
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		if node.Kind != yaml.MappingNode {
			if node.Kind == yaml.ScalarNode && node.Tag == "!!null" {
				return nil
			}
			return &PolicyError{Line: node.Line, Path: path, Msg: "expected a mapping"}
		}
		fields := map[string]reflect.Type{}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			tag := strings.Split(f.Tag.Get("yaml"), ",")[0]
			if tag != "" && tag != "-" {
				fields[tag] = f.Type
			}
		}
		for i := 0; i+1 < len(node.Content); i += 2 {
			key, val := node.Content[i], node.Content[i+1]
			ft, ok := fields[key.Value]
			sub := joinPath(path, key.Value)
			if !ok {
				return &PolicyError{Line: key.Line, Path: sub, Msg: fmt.Sprintf("unknown key %q", key.Value)}
			}
			lines[sub] = key.Line
			if err := checkKeys(val, ft, sub, lines); err != nil {
				return err
			}
			lines[sub] = key.Line
		}
	case reflect.Map:
		if node.Kind != yaml.MappingNode {
			if node.Kind == yaml.ScalarNode && node.Tag == "!!null" {
				return nil
			}
			return &PolicyError{Line: node.Line, Path: path, Msg: "expected a mapping"}
		}
		for i := 0; i+1 < len(node.Content); i += 2 {
			key, val := node.Content[i], node.Content[i+1]
			sub := joinPath(path, key.Value)
			if err := checkKeys(val, t.Elem(), sub, lines); err != nil {
				return err
			}
			lines[sub] = key.Line
		}
	case reflect.Slice:
		if node.Kind != yaml.SequenceNode {
			if node.Kind == yaml.ScalarNode && node.Tag == "!!null" {
				return nil
			}
			return &PolicyError{Line: node.Line, Path: path, Msg: "expected a list"}
		}
		for i, item := range node.Content {
			if err := checkKeys(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i), lines); err != nil {
				return err
			}
		}
	default:
		if node.Kind != yaml.ScalarNode {
			return &PolicyError{Line: node.Line, Path: path, Msg: "expected a single value"}
		}
	}
	return nil
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// yamlErrorLine extracts "line N" from a yaml.v3 error, or returns def.
func yamlErrorLine(err error, def int) int {
	var n int
	msg := err.Error()
	if i := strings.Index(msg, "line "); i >= 0 {
		if _, e := fmt.Sscanf(msg[i:], "line %d", &n); e == nil {
			return n
		}
	}
	return def
}

func cleanYAMLError(err error) string {
	return strings.TrimPrefix(strings.TrimPrefix(err.Error(), "yaml: "), "unmarshal errors:\n  ")
}

// PolicyFromConfig reads the `policy:` key of a whole configuration file.
func PolicyFromConfig(data []byte, file string) (*Policy, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, &PolicyError{File: file, Line: yamlErrorLine(err, 0), Msg: cleanYAMLError(err)}
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(root.Content); i += 2 {
			if root.Content[i].Value == "policy" {
				return LoadPolicy(root.Content[i+1], file)
			}
		}
	}
	return nil, &PolicyError{File: file, Msg: "no policy: key in the configuration"}
}
