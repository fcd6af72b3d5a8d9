// Package pgstore is emer's shared database: PostgreSQL, for one logical
// run spread over many machines. It holds what the embedded SQLite store
// (package store) holds for one machine, the batch engine's records (a
// batch.Ledger), the model-reply cache and the meta entries of each run,
// and it is the run's work queue (a batch.Queue): the items still to do
// are River jobs (github.com/riverqueue/river), one River queue per item
// kind, taken by `emer worker` processes anywhere that can reach the
// database. Schema migrations, River's and emer's own, run on Open and
// are versioned.
//
// It also keeps the rating studies of `emer serve` (a study.Store shared
// by any number of emer serve processes, whose writes run one at a time
// under an advisory lock) and, per run (a scope), the review state and
// the annotation records of `emer build summarize`.
//
// A worker holds an item from the moment River hands it over until its
// record is stored. Each worker renews a lease in the emer_workers table;
// the items of a worker whose lease ran out (it was killed, or lost its
// machine) are made available again by whichever process notices first,
// so that another worker takes them up. Operations that fail because the
// database cannot be reached (a lost connection, a restart) are tried
// again with backoff, not reported as failures.
//
// API keys and model-server settings never enter the database: a queued
// item holds what its kind's work needs to be redone from the item alone
// (a judge item's texts, metric, repeat, protocol and judge model; an
// infer item's clip, media path and settings; a summarize item's clues,
// model and prompts' digest), and each worker brings its own server.
package pgstore
