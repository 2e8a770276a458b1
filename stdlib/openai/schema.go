package openai

import (
	"encoding/json"
	"strings"
)

// strictSchema turns a Gemini responseSchema (OpenAPI subset, upper-case
// types, nullable) into the JSON Schema subset OpenAI's strict structured
// output accepts: lower-case types, every property required,
// additionalProperties false, and an optional field as a union with null.
func strictSchema(g map[string]any) map[string]any {
	out := map[string]any{}
	typ, _ := g["type"].(string)
	typ = strings.ToLower(typ)
	switch typ {
	case "object":
		props := map[string]any{}
		var required []string
		if ps, ok := g["properties"].(map[string]any); ok {
			for name, p := range ps {
				if pm, ok := p.(map[string]any); ok {
					props[name] = strictSchema(pm)
				}
			}
		}
		// Declared order where known (strict mode wants every property
		// listed in required; the order is the schema's own).
		if order, ok := g["propertyOrdering"].([]any); ok {
			for _, n := range order {
				if s, ok := n.(string); ok {
					required = append(required, s)
				}
			}
		} else {
			for name := range props {
				required = append(required, name)
			}
		}
		out["type"] = "object"
		out["properties"] = props
		out["required"] = required
		out["additionalProperties"] = false
	case "array":
		out["type"] = "array"
		if items, ok := g["items"].(map[string]any); ok {
			out["items"] = strictSchema(items)
		}
	default:
		out["type"] = typ
		if e, ok := g["enum"]; ok {
			out["enum"] = e
		}
	}
	if d, ok := g["description"].(string); ok && d != "" {
		out["description"] = d
	}
	if n, _ := g["nullable"].(bool); n {
		out["type"] = []any{out["type"], "null"}
		if e, ok := out["enum"].([]any); ok {
			out["enum"] = append(append([]any(nil), e...), nil)
		}
	}
	return out
}

// schemaInstruction describes the schema in words for a server without
// structured output, so the model can still answer in the right shape.
func schemaInstruction(g map[string]any) string {
	b, _ := json.Marshal(strictSchema(g))
	return "Answer with a single JSON value only, no prose and no code fence, that conforms to this JSON Schema:\n" + string(b)
}
