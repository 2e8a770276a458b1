package jsonscan

import (
	"strings"
	"testing"
)

// TestMembers pins the rule that lets a fast path give up rather than
// differ from encoding/json: a known key spelt in another case, or twice,
// is refused; unknown keys pass to member whatever their case.
func TestMembers(t *testing.T) {
	for _, tc := range []struct {
		in   string
		ok   bool
		keys string
	}{
		{`{}`, true, ""},
		{`{"a":1,"b":[1,2]}`, true, "a b"},
		{`{"A":1}`, false, ""},
		{`{"a":1,"a":2}`, false, "a"},
		{`{"Other":1,"OTHER":2}`, true, "Other OTHER"},
		{`{"a":1,}`, false, "a"},
		{`[1]`, false, ""},
	} {
		s := New(tc.in)
		var keys []string
		ok := s.Members(func(k string) bool {
			keys = append(keys, k)
			return s.Skip()
		}, "a", "b")
		if ok != tc.ok || strings.Join(keys, " ") != tc.keys {
			t.Errorf("Members(%s) = %v, keys %q; want %v, keys %q", tc.in, ok, keys, tc.ok, tc.keys)
		}
	}
}

func TestElements(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
		n  int
	}{
		{`[]`, true, 0},
		{`[1, "x", {}]`, true, 3},
		{`[1 2]`, false, 1},
		{`{}`, false, 0},
	} {
		s := New(tc.in)
		n := 0
		ok := s.Elements(func() bool { n++; return s.Skip() })
		if ok != tc.ok || n != tc.n {
			t.Errorf("Elements(%s) = %v after %d elements; want %v after %d", tc.in, ok, n, tc.ok, tc.n)
		}
	}
}
