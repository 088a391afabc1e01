package pgsql

import "strings"

// maxDepth bounds the estimated depth of a text's parse trees. libpg_query
// converts a tree to protobuf by recursion on the C stack of the calling
// thread, without a depth check: a chain of about 23,800 binary operators
// (SELECT 1+1+...) overflows an 8 MB thread stack, about 5,900 a 2 MB one
// (glibc's thread default under ulimit -s unlimited), and the SIGSEGV in cgo
// kills the process. Operators, casts, COLLATE, AT TIME ZONE, JOIN and
// UNION chain without growing the grammar's parser stack, so nothing else
// stops them. Anything deeper than about 5,000 levels fails anyway in
// decoding (protobuf's recursion limit), and the server (max_stack_depth
// 2MB) refuses operator chains beyond about 4,000 terms; 2,000 leaves a
// wide margin to the crash and is far beyond hand-written or generated SQL.
const maxDepth = 2000

// maxNesting bounds open brackets: bison's stack (YYMAXDEPTH 10000) refuses
// deeper nesting anyway; this bounds the scan's memory.
const maxNesting = 10000

// level is the statement or one open bracket ('(', '[' or CASE) of
// depthEstimate. Counts are in levels of the parse tree (a Node and its
// message, as pg_query nests them); each stays below maxDepth+2, as the
// scan stops once a level's value exceeds maxDepth.
type level struct {
	ops    uint16 // operators in the current item
	child  uint16 // deepest bracket closed in the current item
	best   uint16 // deepest item closed at this level
	setops uint16 // UNION, INTERSECT, EXCEPT: half a level each (larg holds a SelectStmt directly)
	joins  uint16 // JOIN: a left-deep JoinExpr each
	flags  uint16
}

const (
	lvParen   uint16 = 1 << iota // opened by '('
	lvSquare                     // opened by '['
	lvCase                       // opened by CASE, closed by END
	lvCall                       // '(' after a word: a call, a type modifier or a keyword's list
	lvComma                      // a comma at this level: a list or a row constructor
	lvAnd                        // an AND (all of a level's ANDs flatten into one BoolExpr)
	lvOr                         // an OR (likewise)
	lvStmt                       // SELECT, VALUES, INSERT, UPDATE, DELETE or MERGE
	lvBetween                    // a BETWEEN waits for its AND, which separates nothing
	lvWide                       // '(' after json... or xml...: SQL/JSON and XML nodes nest 2 or 3 deep
)

// value is the depth of the level's subtree: an upper bound, as every
// operator of an item may be an ancestor of every bracket in it.
func (l *level) value() int {
	v := int(l.ops) + int(l.child)
	if int(l.best) > v {
		v = int(l.best)
	}
	v += (int(l.setops)+1)/2 + int(l.joins)
	if l.flags&lvAnd != 0 {
		v++
	}
	if l.flags&lvOr != 0 {
		v++
	}
	if l.flags&lvStmt != 0 {
		v += 3 // SubLink or RangeSubselect, SelectStmt, ResTarget
	}
	if l.flags&lvWide != 0 {
		v += 3 // JsonObjectConstructor, JsonKeyValue, JsonValueExpr; XmlExpr, ResTarget
	} else if l.flags&(lvSquare|lvCase) != 0 {
		v += 2 // A_Indirection and A_Indices; CaseExpr and CaseWhen
	} else if l.flags&lvParen != 0 && l.flags&(lvCall|lvComma) != 0 {
		v++ // FuncCall, RowExpr, a list; bare parentheses add no node
	}
	return v
}

// endItem closes the current item: items separated by commas, AND, OR,
// WHEN, THEN, ELSE or ';' are siblings, so their operators do not nest into
// one another.
func (l *level) endItem() {
	if v := l.ops + l.child; v > l.best {
		l.best = v
	}
	l.ops, l.child = 0, 0
}

// pop closes the top level into its parent and returns the parent's value.
func pop(st []level) ([]level, int) {
	v := st[len(st)-1].value()
	st = st[:len(st)-1]
	p := &st[len(st)-1]
	if v > int(p.child) {
		p.child = uint16(v)
	}
	return st, p.value()
}

