package sim

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestJSGenAI runs the official JavaScript SDK (@google/genai, pinned in
// testdata/genai-js) against the simulator: batches and files as a
// Node.js client calls them. It needs node and `npm ci` in that directory;
// without them it is skipped, unless LLMPIPE_JS_GENAI=1 (as in CI), which
// makes a missing setup a failure.
func TestJSGenAI(t *testing.T) {
	dir := filepath.Join("testdata", "genai-js")
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join(dir, "node_modules", "@google", "genai"))
	}
	if err != nil {
		if os.Getenv("LLMPIPE_JS_GENAI") == "1" {
			t.Fatalf("node or %s/node_modules missing (run npm ci there): %v", dir, err)
		}
		t.Skipf("node or %s/node_modules missing (npm ci there to run it): %v", dir, err)
	}
	s := startSim(t, func(c *Config) { c.BatchLatency = fastBatches })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "batch.test.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "SIM_URL="+s.URL())
	out, err := cmd.CombinedOutput()
	if err != nil || string(out) != "ok\n" {
		t.Fatalf("node batch.test.mjs: %v\n%s", err, out)
	}
}
