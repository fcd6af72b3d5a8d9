// Package summarize turns annotators' clues into EMER descriptions with a
// chat model, as the EMER dataset was built: per clip, the clue
// paragraphs of its annotators are summarized into one (clue
// summarization), the emotion is inferred from that summary (few-shot
// emotion summarization), both are joined into one description by the
// EMER-V1 template (no model call), and the open-vocabulary labels are
// extracted from it with AffectGPT 2025's prompt.
//
// Every reply is checked: one that is empty, refused, cut at the token
// limit, an emotion with no word the emotion lexicon knows, or labels
// that cannot be read marks the clip for review with the reason, and is
// never kept as if it were usable. Run does the clips of a dataset on the
// batch engine, resumably, and puts every draft into review (package
// dataset's ReviewStore); Distribute does the same through a shared
// store's queue, each clip an Item that a worker summarizes alone.
//
// The prompts are embedded templates (prompts/*.tmpl) in English, the
// paper's wording, and in Chinese, the language of EMER's released
// annotations.
package summarize
