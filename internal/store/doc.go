// Package store is emer's embedded database: one SQLite file (through the
// pure-Go modernc.org/sqlite driver, in WAL mode) with versioned
// migrations. It holds the model-reply cache and the judge results of a
// run, so that a run killed at any point resumes without redoing finished
// work.
package store
