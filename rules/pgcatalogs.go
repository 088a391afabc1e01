package rules

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/dbfence/dbfence/rules/catalog"
)

// pgLoadTimeout bounds a synchronous first load of a database's catalog.
const pgLoadTimeout = 10 * time.Second

// pgRetryAfter is how long a failed first load is remembered before a
// session's statement triggers another attempt.
const pgRetryAfter = 5 * time.Second

// pgCatalogs holds one catalog snapshot per PostgreSQL database (OIDs and
// schemas are per database). A database's snapshot is loaded when a
// restricted session first needs it, then refreshed with the MySQL
// catalog (after DDL seen by the proxy, and periodically). Safe for
// concurrent use.
type pgCatalogs struct {
	mu     sync.Mutex
	load   catalog.PostgresLoader
	dbs    map[string]*pgCatalog
	logger *zap.Logger
	// stale is set by MarkCatalogStale and cleared by a refresh.
	stale atomic.Bool
}

// pgCatalog is one database's current snapshot.
type pgCatalog struct {
	mu       sync.Mutex // serialises loads of this database
	cat      *catalog.Catalog
	failedAt time.Time
}

// SetPostgresCatalogLoader sets how PostgreSQL databases' catalogs are
// loaded (catalog.PostgresCatalogLoader). Without one every PostgreSQL
// catalog is empty: restricted roles are refused what it would resolve.
func (e *Engine) SetPostgresCatalogLoader(l catalog.PostgresLoader) {
	e.pg.mu.Lock()
	defer e.pg.mu.Unlock()
	e.pg.load, e.pg.logger = l, e.log
	e.pg.dbs = map[string]*pgCatalog{}
}

// PostgresCatalog returns the snapshot of database, loading it on first use
// (nil when no loader is set or the load failed; the failure is logged and
// retried after a few seconds).
func (e *Engine) PostgresCatalog(database string) *catalog.Catalog {
	return e.pg.get(database)
}

func (p *pgCatalogs) get(database string) *catalog.Catalog {
	p.mu.Lock()
	if p.load == nil {
		p.mu.Unlock()
		return nil
	}
	c := p.dbs[database]
	if c == nil {
		c = &pgCatalog{}
		p.dbs[database] = c
	}
	load := p.load
	p.mu.Unlock()

	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cat != nil || time.Since(c.failedAt) < pgRetryAfter {
		return c.cat
	}
	ctx, cancel := context.WithTimeout(context.Background(), pgLoadTimeout)
	defer cancel()
	cat, err := load(ctx, database)
	if err != nil {
		c.failedAt = time.Now()
		p.logger.Warn("postgres catalog not loaded; restricted roles are refused what it would resolve",
			zap.String("database", database), zap.Error(err))
		return nil
	}
	c.cat = cat
	p.logger.Info("postgres catalog loaded", zap.String("database", database), zap.Int("relations", len(cat.Tables())))
	return cat
}

// refresh reloads every database loaded so far; on error a database keeps
// its previous snapshot. It returns the first error.
func (p *pgCatalogs) refresh(ctx context.Context) error {
	p.stale.Store(false)
	p.mu.Lock()
	load := p.load
	dbs := make(map[string]*pgCatalog, len(p.dbs))
	for name, c := range p.dbs {
		dbs[name] = c
	}
	p.mu.Unlock()
	if load == nil {
		return nil
	}
	var first error
	for name, c := range dbs {
		cat, err := load(ctx, name)
		if err != nil {
			if first == nil {
				first = err
			}
			continue
		}
		c.mu.Lock()
		c.cat = cat
		c.mu.Unlock()
	}
	return first
}

// PostgresCatalogsStale reports whether DDL was seen since the last refresh.
func (e *Engine) PostgresCatalogsStale() bool { return e.pg.stale.Load() }

// RefreshPostgresCatalogs reloads the catalogs of the PostgreSQL databases
// used so far (after DDL, and periodically).
func (e *Engine) RefreshPostgresCatalogs(ctx context.Context) error { return e.pg.refresh(ctx) }
