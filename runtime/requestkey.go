package runtime

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
)

// RequestKey is the response cache's key: a hash of the model and everything
// in the request that can change the reply. Item, step and timeout do not,
// so two items with the same request share one cached reply.
func RequestKey(req *Request) string {
	// encoding/json sorts map keys, so the schema hashes canonically.
	b, _ := json.Marshal(struct {
		Model, System, Prompt, Cached string
		Schema                        map[string]any
		Temperature, TopP             *float64
		TopK, Thinking                *int
		MaxOut                        int
	}{req.Model, req.System, req.Prompt, req.CacheID, req.Schema,
		req.Temperature, req.TopP, req.TopK, req.ThinkingBudget, req.MaxOutputTokens})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
