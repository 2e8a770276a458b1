package gemini

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"google.golang.org/genai"
)

// schemaCache keeps converted schemas by the runtime's SchemaID: a run sends
// one schema per step thousands of times, and the JSON round trip of toSchema
// was about 5 % of a call's CPU. The SDK only reads a config's schema (it
// marshals the config to a map), so one *genai.Schema serves every call.
// The direct generateContent path goes one step further and keeps the
// schema's JSON (enc), so a call only copies bytes.
type schemaCache struct {
	mu  sync.RWMutex
	m   map[string]*genai.Schema
	enc map[string]json.RawMessage
}

// maxCachedSchemas bounds the cache against a caller that makes up ids.
const maxCachedSchemas = 1024

// get converts m, or returns the conversion made for id before. An empty id
// is never cached.
func (c *schemaCache) get(id string, m map[string]any) (*genai.Schema, error) {
	if id == "" {
		return toSchema(m)
	}
	c.mu.RLock()
	s, ok := c.m[id]
	c.mu.RUnlock()
	if ok {
		return s, nil
	}
	s, err := toSchema(m)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]*genai.Schema{}
	}
	if len(c.m) < maxCachedSchemas {
		c.m[id] = s
	}
	return s, nil
}

// toSchema converts a responseSchema map (OpenAPI subset, as interp emits
// it) into the SDK's type by a JSON round trip, so every field the SDK knows
// is carried without a hand-written mapping to keep in step.
func toSchema(m map[string]any) (*genai.Schema, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encoding response schema: %w", err)
	}
	var s genai.Schema
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("converting response schema: %w", err)
	}
	upperTypes(&s)
	return &s, nil
}

// upperTypes normalises "object" to "OBJECT" and so on: the API's Type enum
// is upper-case and rejects JSON Schema's lower-case spelling.
func upperTypes(s *genai.Schema) {
	if s == nil {
		return
	}
	s.Type = genai.Type(strings.ToUpper(string(s.Type)))
	upperTypes(s.Items)
	for _, p := range s.Properties {
		upperTypes(p)
	}
	for _, a := range s.AnyOf {
		upperTypes(a)
	}
}
