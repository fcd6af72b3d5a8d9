// Package study runs blind human rating studies of emotion reasoning, as
// the EMER paper's human evaluation does: for each clip, several raters
// (five by default) judge every candidate reasoning (the ground truth and
// each system's prediction, shuffled so that nobody can tell which is
// which) on four levels, 1 completely wrong to 4 completely correct.
//
// A Study holds clips and their candidates; raters are invited by secret
// tokens of which only a hash is kept. Service hands each rater the
// least-rated clip they have not rated yet, holding it for them for a
// while so that no clip gets more ratings than its target, and records a
// rater's scores with the order the candidates were shown in. The order is
// drawn per rater and clip by a keyed hash of the study's secret, so it is
// the same on every visit and unpredictable without the secret.
//
// What a rater is shown (Task) carries texts and positions only: which
// system wrote a text never leaves the Service on a rater's path. Storage
// is a Store of transactions (the SQLite one is in internal/store;
// studytest has an in-memory one).
package study
