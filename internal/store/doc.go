// Package store is emer's embedded database: one SQLite file (through the
// pure-Go modernc.org/sqlite driver, in WAL mode) with versioned
// migrations. It holds the model-reply cache, the meta entries of a run,
// and the records of the batch engine (a batch.Ledger: emer eval's judge
// results, emer infer's explanations), so that a run killed at any point
// resumes without redoing finished work. OpenReadOnly reads a database
// without writing anything, for dry runs and for folders that cannot be
// written; LockDir keeps a folder to one process at a time.
package store
