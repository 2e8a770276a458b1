package sim

import (
	"encoding/json"
)

// attemptHash keys a reply's content and its wrongness draw: the seed, the
// model, the item and what the request asks (contents with their roles,
// the system instruction and the response schema). It is not a hash of the
// raw body: an inner request of a batch job and the same request sent
// online differ in bytes (field order, whitespace, snake_case names) but
// are the same attempt and must get the same answer. A retry with feedback
// changes the prompt, so it is a new attempt and draws afresh; a retry of
// the same attempt after a fault gets the same answer.
func (s *Server) attemptHash(c *call) hasher {
	h := s.seed.str(c.model).str(c.item)
	for i := range c.req.Contents {
		h = hashContent(h.str("c"), &c.req.Contents[i])
	}
	if si := c.req.SystemInstruction; si != nil {
		h = hashContent(h.str("s"), si)
	}
	if c.sc != nil {
		h = h.u64(c.sc.canon)
	}
	return h
}

func hashContent(h hasher, c *content) hasher {
	h = h.str(c.Role)
	for _, p := range c.Parts {
		h = h.str(p.Text)
	}
	return h
}

// canonHash hashes a schema's JSON after a round trip through
// encoding/json, which sorts object keys and drops whitespace, so that two
// spellings of one schema hash alike. It runs once per distinct schema.
func canonHash(raw json.RawMessage, jsonSchema bool) uint64 {
	h := newHasher(0)
	if jsonSchema {
		h = h.str("json")
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return h.bytes(raw).sum()
	}
	b, err := json.Marshal(v)
	if err != nil {
		return h.bytes(raw).sum()
	}
	return h.bytes(b).sum()
}
