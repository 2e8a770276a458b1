package gemini

import "testing"

func TestSchemaCache(t *testing.T) {
	m := map[string]any{"type": "object", "properties": map[string]any{"a": map[string]any{"type": "string"}}}
	var c schemaCache
	s1, err := c.get("id1", m)
	if err != nil {
		t.Fatal(err)
	}
	if s1.Type != "OBJECT" || s1.Properties["a"].Type != "STRING" {
		t.Errorf("converted schema %+v", s1)
	}
	if s2, _ := c.get("id1", nil); s2 != s1 {
		t.Error("same id should give the cached schema")
	}
	if s3, _ := c.get("id2", m); s3 == s1 {
		t.Error("another id should convert afresh")
	}
	if s4, _ := c.get("", m); s4 == s1 || len(c.m) != 2 {
		t.Errorf("an empty id must not be cached (cache has %d)", len(c.m))
	}
	if _, err := c.get("bad", map[string]any{"type": make(chan int)}); err == nil || c.m["bad"] != nil {
		t.Error("a failed conversion should fail and not be cached")
	}
}
