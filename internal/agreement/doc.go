// Package agreement measures how far raters, and an LLM judge, agree on the
// ratings of EMER explanations, and how sure a system's mean rating is:
//
//   - KrippendorffAlpha: Krippendorff's α for nominal, ordinal and interval
//     data, with missing ratings, overall and per clip;
//   - FleissKappa: Fleiss' κ for complete designs (every clip rated by the
//     same number of raters), with Tally to count ratings into categories;
//   - Spearman and KendallTauB: rank correlations between two paired
//     series (LLM-judge scores against human means), ties included;
//   - SystemMean: a system's mean rating with a seeded percentile-bootstrap
//     interval that resamples clips.
//
// The data are plain numbers, one slice of ratings per clip ("unit" in
// Krippendorff's terms, "subject" in Fleiss'); NaN marks a missing rating,
// so a clips × raters matrix with holes and a ragged list of each clip's
// ratings are both accepted. Infinite ratings are errors. A statistic that
// the data leave undefined (no variation, too few ratings) is an error
// wrapping ErrUndefined, never a made-up number.
//
// The package does no I/O; commands read the ratings and print the results.
package agreement
