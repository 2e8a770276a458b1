package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestDevUI: dev --ui serves the web view across rounds, over the store the
// rounds write, until dev stops.
func TestDevUI(t *testing.T) {
	dir := t.TempDir()
	people := `{"id":"p1","text":"Ada Lovelace is 36 years old."}` + "\n" + `{"id":"p2","text":"Grace Hopper is 85 years old."}` + "\n"
	for name, body := range map[string]string{"job.llmp": browserPipeline, "people.jsonl": people} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx, stop := context.WithCancel(context.Background())
	var stdout, stderr lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"dev", filepath.Join(dir, "job.llmp"), "--sim", "--ui=127.0.0.1:0"}, strings.NewReader(""), &stdout, &stderr)
	}()
	defer func() {
		stop()
		select {
		case code := <-done:
			if code != exitOK {
				t.Errorf("dev exited %d, want 0\n%s", code, stderr.String())
			}
		case <-time.After(30 * time.Second):
			t.Error("dev did not stop")
		}
	}()
	urlRE := regexp.MustCompile(`web view at (http://127\.0\.0\.1:\d+/)`)
	waitFor(t, 30*time.Second, "the web view's URL", func() bool { return urlRE.MatchString(stderr.String()) })
	base := urlRE.FindStringSubmatch(stderr.String())[1]
	// The first round ends with one item ok and one failed.
	waitFor(t, 30*time.Second, "the first round in the view", func() bool {
		resp, err := http.Get(base + "api/summary")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var sum struct {
			Steps []struct{ Done, Failed int }
		}
		if err := json.NewDecoder(resp.Body).Decode(&sum); err != nil {
			t.Fatal(err)
		}
		return len(sum.Steps) == 1 && sum.Steps[0].Done == 1 && sum.Steps[0].Failed == 1
	})
}
