package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llmpipe/llmpipe/stdlib/gemini/sim"
)

// No API key reaches the store, the events, the summary, the sinks or what
// the command prints, whichever provider holds it: keys are planted in the
// environment, the run meets wrong answers and server errors on both
// providers, and every file and stream is searched for them.
func TestNoSecretLeaks(t *testing.T) {
	const geminiKey, openaiKey = "planted-gemini-key-7f3a", "planted-openai-key-9c1e"
	cfg := sim.DefaultConfig()
	cfg.Invalid = map[string]float64{"local-qwen": 0.5}
	cfg.Fail = map[string]float64{sim.Fault500: 0.05}
	srv, err := sim.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	base := strings.TrimSuffix(srv.URL(), "/")

	dir := t.TempDir()
	var items strings.Builder
	for i := range 20 {
		fmt.Fprintf(&items, `{"id":"p%d","text":"Person %d is %d"}`+"\n", i, i, 20+i)
	}
	pipeline := `source people {
  jsonl = "people.jsonl"
  id    = item.id
}

schema Person {
  name string
  age  int
}

model local {
  provider    = "openai"
  id          = "local-qwen"
  base_url    = "` + base + `/v1"
  api_key_env = "PLANTED_KEY"
}

step extract {
  from   = people
  models = [local, "gemini-2.5-flash"]
  output = Person
  prompt = "Extract: {{ item.text }}"
}

sink out {
  from  = extract
  jsonl = "out.jsonl"
}

sink bad {
  from  = extract.failed
  jsonl = "failed.jsonl"
}
`
	os.WriteFile(filepath.Join(dir, "people.jsonl"), []byte(items.String()), 0o644)
	path := filepath.Join(dir, "job.llmp")
	os.WriteFile(path, []byte(pipeline), 0o644)
	t.Setenv("PLANTED_KEY", openaiKey)
	t.Setenv("GEMINI_API_KEY", geminiKey)
	t.Setenv("GOOGLE_API_KEY", "")

	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"run", path, "--base-url", srv.URL(),
		"--events", filepath.Join(dir, "events.jsonl"), "--summary", filepath.Join(dir, "summary.json")},
		strings.NewReader(""), &stdout, &stderr)
	if code != exitOK && code != exitFailedItems {
		t.Fatalf("run exited %d: %s", code, stderr.String())
	}
	code = run(context.Background(), []string{"status", path}, strings.NewReader(""), &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("status exited %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "local-qwen (openai) · gemini-2.5-flash (gemini)") {
		t.Errorf("status does not name each model's provider:\n%s", stdout.String())
	}
	var plan bytes.Buffer
	if code := run(context.Background(), []string{"plan", path}, strings.NewReader(""), &plan, &stderr); code != exitOK {
		t.Fatalf("plan exited %d: %s", code, stderr.String())
	}
	if !strings.Contains(plan.String(), "local-qwen (local) on openai at "+base+"/v1") {
		t.Errorf("plan does not name the openai provider:\n%s", plan.String())
	}
	stdout.WriteString(plan.String())
	code = run(context.Background(), []string{"show", path, "p1"}, strings.NewReader(""), &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("show exited %d: %s", code, stderr.String())
	}

	var files []string
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	if len(files) < 5 {
		t.Fatalf("expected the store, events, summary and sinks; found %v", files)
	}
	for _, f := range files {
		b, _ := os.ReadFile(f)
		for _, secret := range []string{geminiKey, openaiKey} {
			if bytes.Contains(b, []byte(secret)) {
				t.Errorf("%s contains a planted key", f)
			}
		}
	}
	for name, s := range map[string]string{"stdout": stdout.String(), "stderr": stderr.String()} {
		if strings.Contains(s, geminiKey) || strings.Contains(s, openaiKey) {
			t.Errorf("%s contains a planted key", name)
		}
	}
}
