// Package metric holds the deterministic scores of emotion recognition
// evaluation: set precision and recall averaged over samples, the
// MER-UniBench hit rate, weighted F1 and accuracy. It computes means the
// way NumPy does (pairwise summation), so that results equal the
// published figures to the last digit.
package metric
