package interp

import (
	"strings"
	"testing"
)

func fingerprints(t *testing.T, src string) map[string][2]string {
	t.Helper()
	p := mustCheck(t, src)
	out := map[string][2]string{}
	for _, s := range p.Steps {
		out[s.Name] = [2]string{s.RequestFingerprint(), s.Fingerprint()}
	}
	return out
}

func TestFingerprints(t *testing.T) {
	base := fingerprints(t, pipeA)
	for _, fp := range base {
		if len(fp[0]) != 64 || len(fp[1]) != 64 || fp[0] == fp[1] {
			t.Fatalf("bad fingerprints %v", fp)
		}
	}
	if again := fingerprints(t, pipeA); again["extract"] != base["extract"] || again["greet"] != base["greet"] {
		t.Fatal("fingerprints differ between two checks of the same file")
	}
	tests := []struct {
		name, old, new   string
		extractReq       bool // extract's request fingerprint changes
		extractFull      bool // extract's full fingerprint changes
		greetReq, greetF bool
	}{
		{"spacing in expressions", "output.age >= 0 && output.age <= 130", "output.age>=0&&output.age<=130", false, false, false, false},
		{"spacing in holes", "{{ extract.name }}", "{{extract.name}}", false, false, false, false},
		{"comment", "step greet {", "# greets\nstep greet {", false, false, false, false},
		{"prompt text", "Extract: {{", "Extract this: {{", true, true, false, true},
		{"check", "output.age <= 130", "output.age <= 120", false, true, false, true},
		{"check message", "must be plausible", "must be sane", false, true, false, true},
		{"model", `"gemini-2.5-flash-lite", "gemini-2.5-flash"]`, `"gemini-2.5-flash"]`, true, true, false, true},
		{"schema", "email string?", "email string", true, true, false, true},
		{"feedback", "Fix: ", "Please fix: ", true, true, false, true},
		{"greet where", "extract.age >= 18", "extract.age >= 21", false, false, false, true},
		{"source filter", `where = item.text != ""`, `where = item.text != "-"`, false, true, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(pipeA, tt.old) {
				t.Fatalf("pipeA has no %q", tt.old)
			}
			got := fingerprints(t, strings.Replace(pipeA, tt.old, tt.new, 1))
			check := func(step string, i int, want bool) {
				if changed := got[step][i] != base[step][i]; changed != want {
					t.Errorf("%s fingerprint %d changed=%v, want %v", step, i, changed, want)
				}
			}
			check("extract", 0, tt.extractReq)
			check("extract", 1, tt.extractFull)
			check("greet", 0, tt.greetReq)
			check("greet", 1, tt.greetF)
		})
	}
}
