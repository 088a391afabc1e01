package masking

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Masker rewrites one non-NULL column value (UTF-8 text). It appends the
// masked form of src to dst and returns the extended slice; it must not
// retain src or dst. Safe for concurrent use.
//
// Every Masker in this package fails closed: a value that does not validate as
// its class is still masked (by the keep-first/keep-last rule of the
// algorithm, shrunk so that at least a third of the value is hidden), never
// returned plain.
type Masker interface {
	Mask(dst, src []byte) []byte
}

// DefaultMaskRune is the replacement for each hidden character unless the
// mask_char parameter says otherwise.
const DefaultMaskRune = '*'

// New builds a masker from a policy's algorithm name and parameters (YAML
// scalars arrive as strings). An unknown algorithm or parameter, or a
// parameter that does not parse, is an error naming it.
func New(algorithm string, params map[string]string) (Masker, error) {
	p := newParamReader(algorithm, params)
	m, err := build(algorithm, p)
	if err != nil {
		return nil, err
	}
	if err := p.finish(); err != nil {
		return nil, err
	}
	return m, nil
}

// Algorithms lists the algorithm names New accepts, sorted.
func Algorithms() []string {
	names := []string{
		"id_card", "phone", "bank_card", "name", "address", "email", "uscc",
		"passport", "license_plate", "birthday", "date", "keep", "mask_range",
		"redact", "null", "pseudonym", "sm4_token", "generalize",
	}
	sort.Strings(names)
	return names
}

func build(algorithm string, p *paramReader) (Masker, error) {
	maskRune := DefaultMaskRune
	switch algorithm {
	case "redact", "null", "pseudonym", "sm4_token": // they hide no single characters
	default:
		maskRune = p.maskRune()
	}
	switch algorithm {
	case "id_card":
		return &idCardMasker{keep: p.keepRule(6, 4), maskRune: maskRune}, p.err
	case "phone":
		return &phoneMasker{
			mobile:       p.keepRule(3, 4),
			landlineLast: p.intParam("landline_keep_last", 2, 0, 8),
			maskRune:     maskRune,
		}, p.err
	case "bank_card":
		return &bankCardMasker{keep: p.keepRule(6, 4), maskRune: maskRune}, p.err
	case "name":
		return &nameMasker{keepLast: p.intParam("keep_last", 0, 0, 4), maskRune: maskRune}, p.err
	case "address":
		return newAddressMasker(p, maskRune)
	case "email":
		return &emailMasker{keepFirst: p.intParam("keep_first", 1, 0, 64), maskDomain: p.boolParam("mask_domain", false), maskRune: maskRune}, p.err
	case "uscc":
		return &keepMasker{keep: p.keepRule(8, 2), maskRune: maskRune, alnumOnly: true}, p.err
	case "passport":
		return &keepMasker{keep: p.keepRule(2, 2), maskRune: maskRune, alnumOnly: true}, p.err
	case "license_plate":
		return &keepMasker{keep: p.keepRule(3, 1), maskRune: maskRune, alnumOnly: true}, p.err
	case "birthday", "date":
		return newDateMasker(p, maskRune)
	case "keep":
		return &keepMasker{keep: p.keepRule(0, 0), maskRune: maskRune}, p.err
	case "mask_range":
		return newRangeMasker(p, maskRune)
	case "redact":
		return &redactMasker{replacement: []byte(p.stringParam("replacement", "***"))}, p.err
	case "null":
		return nullMasker{}, p.err
	case "pseudonym":
		return newPseudonymMasker(p)
	case "sm4_token":
		return newSM4TokenMasker(p)
	case "generalize":
		return newGeneralizeMasker(p, maskRune)
	}
	return nil, fmt.Errorf("masking: unknown algorithm %q (known: %s)", algorithm, strings.Join(Algorithms(), ", "))
}