// The previous token's class, for what a token means after it.
const (
	tkOther = iota // start, operator, separator, keyword operator, literal, '('
	tkWord         // identifier or other keyword: a '(' after it is a call
	tkWide         // a word starting with json or xml: a '(' after it may be an SQL/JSON or XML construct
	tkDot          // '.': a keyword after it is a field name
	tkClose        // ')', ']' or END: a '.' or '[' after it is an A_Indirection
)

// depthEstimate estimates the depth of the parse trees of text without
// parsing it, from PostgreSQL's lexical structure (strings, E'...' strings,
// dollar quotes, quoted identifiers and nested comments are skipped as the
// server's lexer skips them, for standard_conforming_strings on as
// libpg_query parses): each bracket adds its node, and within one item of a
// level every operator token (operator characters, ::, NOT, IS, LIKE,
// BETWEEN, IN, COLLATE, AT, ...) may add one. It overestimates rather than
// underestimates, and returns limit+1 as soon as the estimate exceeds
// limit. It does not allocate for texts nesting fewer than 32 brackets.
func depthEstimate(text string, limit int) int {
	var inline [32]level
	st := inline[:1]
	est := 0
	prev := tkOther
	n := len(text)
	for i := 0; i < n; {
		c := text[i]
		class := charClass[c]
		if class&chSpace != 0 {
			i++
			continue // prev unchanged
		}
		top := &st[len(st)-1]
		switch {
		case class&chIdentStart != 0:
			j := i + 1
			for j < n && charClass[text[j]]&chIdent != 0 {
				j++
			}
			if j == i+1 && (c == 'e' || c == 'E') && j < n && text[j] == '\'' {
				i = skipQuoted(text, j, '\'', true) // E'...': backslash escapes
				prev = tkOther
				continue
			}
			word := text[i:j]
			i = j
			if prev == tkDot {
				prev = tkWord // a field name, whatever its spelling
				continue
			}
			prev = tkOther
			switch keywordOf(word) {
			case kwNone:
				prev = tkWord
				if hasPrefixFold(word, "json") || hasPrefixFold(word, "xml") {
					prev = tkWide
				}
				continue
			case kwOp:
				top.ops++
			case kwOpList:
				top.ops++
				prev = tkWord // its '(' is a node: IN's List, OVER's WindowDef
			case kwBetween:
				top.ops += 2 // an A_Expr over a List of the bounds
				top.flags |= lvBetween
			case kwAnd:
				if top.flags&lvBetween != 0 {
					top.flags &^= lvBetween
					continue
				}
				top.endItem()
				top.flags |= lvAnd
			case kwOr:
				top.endItem()
				top.flags |= lvOr
			case kwSep:
				top.endItem()
			case kwSetOp:
				top.setops++
			case kwJoin:
				top.joins++
			case kwStmt:
				top.flags |= lvStmt
			case kwCase:
				if len(st) >= maxNesting {
					return limit + 1
				}
				st = append(st, level{flags: lvCase})
				continue
			case kwEnd:
				prev = tkClose
				if top.flags&lvCase == 0 || len(st) == 1 {
					continue // END of a transaction or of BEGIN ATOMIC
				}
				var v int
				if st, v = pop(st); v > limit {
					return limit + 1
				}
				continue
			}
			if top.value() > limit {
				return limit + 1
			}
		case c == '-' && i+1 < n && text[i+1] == '-':
			for i < n && text[i] != '\n' && text[i] != '\r' {
				i++
			}
			continue
		case c == '/' && i+1 < n && text[i+1] == '*':
			i = skipComment(text, i)
			continue
		case c == '\'':
			i = skipQuoted(text, i, '\'', false)
			prev = tkOther
		case c == '"':
			i = skipQuoted(text, i, '"', false)
			prev = tkWord
		case c == '$':
			i = skipDollar(text, i)
			prev = tkOther
		case c >= '0' && c <= '9' || c == '.' && i+1 < n && text[i+1] >= '0' && text[i+1] <= '9':
			i = skipNumber(text, i)
			prev = tkOther
		case c == '(' || c == '[':
			if len(st) >= maxNesting {
				return limit + 1
			}
			l := level{flags: lvSquare}
			if c == '[' && prev == tkClose {
				// (expr)[i]: an A_Indirection around the parenthesized tree.
				top.ops++
				if top.value() > limit {
					return limit + 1
				}
			}
			if c == '(' {
				l.flags = lvParen
				switch prev {
				case tkWord:
					l.flags |= lvCall
				case tkWide:
					l.flags |= lvCall | lvWide
				}
			}
			st = append(st, l)
			i++
			prev = tkOther
		case c == ')' || c == ']':
			i++
			prev = tkClose
			if len(st) > 1 {
				var v int
				if st, v = pop(st); v > limit {
					return limit + 1
				}
			}
		case c == ',':
			i++
			prev = tkOther
			top.endItem()
			top.flags |= lvComma
		case c == ';':
			i++
			prev = tkOther
			if len(st) > 1 {
				top.endItem() // CREATE RULE ... DO (stmt; stmt)
			} else {
				// The next statement is a tree of its own.
				if v := top.value(); v > est {
					est = v
				}
				*top = level{}
			}
		case c == ':':
			i++
			prev = tkOther
			if i < n && text[i] == ':' {
				i++
				top.ops++ // a TypeCast
				if top.value() > limit {
					return limit + 1
				}
			}
			// A lone ':' is an array slice or a JSON key: no node.
		case c == '.':
			i++
			if prev == tkClose {
				// (expr).field: an A_Indirection around the parenthesized tree.
				top.ops++
				if top.value() > limit {
					return limit + 1
				}
			}
			prev = tkDot
		case class&chOp != 0:
			var k int
			i, k = scanOperator(text, i)
			top.ops += uint16(min(k, limit+1))
			prev = tkOther
			if top.value() > limit {
				return limit + 1
			}
		default:
			i++
			prev = tkOther
		}
	}
	for len(st) > 1 {
		var v int
		if st, v = pop(st); v > limit {
			return limit + 1
		}
	}
	return max(est, st[0].value())
}

