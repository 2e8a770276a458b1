package interp

import "fmt"

// FitError says which field of a source item does not fit the item's
// type, and how.
type FitError struct {
	Field   string // the top-level field
	Message string // the whole message, naming the field
	Missing bool   // the field is absent (or null, when it may not be)
}

func (e *FitError) Error() string { return e.Message }

// FitItem fits a source item to the schema, as a source with `schema =
// NAME` reads it: every field the schema declares must be there (an
// optional one may be absent or null) with a value of its type, checked
// and converted as a reply's fields are (30.0 fits an int; 3.5 does not).
// Keys the schema does not declare are kept as they are: the record
// carries the item whole, although expressions see only declared fields.
// m is not changed. The error is a *FitError naming the first field, in
// the schema's order, that does not fit. It is safe for concurrent use.
func (s *Schema) FitItem(m map[string]any) (map[string]any, error) {
	out, err := fitItem(s.Type, m)
	if err != nil {
		return nil, fmt.Errorf("the item does not fit schema %q: %w", s.Name, err)
	}
	return out, nil
}

// fitItem fits m to the object type t (see FitItem).
func fitItem(t *Type, m map[string]any) (map[string]any, error) {
	out := make(map[string]any, len(m)+len(t.Fields))
	for k, v := range m {
		out[k] = v
	}
	for _, f := range t.Fields {
		v, present := m[f.Name]
		if !present || v == nil {
			if f.Optional {
				out[f.Name] = nil
				continue
			}
			msg := fmt.Sprintf("field %q is missing", f.Name)
			if present {
				msg = fmt.Sprintf("field %q must not be null", f.Name)
			}
			return nil, &FitError{Field: f.Name, Message: msg, Missing: !present}
		}
		cv, msg := conform(f.Type, v, fmt.Sprintf("field %q", f.Name))
		if msg != "" {
			return nil, &FitError{Field: f.Name, Message: msg}
		}
		out[f.Name] = cv
	}
	return out, nil
}