// paramReader reads typed parameters, remembers the first error and which
// parameters were consumed, so that a misspelt parameter is reported rather
// than silently ignored.
type paramReader struct {
	algorithm string
	params    map[string]string
	used      map[string]bool
	err       error
}

func newParamReader(algorithm string, params map[string]string) *paramReader {
	return &paramReader{algorithm: algorithm, params: params, used: make(map[string]bool, len(params))}
}

func (p *paramReader) lookup(name string) (string, bool) {
	p.used[name] = true
	v, ok := p.params[name]
	return strings.TrimSpace(v), ok
}

func (p *paramReader) fail(name, value, why string) {
	if p.err == nil {
		p.err = fmt.Errorf("masking: algorithm %q: parameter %s=%q: %s", p.algorithm, name, value, why)
	}
}

func (p *paramReader) intParam(name string, def, lo, hi int) int {
	v, ok := p.lookup(name)
	if !ok {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		p.fail(name, v, fmt.Sprintf("want an integer in [%d, %d]", lo, hi))
		return def
	}
	return n
}

func (p *paramReader) boolParam(name string, def bool) bool {
	v, ok := p.lookup(name)
	if !ok {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		p.fail(name, v, "want true or false")
		return def
	}
	return b
}

func (p *paramReader) stringParam(name, def string) string {
	v, ok := p.params[name]
	p.used[name] = true
	if !ok {
		return def
	}
	return v
}

func (p *paramReader) choiceParam(name, def string, choices ...string) string {
	v, ok := p.lookup(name)
	if !ok {
		return def
	}
	for _, c := range choices {
		if v == c {
			return v
		}
	}
	p.fail(name, v, "want one of "+strings.Join(choices, ", "))
	return def
}

// maskRune reads mask_char: exactly one printable character.
func (p *paramReader) maskRune() rune {
	v, ok := p.params["mask_char"]
	p.used["mask_char"] = true
	if !ok {
		return DefaultMaskRune
	}
	r, size := utf8.DecodeRuneInString(v)
	if size == 0 || size != len(v) || r == utf8.RuneError {
		p.fail("mask_char", v, "want exactly one character")
		return DefaultMaskRune
	}
	return r
}

// keepRule reads keep_first and keep_last.
func (p *paramReader) keepRule(first, last int) keepRule {
	return keepRule{first: p.intParam("keep_first", first, 0, 64), last: p.intParam("keep_last", last, 0, 64)}
}

// finish reports the first parse error, else the first parameter that no
// reader consumed.
func (p *paramReader) finish() error {
	if p.err != nil {
		return p.err
	}
	var unknown []string
	for name := range p.params {
		if !p.used[name] {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return fmt.Errorf("masking: algorithm %q: unknown parameter %q", p.algorithm, unknown[0])
	}
	return nil
}

// Every algorithm satisfies Masker; typed treatments are checked too.
var (
	_ Masker      = (*idCardMasker)(nil)
	_ Masker      = (*phoneMasker)(nil)
	_ Masker      = (*bankCardMasker)(nil)
	_ Masker      = (*nameMasker)(nil)
	_ Masker      = (*addressMasker)(nil)
	_ Masker      = (*emailMasker)(nil)
	_ Masker      = (*keepMasker)(nil)
	_ Masker      = (*rangeMasker)(nil)
	_ Masker      = (*redactMasker)(nil)
	_ Masker      = nullMasker{}
	_ Masker      = (*dateMasker)(nil)
	_ Masker      = (*pseudonymMasker)(nil)
	_ Masker      = (*sm4TokenMasker)(nil)
	_ Masker      = (*generalizeMasker)(nil)
	_ Masker      = (*transcodingMasker)(nil)
	_ typedMasker = (*dateMasker)(nil)
	_ typedMasker = (*pseudonymMasker)(nil)
	_ typedMasker = (*sm4TokenMasker)(nil)
	_ typedMasker = (*generalizeMasker)(nil)
	_ typedMasker = (*transcodingMasker)(nil)
)
