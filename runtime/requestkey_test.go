package runtime_test

import (
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/llmpipe/llmpipe/runtime"
)

func ptr[T any](v T) *T { return &v }

func baseRequest() *runtime.Request {
	return &runtime.Request{
		Item: "i1", Step: "s", Model: "gemini-2.5-flash", System: "sys", Prompt: "hello",
		Schema:      map[string]any{"type": "OBJECT", "properties": map[string]any{"a": map[string]any{"type": "STRING"}, "b": map[string]any{"type": "INTEGER"}}},
		Temperature: ptr(0.2), MaxOutputTokens: 100, Timeout: time.Minute,
	}
}

func TestRequestKeyIgnoresLabels(t *testing.T) {
	a, b := baseRequest(), baseRequest()
	a.CachedContent, a.CacheID = "cachedContents/old", "sha-of-docs"
	b.CachedContent, b.CacheID = "cachedContents/recreated", "sha-of-docs"
	b.Item, b.Step, b.Timeout = "other", "other-step", time.Second
	if runtime.RequestKey(a) != runtime.RequestKey(b) {
		t.Error("Item, Step, Timeout or the cache's name changed the key")
	}
	// Same schema built in another order, and equal values behind other pointers.
	b.Schema = map[string]any{"properties": map[string]any{"b": map[string]any{"type": "INTEGER"}, "a": map[string]any{"type": "STRING"}}, "type": "OBJECT"}
	b.Temperature = ptr(0.2)
	if runtime.RequestKey(a) != runtime.RequestKey(b) {
		t.Error("key depends on map order or pointer identity")
	}
	if k := runtime.RequestKey(a); len(k) != 64 {
		t.Errorf("key %q is not hex sha256", k)
	}
}

// TestRequestKeyCoversEveryField changes each field of runtime.Request in
// turn; every one except the labels must change the key. A field added to
// Request later fails here until RequestKey covers it (or lists it as a label).
func TestRequestKeyCoversEveryField(t *testing.T) {
	// MaxOutputTokens is the adaptive output cap: a reply that ended
	// normally is the same under any cap (issue 17).
	labels := map[string]bool{"Item": true, "Step": true, "Timeout": true, "MaxOutputTokens": true}
	base := runtime.RequestKey(baseRequest())
	typ := reflect.TypeFor[runtime.Request]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		if labels[f.Name] {
			continue
		}
		t.Run(f.Name, func(t *testing.T) {
			req := baseRequest()
			v := reflect.ValueOf(req).Elem().Field(i)
			if !mutate(v) {
				t.Fatalf("test cannot change a %s field", f.Type)
			}
			if runtime.RequestKey(req) == base {
				t.Errorf("changing %s does not change the key", f.Name)
			}
		})
	}
	// Without a CacheID the cache's name stands for its content.
	req := baseRequest()
	req.CachedContent = "cachedContents/a"
	if runtime.RequestKey(req) == base {
		t.Error("CachedContent without CacheID does not change the key")
	}
	// A nil pointer and a pointer to zero are different requests.
	req = baseRequest()
	req.TopK = ptr(0)
	if runtime.RequestKey(req) == base {
		t.Error("TopK=0 and unset TopK share a key")
	}
}

// mutate sets v to a value different from baseRequest's.
func mutate(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.String:
		v.SetString(v.String() + "x")
	case reflect.Int, reflect.Int64:
		v.SetInt(v.Int() + 1)
	case reflect.Pointer:
		n := reflect.New(v.Type().Elem())
		if !v.IsNil() {
			n.Elem().Set(v.Elem())
		}
		if !mutate(n.Elem()) {
			return false
		}
		v.Set(n)
	case reflect.Float64:
		v.SetFloat(v.Float() + 0.5)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		m.SetMapIndex(reflect.ValueOf("extra"), reflect.ValueOf(any("x")))
		v.Set(m)
	default:
		return false
	}
	return true
}

func TestRequestKeyUnencodable(t *testing.T) {
	// NaN cannot be JSON; the key must still be stable and distinct.
	a, b := baseRequest(), baseRequest()
	a.Temperature, b.Temperature = ptr(math.NaN()), ptr(math.NaN())
	if runtime.RequestKey(a) != runtime.RequestKey(b) {
		t.Error("fallback key is not deterministic")
	}
	if runtime.RequestKey(a) == runtime.RequestKey(baseRequest()) {
		t.Error("NaN temperature shares a key with 0.2")
	}
}