// Keyword classes for depthEstimate.
const (
	kwNone    = iota
	kwOp      // an operator that may add a node above its operands
	kwOpList  // IN, OVER: an operator whose parenthesized operand is a node
	kwBetween // BETWEEN: an operator whose AND separates nothing
	kwAnd
	kwOr
	kwSep // WHEN, THEN, ELSE
	kwSetOp
	kwJoin
	kwStmt
	kwCase
	kwEnd
)

// keywords lists the words depthEstimate acts on, by length and initial.
var keywords = func() (t [10][26][]struct {
	word  string
	class int
}) {
	for class, words := range map[int][]string{
		kwOp: {"not", "is", "isnull", "notnull", "like", "ilike", "similar", "collate", "at", "overlaps", "escape",
			"operator", "by"}, // BY: a SortBy or a list
		kwOpList:  {"in", "over"},
		kwBetween: {"between"},
		kwAnd:     {"and"},
		kwOr:      {"or"},
		kwSep:     {"when", "then", "else"},
		kwSetOp:   {"union", "intersect", "except"},
		kwJoin:    {"join"},
		kwStmt:    {"select", "values", "insert", "update", "delete", "merge"},
		kwCase:    {"case"},
		kwEnd:     {"end"},
	} {
		for _, w := range words {
			e := &t[len(w)][w[0]-'a']
			*e = append(*e, struct {
				word  string
				class int
			}{w, class})
		}
	}
	return t
}()

// keywordOf classifies a word, ignoring case.
func keywordOf(w string) int {
	if len(w) < 2 || len(w) >= len(keywords) {
		return kwNone
	}
	c := w[0] | 0x20 // folds only ASCII letters onto a-z
	if c < 'a' || c > 'z' {
		return kwNone
	}
	for _, e := range keywords[len(w)][c-'a'] {
		if hasPrefixFold(w, e.word) {
			return e.class
		}
	}
	return kwNone
}

// hasPrefixFold reports whether w starts with the lower-case ASCII prefix,
// ignoring case.
func hasPrefixFold(w, prefix string) bool {
	if len(w) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		if w[i]|0x20 != prefix[i] {
			return false
		}
	}
	return true
}

// Character classes of the server's lexer.
const (
	chSpace      = 1 << iota
	chIdentStart // letters, '_' and the bytes of multibyte characters
	chIdent      // chIdentStart, digits and '$'
	chOp         // operator characters
)

