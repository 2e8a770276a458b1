package sim

import (
	"bytes"
	"encoding/json"
	"strings"
)

// Proto-JSON accepts a message's fields under their proto names
// (snake_case) as well as their JSON names (camelCase); the SDKs send
// camelCase, the Guide's curl and JSONL samples snake_case. The batch and
// files endpoints decode bodies into generic values and pass them through
// camelKeys, so the rest of the simulator sees camelCase only. The
// generate hot path keeps its own decoder and does not do this.

// camelKeys rewrites the field names of v, a value from decodeAny, to
// camelCase in place and returns it. Maps whose keys are user data
// (properties of a schema, metadata, labels) keep their keys, and values
// of type google.protobuf.Struct or Value (a JSON schema, function
// arguments, examples) are left as they are.
func camelKeys(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, val := range t {
			k = camel(k)
			switch {
			case opaqueFields[k]:
				out[k] = val
			case userKeyedFields[k]:
				if m, ok := val.(map[string]any); ok {
					for mk, mv := range m {
						m[mk] = camelKeys(mv)
					}
					out[k] = m
				} else {
					out[k] = val
				}
			default:
				out[k] = camelKeys(val)
			}
		}
		return out
	case []any:
		for i := range t {
			t[i] = camelKeys(t[i])
		}
		return t
	}
	return v
}

// opaqueFields hold Struct or Value payloads, or maps of strings: their
// keys are not field names.
var opaqueFields = map[string]bool{
	"metadata": true, "labels": true,
	"responseJsonSchema": true, "parametersJsonSchema": true, "responseJsonSchemaDraft": true,
	"args": true, "response": true, "example": true, "default": true,
}

// userKeyedFields are maps from user names to messages: the keys stay,
// the values are messages.
var userKeyedFields = map[string]bool{"properties": true}

// camel turns snake_case into camelCase; other names are returned as is.
func camel(k string) string {
	if !strings.Contains(k, "_") || strings.HasPrefix(k, "_") {
		return k
	}
	var b strings.Builder
	up := false
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case c == '_':
			up = true
			continue
		case up && 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		}
		up = false
		b.WriteByte(c)
	}
	return b.String()
}

// decodeAny reads JSON into generic values, keeping numbers exact.
func decodeAny(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if d.More() {
		return nil, errTrailing
	}
	return v, nil
}

var errTrailing = jsonErr("invalid character after top-level value")

type jsonErr string

func (e jsonErr) Error() string { return string(e) }
