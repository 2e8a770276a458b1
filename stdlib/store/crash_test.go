package store

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/llmpipe/llmpipe/runtime"
)

const crashEnv = "LLMPIPE_STORE_CRASH_CHILD"

// TestCrashChild is the child half of TestCrash: it commits results from a
// few goroutines forever and prints each item id once its Commit returned.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashEnv)
	if path == "" {
		t.Skip("run by TestCrash")
	}
	ctx := context.Background()
	s, err := Open(ctx, path, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	prefix := fmt.Sprintf("p%d-", os.Getpid())
	var (
		mu   sync.Mutex
		next int
		wg   sync.WaitGroup
	)
	for range 8 {
		wg.Go(func() {
			for {
				mu.Lock()
				next++
				id := fmt.Sprintf("%s%d", prefix, next)
				mu.Unlock()
				// Buffered writes ride along in the same transactions.
				_ = s.LogAttempt(ctx, &runtime.Attempt{Step: "s", Item: id, Status: "ok", Prompt: strings.Repeat("p", 300)})
				_ = s.PutResponse(ctx, id, &runtime.Response{Text: id})
				err := s.Commit(ctx, &runtime.Result{Step: "s", Item: id, Fingerprint: "f", OK: true, Output: json.RawMessage(`"` + id + `"`)})
				if err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(3)
				}
				mu.Lock()
				fmt.Println(id) // one write(2) per line
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}

// TestCrash SIGKILLs a committing child at random points and checks that
// every result it reported committed survived, and that the file is sound.
func TestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	path := filepath.Join(t.TempDir(), "crash.db")
	ctx := context.Background()
	var committed []string
	for round := range 3 {
		killAfter := 20 + rand.IntN(1000/raceScale)
		ids := crashChild(t, path, killAfter)
		t.Logf("round %d: killed after %d commits (%d reported)", round, killAfter, len(ids))
		committed = append(committed, ids...)

		s, err := Open(ctx, path, Options{})
		if err != nil {
			t.Fatalf("reopening after kill: %v", err)
		}
		var missing []string
		for _, id := range committed {
			if r, err := s.Lookup(ctx, "s", id, "f"); err != nil || r == nil || string(r.Output) != `"`+id+`"` {
				missing = append(missing, id)
			}
		}
		if len(missing) > 0 {
			t.Errorf("round %d: %d of %d committed results lost, e.g. %v", round, len(missing), len(committed), missing[:min(5, len(missing))])
		}
		var check string
		if err := s.w.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
			t.Errorf("round %d: integrity_check = %q, %v", round, check, err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// crashChild runs TestCrashChild on path, SIGKILLs it once it has reported
// killAfter commits, and returns every id it reported.
func crashChild(t *testing.T, path string, killAfter int) []string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashEnv+"="+path)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Whatever happens, the child dies with the test.
	deadline := time.AfterFunc(20*time.Second, func() { cmd.Process.Kill() })
	defer deadline.Stop()

	var ids []string
	sc := bufio.NewScanner(out)
	killed := false
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "p") {
			continue // test framework chatter
		}
		ids = append(ids, line)
		if !killed && len(ids) >= killAfter {
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			killed = true
			// Keep reading: lines already in the pipe were committed too.
		}
	}
	err = cmd.Wait()
	if !killed {
		t.Fatalf("child exited before the kill: %v\n%s", err, stderr.String())
	}
	// Each id went out in one write(2) of a few bytes, which a pipe keeps
	// whole, so the kill cannot leave a cut id behind.
	return ids
}
