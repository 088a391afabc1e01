package rules

import (
	"container/list"
	"strconv"
	"sync"

	"github.com/dbfence/dbfence/fault"
	"github.com/dbfence/dbfence/rules/mysqlsql"
)

// cacheEntry is the decision on every statement of one normalized text.
type cacheEntry struct {
	statements []StatementVerdict
	refusal    *fault.Error
	// cacheable is false when the analysis depended on literal values.
	cacheable bool
}

// verdict builds the Verdict for a text this entry decides. forward encodes
// the resolved text for the wire; it is only called when nothing is refused.
func (c *cacheEntry) verdict(forward func() (string, *fault.Error)) *Verdict {
	if c.refusal != nil {
		return &Verdict{Statements: c.statements, Refusal: c.refusal}
	}
	text, err := forward()
	if err != nil {
		return &Verdict{Statements: c.statements, Refusal: err}
	}
	return &Verdict{Forward: text, Statements: c.statements}
}

// size estimates the bytes an entry holds, for the cache bound.
func (c *cacheEntry) size(key string) int {
	n := len(key) + 128
	for i := range c.statements {
		n += 160 + len(c.statements[i].Normalized) + len(c.statements[i].Reason) + 64*len(c.statements[i].Columns)
	}
	return n
}

// cacheKey is the decision cache key: the normalized text (literals
// replaced) with the kind of each literal, the current database, the lexing
// modes, the role and the policy version. The catalog snapshot is not in the
// key: each snapshot has its own cache.
func cacheKey(resolved string, mode mysqlsql.Mode, db, role, version string) string {
	buf := make([]byte, 0, len(resolved)+len(db)+len(role)+len(version)+24)
	buf = mysqlsql.AppendShape(buf, resolved, mode)
	buf = append(buf, 0)
	buf = append(buf, db...)
	buf = append(buf, 0)
	buf = strconv.AppendUint(buf, uint64(mode), 10)
	buf = append(buf, 0)
	buf = append(buf, role...)
	buf = append(buf, 0)
	buf = append(buf, version...)
	return string(buf)
}

// decisionCache is an LRU of decisions bounded by an estimate of bytes.
type decisionCache struct {
	mu       sync.Mutex
	maxBytes int
	bytes    int
	order    *list.List // front = most recently used; values are *cacheItem
	items    map[string]*list.Element
}

type cacheItem struct {
	key   string
	entry *cacheEntry
	size  int
}

func newDecisionCache(maxBytes int) *decisionCache {
	return &decisionCache{maxBytes: maxBytes, order: list.New(), items: map[string]*list.Element{}}
}

func (c *decisionCache) get(key string) *cacheEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		return nil
	}
	c.order.MoveToFront(el)
	return el.Value.(*cacheItem).entry
}

func (c *decisionCache) put(key string, e *cacheEntry) {
	size := e.size(key)
	if size > c.maxBytes/8 { // one huge text must not flush the cache
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.order.MoveToFront(el)
		return
	}
	c.items[key] = c.order.PushFront(&cacheItem{key: key, entry: e, size: size})
	c.bytes += size
	for c.bytes > c.maxBytes {
		last := c.order.Back()
		it := last.Value.(*cacheItem)
		c.order.Remove(last)
		delete(c.items, it.key)
		c.bytes -= it.size
	}
}

// len returns the number of entries (for tests).
func (c *decisionCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.items)
}
