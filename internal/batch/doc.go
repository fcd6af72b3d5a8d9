// Package batch runs many independent items of work, as `emer eval` judges
// samples and `emer infer` explains clips: it plans what is left to do from
// a ledger of finished items, runs the rest on a bounded pool of workers,
// records each outcome as it finishes, keeps a JSONL journal of the
// outcomes that a crash can tear but never lose, and reports progress.
//
// The ledger is a small interface (Ledger) keyed by run, item kind and item
// key, with the kind's own payload as opaque bytes, so that the same engine
// runs on the embedded SQLite store or on a database shared by many
// machines without the commands knowing which. A stored outcome stands only
// for the input it was computed from (Record.Input, a digest): an item
// whose input changed is done again. Outcomes of class Retry (no result:
// the model server did not answer, say) are recorded and reported but done
// again on the next run.
package batch
