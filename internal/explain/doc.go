// Package explain turns a clip's measured cues into an EMER explanation:
// the person's emotions, ranked, the clues that support them (visual,
// audio, content, context), each with the time range and the measured
// values it rests on, and a reasoning paragraph in the EMER form ("In the
// video, ... Therefore, it is inferred that his emotional state is ...").
//
// Two backends write it. Local needs no server: it fuses the main face's
// expression timeline and facial actions, the voice's prosody (and, when
// one is plugged in, a voice-emotion classifier) and the subtitle's
// emotion words by the rules of rules.go and actions.go, where every
// threshold, phrase and weight is stated. LLM asks a chat model over
// llm.Client, as the EMER and AffectGPT papers do: end to end on sampled
// frames, audio and subtitle (prompts emer, affectgpt2023,
// affectgpt2025), through a caption of the frames first (the paper's
// VideoChat-Text), or with Local's measured cues added to the prompt;
// then it extracts open-vocabulary labels with the AffectGPT 2025
// prompt. Prompts are template files under prompts/.
//
// Neither backend claims a channel it did not measure or send: a clip
// without audio has no voice clue and no "audio" modality, and a missing
// channel is said in Warnings. A model reply that cannot be used (empty,
// refused, cut at the token limit) is a typed failure that keeps the raw
// text (see package reply).
package explain
