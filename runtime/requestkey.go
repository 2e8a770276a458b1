package runtime

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"math"
)

// RequestKey is the response cache's key: a hash of the model and everything
// in the request that can change the reply. Item, Step and Timeout do not,
// and neither does a cache's name when its CacheID (content) is known, so a
// re-created context cache keeps its cached replies.
//
// It runs once per attempt, so it hashes fields directly instead of encoding
// the request, and uses SchemaID for the schema when the caller has one.
func RequestKey(req *Request) string {
	h := sha256.New()
	var buf [8]byte
	str := func(s string) {
		binary.LittleEndian.PutUint64(buf[:], uint64(len(s)))
		h.Write(buf[:])
		h.Write([]byte(s))
	}
	num := func(present bool, v uint64) {
		if !present {
			h.Write([]byte{0})
			return
		}
		h.Write([]byte{1})
		binary.LittleEndian.PutUint64(buf[:], v)
		h.Write(buf[:])
	}
	str(req.Model)
	str(req.System)
	str(req.Prompt)
	if req.CacheID != "" {
		str("id:" + req.CacheID)
	} else {
		str("name:" + req.CachedContent)
	}
	switch {
	case req.SchemaID != "":
		str("schema-id:" + req.SchemaID)
	case req.Schema != nil:
		b, _ := json.Marshal(req.Schema) // sorted keys: canonical
		str("schema:" + string(b))
	default:
		str("")
	}
	fl := func(p *float64) {
		if p == nil {
			num(false, 0)
		} else {
			num(true, math.Float64bits(*p))
		}
	}
	in := func(p *int) {
		if p == nil {
			num(false, 0)
		} else {
			num(true, uint64(*p))
		}
	}
	fl(req.Temperature)
	fl(req.TopP)
	in(req.TopK)
	in(req.ThinkingBudget)
	num(true, uint64(req.MaxOutputTokens))
	return hex.EncodeToString(h.Sum(nil))
}
