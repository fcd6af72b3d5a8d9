// Package reply checks what a chat model answered before anyone reads it.
// A reply the server marks as a refusal, a reply cut at the token limit
// (finish_reason "length"), an empty reply and one that opens by declining
// are failures of their own kind; so is a reply a caller cannot parse.
// Every Failure keeps the raw text as received and says why, in words, it
// was not used: no caller reads a score, a label or a summary out of an
// unusable reply, and none loses what the model said.
package reply
