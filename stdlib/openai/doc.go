// Package openai is llmpipe's provider for servers that speak the OpenAI
// chat-completions protocol: OpenAI itself and most vendors, and the local
// and self-hosted servers (vLLM, Ollama, llama.cpp's server, SGLang) that a
// ladder can start on before it climbs to Gemini.
//
// It is a runtime.Provider like stdlib/gemini: the runtime's ladder, checks,
// feedback, pacing, budget and store treat its replies the same. Requests go
// through the official Go SDK (github.com/openai/openai-go) with its own
// retries off, since llmpipe retries and paces itself. A step's schema is
// sent as a strict response_format JSON schema (every field required, an
// optional field as a nullable type); for servers without structured output
// (json_schema = false in the model block) the schema is described in a
// JSON-only instruction and the reply goes through the same parser.
// Usage, cached prompt tokens and 429s (retry-after, retry-after-ms and
// x-ratelimit-reset-* headers) are read from the reply.
package openai
