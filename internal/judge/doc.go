// Package judge scores predicted emotion reasoning against ground truth with
// an LLM judge, as the EMER papers do. Two protocols exist: "paper"
// (English, two-step clue and emotion overlap 0-10, modality completeness
// 0-3) and "release" (Chinese, the released scorer's prompts byte for byte,
// 1-10). Prompts are template files under prompts/.
//
// A judge reply becomes a score only when it holds exactly one valid
// number: anything else is a typed failure (parse_error, out_of_range,
// request_error, refused) that keeps the raw reply. Scores are never
// clamped and never defaulted.
package judge
