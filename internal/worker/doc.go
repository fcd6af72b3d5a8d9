// Package worker does the queued items of runs spread over many machines:
// it takes them from a shared store's queue (package pgstore), rebuilds
// each item's work from the item alone (a judge item carries its texts,
// metric, repeat, protocol and judge model; an infer item its clip's name,
// subtitle, media path and the run's settings; a summarize item its
// clip's clues, model, language and the digest of the prompts) and runs
// it against the model server of its own settings, whose address and API
// key never enter the store or the queue. Each kind lives in a file of
// its own and registers itself. `emer worker` is this package on the
// command line; `emer eval`, `emer infer --dataset` and `emer build
// summarize` with `--store postgres://...` run one beside their waiting.
package worker
