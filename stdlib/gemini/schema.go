package gemini

import (
	"encoding/json"
	"fmt"
	"strings"

	"google.golang.org/genai"
)

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
