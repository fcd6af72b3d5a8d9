// Package report turns the results of an EMER evaluation into one
// self-contained HTML page: leaderboards shaped like the EMER paper's
// tables (the LLM judge's clue, emotion and modality scores per system,
// the human score of a rating study with its bootstrap interval, the
// grounded-claim rate of a cue-grounding check), a bar chart per metric, a
// scatter of judge scores against human means with their rank
// correlations, the raters' agreement (Krippendorff's α, Fleiss' κ), and,
// for chosen clips, frames, subtitle, ground truth and every system's
// reasoning side by side.
//
// Build computes the report from an Input, data already read (commands
// read eval folders, study databases, check files and media); WriteHTML
// renders it. The page fetches nothing: its styles are inline, its plots
// inline SVG drawn with gonum.org/v1/plot, its frames data: URIs, and a
// Content-Security-Policy forbids any other source. Every text from the
// inputs is HTML-escaped. The same Input gives the same bytes: systems,
// clips and points are sorted, the bootstrap is seeded, and the page holds
// a time only when Input.Generated is set.
package report
