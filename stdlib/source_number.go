package stdlib

import (
	"encoding/json"
	"strconv"
)

// normalize replaces the json.Numbers of a value decoded with UseNumber, in
// place: an integer that fits in 64 bits becomes an int (so item.age == 42 and
// ids print without an exponent), any other number a float64. A number too
// large even for a float64 stays its decimal text.
func normalize(v any) any {
	switch x := v.(type) {
	case json.Number:
		return normalizeNumber(x)
	case map[string]any:
		for k, e := range x {
			switch e.(type) {
			case json.Number, map[string]any, []any:
				x[k] = normalize(e)
			}
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = normalize(e)
		}
		return x
	}
	return v
}

func normalizeNumber(n json.Number) any {
	s := string(n)
	if isIntText(s) {
		if i, err := strconv.ParseInt(s, 10, 64); err == nil && int64(int(i)) == i {
			return int(i)
		}
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return f
	}
	return s
}

// isIntText reports whether s is a JSON number without fraction or exponent.
func isIntText(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '.' || c == 'e' || c == 'E' {
			return false
		}
	}
	return true
}
