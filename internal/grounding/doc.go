// Package grounding checks the claims of an EMER description against a
// clip's measured cues: whatever wrote the description (an annotator, a
// summarizing model, a baseline's prediction), each thing it says about
// the face, the voice or the words is supported, contradicted or left
// unverifiable by what was measured, with the evidence.
//
// Split cuts a description, English or Chinese, into claims (sentences,
// then clauses). Each claim is matched against the rules of rules.go, the
// one place where every phrase (English and Chinese), its measured test
// and its thresholds are stated: "smiled" is tested against the main
// face's expression timeline and facial actions, "spoke loudly" against
// the voice's loudness relative to the speaker's own level and the
// recording level, "background music" against the sustained tones of the
// sound (Scene, scene.go), a quoted phrase against the subtitle, and so
// on. A negated phrase ("did not smile", "没有微笑") reverses the verdict.
// A claim no rule matches is given its aspect by keywords: visual, audio,
// content, or context (the scene, the story, the people), or inference
// (the emotion the description concludes); such claims are unverifiable,
// as are all claims when nothing was measured.
//
// The grounded-claim rate of a set of claims is supported / (supported +
// contradicted): the share of the claims the measurements could decide
// that they bear out. It is undefined (nil) when none could be decided;
// the share of claims decided at all is (supported + contradicted) /
// claims.
package grounding
