package interp

import "testing"

func TestKindHelp(t *testing.T) {
	for _, tc := range []struct {
		kinds []IOKind
		want  string
	}{
		{nil, ""},
		{[]IOKind{{Name: "a"}}, `add a = "path"`},
		{[]IOKind{{Name: "a"}, {Name: "b"}}, `add a = "path" or b = "path"`},
		{[]IOKind{{Name: "a"}, {Name: "b"}, {Name: "c"}}, `add one of a, b or c = "path"`},
		{sourceKindSpecs, `add one of jsonl, csv, lines, files or json = "path"`},
		{sinkKindSpecs, `add jsonl = "path" or csv = "path"`},
	} {
		if got := kindHelp(tc.kinds); got != tc.want {
			t.Errorf("kindHelp(%v) = %q, want %q", kindNames(tc.kinds), got, tc.want)
		}
	}
}

// TestKindsAreBlockAttributes holds the block specs to the kind registry:
// every kind is a path attribute of its block, documented by its summary.
func TestKindsAreBlockAttributes(t *testing.T) {
	for block, kinds := range map[string][]IOKind{kindSource: SourceKinds(), kindSink: SinkKinds()} {
		if len(kinds) == 0 {
			t.Fatalf("no %s kinds", block)
		}
		for _, k := range kinds {
			a := specs[block].attr(k.Name)
			if a == nil {
				t.Errorf("%s kind %q is not an attribute of the %s block", block, k.Name, block)
				continue
			}
			if a.Kind != vString || a.Doc != k.Summary {
				t.Errorf("%s.%s = %+v, want a string attribute documented %q", block, k.Name, *a, k.Summary)
			}
			if k.Summary == "" || k.Example == "" {
				t.Errorf("%s kind %q lacks a summary or an example", block, k.Name)
			}
		}
	}
}

func TestSourceKindsIsACopy(t *testing.T) {
	k := SourceKinds()
	k[0].Name = "changed"
	if SourceKinds()[0].Name == "changed" {
		t.Error("SourceKinds returned the registry itself")
	}
}
