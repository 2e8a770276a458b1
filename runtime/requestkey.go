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
	// The fields are framed into one buffer (on the stack for usual
	// prompts) and hashed at once: sha256.New, the closures' []byte
	// conversions, Sum and the hex string were five allocations a call.
	// The framing is byte for byte what earlier versions hashed, so stored
	// keys stay valid.
	var stack [1024]byte
	b := stack[:0]
	b = keyStr(b, "", req.Model)
	b = keyStr(b, "", req.System)
	b = keyStr(b, "", req.Prompt)
	if req.CacheID != "" {
		b = keyStr(b, "id:", req.CacheID)
	} else {
		b = keyStr(b, "name:", req.CachedContent)
	}
	switch {
	case req.SchemaID != "":
		b = keyStr(b, "schema-id:", req.SchemaID)
	case req.Schema != nil:
		j, _ := json.Marshal(req.Schema) // sorted keys: canonical
		b = keyStr(b, "schema:", string(j))
	default:
		b = keyStr(b, "", "")
	}
	b = keyFloat(b, req.Temperature)
	b = keyFloat(b, req.TopP)
	b = keyInt(b, req.TopK)
	b = keyInt(b, req.ThinkingBudget)
	// The output cap is not part of the key: a reply that ended normally
	// is the same under any cap (outcap.go), and a reply cut at its cap is
	// never answered from the store. The constant keeps the framing, and
	// so the keys of stores written when the cap was a fixed 8,192.
	b = keyNum(b, true, defaultMaxOutput)
	sum := sha256.Sum256(b)
	var out [2 * sha256.Size]byte
	hex.Encode(out[:], sum[:])
	return string(out[:])
}

// keyStr frames prefix+s as its length then its bytes.
func keyStr(b []byte, prefix, s string) []byte {
	b = binary.LittleEndian.AppendUint64(b, uint64(len(prefix)+len(s)))
	return append(append(b, prefix...), s...)
}

func keyNum(b []byte, present bool, v uint64) []byte {
	if !present {
		return append(b, 0)
	}
	return binary.LittleEndian.AppendUint64(append(b, 1), v)
}

func keyFloat(b []byte, p *float64) []byte {
	if p == nil {
		return keyNum(b, false, 0)
	}
	return keyNum(b, true, math.Float64bits(*p))
}

func keyInt(b []byte, p *int) []byte {
	if p == nil {
		return keyNum(b, false, 0)
	}
	return keyNum(b, true, uint64(*p))
}
