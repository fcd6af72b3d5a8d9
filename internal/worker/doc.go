// Package worker does the queued items of runs spread over many machines:
// it takes them from a shared store's queue (package pgstore), rebuilds
// each item's work from the item alone (a judge item carries its texts,
// metric, repeat, protocol and judge model) and runs it against the model
// server of its own settings, whose address and API key never enter the
// store or the queue. `emer worker` is this package on the command line;
// `emer eval --store postgres://...` runs one beside its waiting.
package worker