var charClass = func() (t [256]uint8) {
	for c := range 256 {
		switch {
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c >= 0x80:
			t[c] = chIdentStart | chIdent
		case c >= '0' && c <= '9' || c == '$':
			t[c] = chIdent
		case strings.IndexByte(" \t\n\r\f\v", byte(c)) >= 0:
			t[c] = chSpace
		case strings.IndexByte("~!@#^&|`?+-*/%<>=", byte(c)) >= 0:
			t[c] = chOp
		}
	}
	return t
}()

// scanOperator reads the run of operator characters at i and returns its
// end and the number of operator tokens the server's lexer makes of it: the
// run stops at a comment, and unless it holds one of ~!@#^&|`?% a
// multi-character operator cannot end in + or -, so "=-" is two tokens and
// "-+-" three (each one a prefix operator node).
func scanOperator(text string, i int) (end, tokens int) {
	start := i
	special := false
	for i < len(text) && charClass[text[i]]&chOp != 0 {
		c := text[i]
		if i > start && (c == '-' && text[i-1] == '-' || c == '*' && text[i-1] == '/') {
			i-- // a comment starts inside the run
			break
		}
		switch c {
		case '~', '!', '@', '#', '^', '&', '|', '`', '?', '%':
			special = true
		}
		i++
	}
	if i == start {
		return start + 1, 1 // unreachable: the caller saw an operator character
	}
	last := text[i-1]
	if i-start == 1 || special || last != '+' && last != '-' {
		return i, 1
	}
	trailing := 0
	for j := i - 1; j >= start && (text[j] == '+' || text[j] == '-'); j-- {
		trailing++
	}
	if trailing == i-start {
		return i, trailing // all + and -: one token each
	}
	return i, 1 + trailing
}

// skipComment returns the end of the nested /* */ comment at i.
func skipComment(text string, i int) int {
	depth := 0
	for i < len(text) {
		switch {
		case text[i] == '/' && i+1 < len(text) && text[i+1] == '*':
			depth++
			i += 2
		case text[i] == '*' && i+1 < len(text) && text[i+1] == '/':
			depth--
			i += 2
			if depth == 0 {
				return i
			}
		default:
			i++
		}
	}
	return i
}

// skipQuoted returns the end of the string or quoted identifier opening
// with q at i: a doubled q stands for itself, and with backslashes (E'...'
// strings) a backslash escapes the next byte.
func skipQuoted(text string, i int, q byte, backslashes bool) int {
	for i++; i < len(text); i++ {
		switch text[i] {
		case '\\':
			if backslashes {
				i++
			}
		case q:
			if i+1 < len(text) && text[i+1] == q {
				i++
				continue
			}
			return i + 1
		}
	}
	return i
}

// skipDollar returns the end of the $n parameter or $tag$ dollar-quoted
// string at i (i+1 for a lone '$', which does not lex).
func skipDollar(text string, i int) int {
	j := i + 1
	if j < len(text) && text[j] >= '0' && text[j] <= '9' {
		for j < len(text) && text[j] >= '0' && text[j] <= '9' {
			j++
		}
		return j
	}
	for j < len(text) && (charClass[text[j]]&chIdentStart != 0 || j > i+1 && text[j] >= '0' && text[j] <= '9') {
		j++
	}
	if j >= len(text) || text[j] != '$' {
		return i + 1
	}
	delim := text[i : j+1]
	k := strings.Index(text[j+1:], delim)
	if k < 0 {
		return len(text)
	}
	return j + 1 + k + len(delim)
}

// skipNumber returns the end of the numeric literal at i. Only a decimal
// exponent takes a sign ("1e-5"); "0xE-1" is a subtraction.
func skipNumber(text string, i int) int {
	n := len(text)
	radix := i+1 < n && text[i] == '0' && strings.IndexByte("xXoObB", text[i+1]) >= 0
	if !radix {
		for i < n && (text[i] >= '0' && text[i] <= '9' || text[i] == '_' || text[i] == '.') {
			i++
		}
		if i < n && (text[i] == 'e' || text[i] == 'E') {
			j := i + 1
			if j < n && (text[j] == '+' || text[j] == '-') {
				j++
			}
			if j < n && text[j] >= '0' && text[j] <= '9' {
				i = j
			}
		}
	}
	// Digits, radix digits, and junk the server's lexer refuses.
	for i < n && (charClass[text[i]]&chIdent != 0 && text[i] != '$' || text[i] == '.') {
		i++
	}
	return i
}
