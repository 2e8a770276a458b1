package itemkey

import (
	"net/http"
	"strings"
	"testing"
)

func TestEncode(t *testing.T) {
	long := strings.Repeat("é", MaxLen/4) // 2 bytes each, 6 encoded: hashed
	const hashed = "(hashed)"
	cases := []struct{ id, key string }{
		{"row-7", "row-7"},
		{"a1", "a1"},
		{"", ""},
		{"two\nlines", "two%0Alines"},
		{" padded ", "%20padded%20"},
		{"100%", "100%25"},
		{HashPrefix + "00", "%25sha256:00"},
		{"é", "%C3%A9"},
		{"del\x7f", "del%7F"},
		{strings.Repeat("a", MaxLen), strings.Repeat("a", MaxLen)},
		{strings.Repeat("a", MaxLen+1), hashed},
		{long, hashed},
	}
	for _, c := range cases {
		got := Encode(c.id)
		if c.key == hashed {
			if !strings.HasPrefix(got, HashPrefix) || len(got) != len(HashPrefix)+64 || got != Encode(c.id) {
				t.Errorf("Encode(%.20q…) = %q, want a stable hash key", c.id, got)
			}
			continue
		}
		if got != c.key {
			t.Errorf("Encode(%q) = %q, want %q", c.id, got, c.key)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	for _, key := range []string{"%", "%4", "a%zz", "%G0"} {
		if _, err := Decode(key); err == nil {
			t.Errorf("Decode(%q) succeeded, want an error", key)
		}
	}
	if got, err := Decode("%41%62c"); err != nil || got != "Abc" {
		t.Errorf("Decode(%%41%%62c) = %q, %v", got, err)
	}
}

// FuzzRoundTrip: every id gets a key that is a valid, untrimmed HTTP header
// value of at most MaxLen bytes, and that decodes back to the id (or, for
// a hash key, to itself).
func FuzzRoundTrip(f *testing.F) {
	for _, s := range []string{"row-7", "two\nlines", " x ", "100%", "%sha256:x", "\x00\xff", strings.Repeat("ab%", 300)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		key := Encode(id)
		if len(key) > MaxLen {
			t.Fatalf("Encode(%q) is %d bytes, over MaxLen", id, len(key))
		}
		for i := 0; i < len(key); i++ {
			if key[i] <= ' ' || key[i] >= 0x7f {
				t.Fatalf("Encode(%q) = %q holds byte %#x: not a header value that survives", id, key, key[i])
			}
		}
		h := http.Header{}
		h.Set("X-Llmpipe-Item", key)
		got, err := Decode(h.Get("X-Llmpipe-Item"))
		if err != nil {
			t.Fatalf("Decode(Encode(%q)): %v", id, err)
		}
		if strings.HasPrefix(key, HashPrefix) {
			if got != key {
				t.Fatalf("hash key %q decoded to %q", key, got)
			}
			return
		}
		if got != id {
			t.Fatalf("Decode(Encode(%q)) = %q", id, got)
		}
	})
}
