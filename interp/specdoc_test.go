package interp

import "testing"

// Every value kind an attribute can take has a name in the documentation.
func TestEveryValueKindIsNamed(t *testing.T) {
	for _, b := range specs {
		for _, a := range b.Attrs {
			if kindTypes[a.Kind] == "" {
				t.Errorf("%s.%s: value kind %d has no name in kindTypes", b.Kind, a.Name, a.Kind)
			}
		}
	}
}
