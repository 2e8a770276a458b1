package interp

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	"github.com/expr-lang/expr/types"
)

// GeminiSchema returns the Gemini responseSchema (OpenAPI subset with
// upper-case types) for the schema. It is built once and shared by every
// request, so callers must not change it.
func (s *Schema) GeminiSchema() map[string]any {
	if s == nil || s.Type == nil {
		return nil
	}
	s.buildGemini()
	return s.gemini
}

// Hash identifies the schema's Gemini form (sha256 hex of its canonical
// JSON), so a request key need not re-encode the schema per request.
func (s *Schema) Hash() string {
	if s == nil || s.Type == nil {
		return ""
	}
	s.buildGemini()
	return s.hash
}

func (s *Schema) buildGemini() {
	s.geminiOnce.Do(func() {
		s.gemini = geminiType(s.Type)
		b, _ := json.Marshal(s.gemini) // map keys are sorted: canonical
		sum := sha256.Sum256(b)
		s.hash = hex.EncodeToString(sum[:])
	})
}

func geminiType(t *Type) map[string]any {
	switch t.Kind {
	case KindString:
		return map[string]any{"type": "STRING"}
	case KindInt:
		return map[string]any{"type": "INTEGER"}
	case KindFloat:
		return map[string]any{"type": "NUMBER"}
	case KindBool:
		return map[string]any{"type": "BOOLEAN"}
	case KindEnum:
		enum := make([]any, len(t.Enum))
		for i, e := range t.Enum {
			enum[i] = e
		}
		return map[string]any{"type": "STRING", "enum": enum}
	case KindList:
		return map[string]any{"type": "ARRAY", "items": geminiType(t.Elem)}
	}
	props := make(map[string]any, len(t.Fields))
	order := make([]any, 0, len(t.Fields))
	var required []any
	for _, f := range t.Fields {
		p := geminiType(f.Type)
		if f.Doc != "" {
			p["description"] = f.Doc
		}
		if f.Optional {
			p["nullable"] = true
		} else {
			required = append(required, f.Name)
		}
		props[f.Name] = p
		order = append(order, f.Name)
	}
	m := map[string]any{"type": "OBJECT", "properties": props, "propertyOrdering": order}
	if len(required) > 0 {
		m["required"] = required
	}
	return m
}

// exprType is the expr-lang type of values of t, as ParseReply produces them.
// Objects are strict maps, so a misspelt field is a check-time error.
func exprType(t *Type) types.Type {
	switch t.Kind {
	case KindString, KindEnum:
		return types.String
	case KindInt:
		return types.Int
	case KindFloat:
		return types.Float64
	case KindBool:
		return types.Bool
	case KindList:
		return types.Array(exprType(t.Elem))
	}
	m := make(types.Map, len(t.Fields))
	for _, f := range t.Fields {
		m[f.Name] = exprType(f.Type)
	}
	return m
}
