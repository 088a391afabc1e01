// Package catalog owns dbfence's picture of the backend's schema: databases,
// tables, their columns in order, and views with their definitions. The
// analysers use it to expand `*`, `t.*`, NATURAL JOIN and USING, to resolve
// unqualified names, and to follow views to their base columns.
//
// A Catalog is an immutable snapshot, safe for concurrent use; refreshing
// builds a new snapshot (LoadMySQL) that the engine swaps in atomically. A
// snapshot can be built in memory (New) for tests and offline tools.
package catalog
