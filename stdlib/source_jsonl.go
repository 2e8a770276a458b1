package stdlib

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/llmpipe/llmpipe/internal/box"
	"github.com/llmpipe/llmpipe/interp"
)

// openJSONL reads one JSON object per line.
func openJSONL(src *interp.Source) (*lineSource, error) {
	// Next runs on one goroutine: one boxer for the source's strings.
	strs := new(box.Strings).String
	return openLineSource(src, func(text string, _ int) (map[string]any, error) {
		m, err := decodeObject(text, strs)
		if err != nil {
			return nil, err
		}
		return fitSchema(src, m)
	})
}

// fitSchema fits an item to its source's schema, if it has one. An item
// that does not fit comes back whole beside the error, so that the failed
// record shows what was read.
func fitSchema(src *interp.Source, m map[string]any) (map[string]any, error) {
	if src.Schema == nil {
		return m, nil
	}
	out, err := src.Schema.FitItem(m)
	if err != nil {
		return m, err
	}
	return out, nil
}

// decodeObject decodes text as exactly one JSON object with normalised
// numbers; its strings are slices of text.
func decodeObject(text string, strs func(string) any) (map[string]any, error) {
	v, err := parseJSONText(text, strs)
	if err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("expected a JSON object, got %s", jsonKind(v))
	}
	return m, nil
}

// jsonKind names the JSON type of a decoded value for messages.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number, float64, int:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// closeOnce closes *f and clears it, so a second Close is a no-op.
func closeOnce(f **os.File) error {
	if *f == nil {
		return nil
	}
	err := (*f).Close()
	*f = nil
	return err
}
