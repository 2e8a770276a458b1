package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// pilotPipeline is a three-rung ladder whose lower rungs give wrong
// answers (the simulator's invalid rates), so items climb to Pro.
const pilotPipeline = `
source people {
  jsonl = "people.jsonl"
  id    = item.id
}

schema Person {
  name string "full name as written"
  age  int
  city string
}

# High quotas: the test is about cost, not pacing.
model lite {
  id  = "gemini-2.5-flash-lite"
  rpm = 1_000_000
}
model flash {
  id  = "gemini-2.5-flash"
  rpm = 1_000_000
}
model pro {
  id  = "gemini-2.5-pro"
  rpm = 1_000_000
}

ladder rungs = [lite, flash, pro]

step extract {
  from   = people
  models = rungs
  output = Person
  prompt = "Extract the person in this text: {{ item.text }}"
  check age "must be between 0 and 130": output.age >= 0 && output.age <= 130
  retry {
    attempts       = 4
    escalate_after = 1
    backoff        = 1ms .. 5ms
  }
}

sink out {
  from  = extract
  jsonl = "out/people.jsonl"
}

config {
  workers = 16
}
`

// TestPilotRangeHoldsTheRun: plan --pilot 200 on the simulator prints a
// 90 % range that holds what run then spends on the same flags and seed,
// no wider than ±40 % of its expected cost (issue 17), over several seeds.
func TestPilotRangeHoldsTheRun(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 3 × 1,000 items on the simulator")
	}
	for _, seed := range []int{1, 2, 3} {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			dir := t.TempDir()
			var items strings.Builder
			for i := 1; i <= 1000; i++ {
				fmt.Fprintf(&items, "{\"id\":\"p%d\",\"text\":\"Maria Lopez %d is %d years old and lives in Madrid.\"}\n", i, i, 20+i%50)
			}
			for name, body := range map[string]string{"main.llmp": pilotPipeline, "people.jsonl": items.String()} {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			main := filepath.Join(dir, "main.llmp")
			simFlags := []string{"--sim", "--sim-seed", fmt.Sprint(seed), "--sim-invalid", "gemini-2.5-flash-lite=0.3", "--sim-invalid", "gemini-2.5-flash=0.3"}
			est := filepath.Join(dir, "est.json")
			var stdout, stderr strings.Builder
			if code := run(context.Background(), append([]string{"plan", main, "--pilot", "200", "--json", est}, simFlags...), strings.NewReader(""), &stdout, &stderr); code != 0 {
				t.Fatalf("plan exited %d: %s", code, stderr.String())
			}
			sum := filepath.Join(dir, "sum.json")
			stdout.Reset()
			stderr.Reset()
			if code := run(context.Background(), append([]string{"run", main, "--quiet", "--summary", sum}, simFlags...), strings.NewReader(""), &stdout, &stderr); code != 0 {
				t.Fatalf("run exited %d: %s", code, stderr.String())
			}
			var e struct {
				Expected float64 `json:"expected_cost"`
				Low      float64 `json:"cost_low"`
				High     float64 `json:"cost_high"`
			}
			var s struct {
				Cost float64 `json:"cost"`
			}
			readJSONFile(t, est, &e)
			readJSONFile(t, sum, &s)
			t.Logf("estimate $%.6f (90%%: $%.6f – $%.6f); run spent $%.6f", e.Expected, e.Low, e.High, s.Cost)
			if s.Cost < e.Low || s.Cost > e.High {
				t.Errorf("the run spent $%.6f, outside the range $%.6f – $%.6f", s.Cost, e.Low, e.High)
			}
			if e.Expected <= 0 || e.Low < 0.6*e.Expected || e.High > 1.4*e.Expected {
				t.Errorf("range $%.6f – $%.6f is wider than ±40%% of $%.6f", e.Low, e.High, e.Expected)
			}
		})
	}
}

func readJSONFile(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
