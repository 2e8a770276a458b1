package stdlib

import (
	"context"
	"strings"
	"testing"

	"github.com/llmpipe/llmpipe/interp"
)

// TestEveryKindOpens holds the two halves of the registry equal: each
// kind interp specifies has a constructor here, and nothing more.
func TestEveryKindOpens(t *testing.T) {
	if len(sourceOpeners) != len(interp.SourceKinds()) {
		t.Errorf("%d source constructors for %d source kinds", len(sourceOpeners), len(interp.SourceKinds()))
	}
	for _, k := range interp.SourceKinds() {
		if sourceOpeners[k.Name] == nil {
			t.Errorf("source kind %q has no constructor", k.Name)
		}
	}
	if len(sinkOpeners) != len(interp.SinkKinds()) {
		t.Errorf("%d sink constructors for %d sink kinds", len(sinkOpeners), len(interp.SinkKinds()))
	}
	for _, k := range interp.SinkKinds() {
		if sinkOpeners[k.Name] == nil {
			t.Errorf("sink kind %q has no constructor", k.Name)
		}
	}
}

func TestRegisterRefusesAMismatch(t *testing.T) {
	noop := func() {}
	for name, tc := range map[string]struct {
		kinds []interp.IOKind
		open  map[string]func()
		want  string
	}{
		"spec without constructor": {[]interp.IOKind{{Name: "a"}, {Name: "b"}}, map[string]func(){"a": noop}, `"b" has a spec in interp but no constructor`},
		"constructor without spec": {[]interp.IOKind{{Name: "a"}}, map[string]func(){"a": noop, "z": noop}, `"z" has a constructor but no spec`},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				r := recover()
				if s, _ := r.(string); !strings.Contains(s, tc.want) {
					t.Errorf("panic %v, want one containing %q", r, tc.want)
				}
			}()
			register("source", tc.kinds, tc.open)
		})
	}
}

func TestOpenUnknownKind(t *testing.T) {
	_, err := OpenSource(context.Background(), &interp.Source{Name: "s", Kind: "parquet"})
	if err == nil || !strings.Contains(err.Error(), `unknown source kind "parquet"`) {
		t.Errorf("OpenSource(parquet) = %v", err)
	}
	_, err = OpenSink(context.Background(), &interp.Sink{Name: "s", Kind: "parquet"})
	if err == nil || !strings.Contains(err.Error(), `unknown sink kind "parquet"`) {
		t.Errorf("OpenSink(parquet) = %v", err)
	}
}
