// Package llm talks to chat models: one small Client interface for a chat
// call with text, image and audio parts, an implementation over the
// OpenAI-compatible chat-completions API (vLLM, llama.cpp's server, Ollama,
// LM Studio, hosted APIs), and decorators that wrap any Client with one
// concern each: Retry, Breaker (stop calling a server that cannot be
// reached), Limit (concurrency and rate), Cache, Recorder and DryRun.
//
// NewStack builds the stack every command uses, outermost first:
//
//	Recorder → Cache → Retry → Breaker → Limit → OpenAI
//
// so that cache hits cost nothing, every attempt waits for a free slot, a
// server that is down ends the run's calls at once instead of each being
// retried, and the recorder sees each logical call once with its attempts
// and latency.
//
// Base URLs are compared in the form NormalizeBaseURL gives them, and no
// reply is read past OpenAIConfig.MaxReplyBytes.
package llm
