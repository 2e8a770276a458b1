package stdlib

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/llmpipe/llmpipe/interp"
	"github.com/llmpipe/llmpipe/runtime"
)

// The crash tests re-run this test binary as a child that writes records to
// a sink in a loop; the child is killed with SIGKILL and the file must hold
// only whole records, numbered 0, 1, 2, … with none missing in between.
const (
	crashEnvPath = "LLMPIPE_SINK_CRASH_PATH"
	crashEnvMode = "LLMPIPE_SINK_CRASH_MODE"
)

func TestMain(m *testing.M) {
	if p := os.Getenv(crashEnvPath); p != "" {
		crashChild(p, os.Getenv(crashEnvMode))
		return
	}
	os.Exit(m.Run())
}

// crashChild writes records until it is killed. In mode "self" it kills
// itself after 3000 records, between two Writes, so a record half-handed to
// the file by an earlier Write would show; otherwise the parent kills it.
func crashChild(path, mode string) {
	s, err := OpenSink(context.Background(), &interp.Sink{Name: "crash", Kind: "jsonl", Path: path})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	fmt.Println("ready")
	for i := 0; ; i++ {
		rec := &runtime.Record{ID: strconv.Itoa(i), Outputs: map[string]any{
			"text": strings.Repeat("abcdefghij", i%700), // sizes up to 7 KB, so records cross pages and batches
		}}
		if err := s.Write(context.Background(), rec); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		if mode == "self" && i == 3000 {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {}
		}
	}
}

func TestSinkCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	for _, mode := range []string{"parent", "self"} {
		t.Run(mode, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "crash.jsonl")
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), crashEnvPath+"="+p, crashEnvMode+"="+mode)
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			if line, _ := bufio.NewReader(out).ReadString('\n'); line != "ready\n" {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("child said %q; stderr: %s", line, stderr.String())
			}
			if mode == "parent" {
				// Kill it in the middle of writing: once some batches are out.
				for deadline := time.Now().Add(10 * time.Second); ; {
					if fi, err := os.Stat(p); err == nil && fi.Size() > 2<<20 {
						break
					}
					if time.Now().After(deadline) {
						t.Fatal("child wrote too little")
					}
					time.Sleep(time.Millisecond)
				}
				cmd.Process.Signal(syscall.SIGKILL)
			}
			err = cmd.Wait()
			if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
				t.Fatalf("child did not die by SIGKILL: %v; stderr: %s", err, stderr.String())
			}
			checkWholeRecords(t, readFile(t, p), mode == "parent")
		})
	}
}

// checkWholeRecords asserts that data is complete JSON lines with ids 0..n-1.
// When tornPageOK, a last line cut at a page boundary is allowed: the kernel
// may stop a write(2) there when SIGKILL arrives during it.
func checkWholeRecords(t *testing.T, data string, tornPageOK bool) {
	t.Helper()
	if len(data) == 0 {
		t.Fatal("empty file")
	}
	if !strings.HasSuffix(data, "\n") {
		cut := strings.LastIndexByte(data, '\n') + 1
		if !tornPageOK || len(data)%4096 != 0 {
			t.Fatalf("file of %d bytes ends in a torn record: %.80q…", len(data), data[cut:])
		}
		t.Logf("the kill landed inside write(2): last record cut at a page boundary (%d bytes)", len(data))
		data = data[:cut]
	}
	lines := strings.Split(strings.TrimSuffix(data, "\n"), "\n")
	for i, l := range lines {
		var v struct {
			ID   string `json:"id"`
			Text string `json:"text"`
		}
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatalf("line %d of %d is not whole JSON: %v", i+1, len(lines), err)
		}
		if v.ID != strconv.Itoa(i) || len(v.Text) != 10*(i%700) {
			t.Fatalf("line %d holds record %s with %d bytes of text", i+1, v.ID, len(v.Text))
		}
	}
	t.Logf("%d whole records", len(lines))
}
