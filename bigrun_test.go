package llmpipe_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestBigRunMemory is issue 3's memory measurement: it builds the CLI, runs
// a text pipeline over sources of increasing size against the simulator at
// zero latency, and reports each run's peak RSS and throughput. Peak memory
// must not grow with the item count. It takes many minutes, so it only runs
// with LLMPIPE_BIG=1; LLMPIPE_BIG_SIZES overrides the sizes (comma
// separated), LLMPIPE_BIG_MODES the modes, and LLMPIPE_BIG_OUT names a file
// that receives the results as Markdown table rows.
//
// Modes:
//   - sim: `run --sim --no-store`, the simulator in the same process;
//   - sim+store: the same with the run store (SQLite) beside the pipeline;
//   - external: `llmpipe sim` in its own process and `run --base-url … --no-store`,
//     so the figure is the runner's alone.
func TestBigRunMemory(t *testing.T) {
	if os.Getenv("LLMPIPE_BIG") != "1" {
		t.Skip("set LLMPIPE_BIG=1 to run the 1M-item memory measurement (minutes)")
	}
	sizes := []int{200_000, 1_000_000, 2_000_000}
	if s := os.Getenv("LLMPIPE_BIG_SIZES"); s != "" {
		sizes = nil
		for _, f := range strings.Split(s, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil {
				t.Fatalf("LLMPIPE_BIG_SIZES: %v", err)
			}
			sizes = append(sizes, n)
		}
	}
	modes := []string{"sim", "external", "sim+store"}
	if s := os.Getenv("LLMPIPE_BIG_MODES"); s != "" {
		modes = strings.Split(s, ",")
	}
	work := t.TempDir()
	bin := filepath.Join(work, "llmpipe")
	build := exec.Command("go", "build", "-o", bin, "./cmd/llmpipe")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	var rows []string
	for _, mode := range modes {
		var peaks []int64
		for _, n := range sizes {
			dir := filepath.Join(work, fmt.Sprintf("%s-%d", strings.ReplaceAll(mode, "+", "-"), n))
			writeBigPipeline(t, dir, n)
			res := runBig(t, bin, dir, mode)
			if res.sum.Succeeded != int64(n) {
				t.Errorf("%s %d: %d items succeeded", mode, n, res.sum.Succeeded)
			}
			simRSS := "in process"
			if res.simRSS > 0 {
				simRSS = fmt.Sprintf("%.1f", float64(res.simRSS)/1024)
			}
			row := fmt.Sprintf("| %s | %d | %.0f | %.1f | %.1f | %s | %.0f | %.0f |", mode, n, res.elapsed.Seconds(),
				float64(res.maxRSS)/1024, float64(res.lateRSS)/1024, simRSS, float64(n)/res.elapsed.Seconds(),
				float64(res.cpu.Microseconds())/float64(n))
			t.Log(row)
			rows = append(rows, row)
			peaks = append(peaks, res.maxRSS)
			os.RemoveAll(dir) // the store and outputs of 2M items take a lot of disk
		}
		// Flat means the largest run peaks within 25% of the smallest. Only
		// the runner alone is held to it: an in-process simulator keeps
		// ground truth per item, which grows (docs/benchmarks.md, S8).
		if mode == "external" && len(peaks) > 1 && float64(peaks[len(peaks)-1]) > 1.25*float64(peaks[0]) {
			t.Errorf("%s: peak RSS grows with the item count: %v KiB", mode, peaks)
		}
	}
	if out := os.Getenv("LLMPIPE_BIG_OUT"); out != "" {
		head := fmt.Sprintf("<!-- %s, %s/%s, %d CPUs -->\n| mode | items | seconds | llmpipe run peak RSS MiB | run RSS at 90%% of the time, MiB | simulator process peak RSS MiB | items/s | run CPU µs/item |\n|---|---|---|---|---|---|---|---|\n",
			time.Now().UTC().Format(time.RFC3339), runtime.GOOS, runtime.GOARCH, runtime.NumCPU())
		if err := os.WriteFile(out, []byte(head+strings.Join(rows, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// bigPipeline is a one-step text pipeline whose quota never paces: the
// measurement is of the runner, not of the limiter's waiting.
const bigPipeline = `
source lines {
  lines = "in.txt"
}

model lite {
  id  = "gemini-2.5-flash-lite"
  rpm = 1_000_000_000
  tpm = 1_000_000_000_000
}

step answer {
  from   = lines
  models = [lite]
  prompt = "Say one thing about {{ item.text }}"
}

sink answers {
  from  = answer
  jsonl = "out/answers.jsonl"
}

config {
  workers = 64
}
`

func writeBigPipeline(t *testing.T, dir string, n int) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "big.llmp"), []byte(bigPipeline), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, "in.txt"))
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	for i := 1; i <= n; i++ {
		fmt.Fprintf(w, "line number %d of the big source\n", i)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

type bigResult struct {
	sum     struct{ Succeeded int64 }
	elapsed time.Duration
	maxRSS  int64         // KiB, the child's peak (getrusage ru_maxrss)
	lateRSS int64         // KiB, resident at 90% of the run's time
	simRSS  int64         // KiB, the external simulator process's peak
	cpu     time.Duration // user + system CPU of the run process
}

// runBig runs the CLI over dir's pipeline and measures it.
func runBig(t *testing.T, bin, dir, mode string) (res bigResult) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	args := []string{"run", "big.llmp", "--quiet", "--summary", "sum.json"}
	env := os.Environ()
	switch mode {
	case "sim":
		args = append(args, "--sim", "--no-store")
	case "sim+store":
		args = append(args, "--sim")
	case "external":
		url, stop := startSim(t, ctx, bin)
		defer func() { res.simRSS = stop() }()
		args = append(args, "--no-store", "--base-url", url)
		env = append(env, "GEMINI_API_KEY=simulator")
	default:
		t.Fatalf("unknown mode %q", mode)
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir, cmd.Env = dir, env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Sample resident memory while it runs, to see it late in the run as
	// well as at the peak.
	type sample struct {
		at  time.Duration
		kib int64
	}
	var samples []sample
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	var err error
wait:
	for {
		select {
		case err = <-done:
			break wait
		case <-tick.C:
			if kib := procKiB(cmd.Process.Pid, "VmRSS"); kib > 0 {
				samples = append(samples, sample{time.Since(start), kib})
			}
		}
	}
	elapsed := time.Since(start)
	if err != nil {
		t.Fatalf("%s: %v\n%s", mode, err, stderr.Bytes())
	}
	res.elapsed = elapsed
	for _, sm := range samples {
		if sm.at <= elapsed*9/10 {
			res.lateRSS = sm.kib
		}
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		res.maxRSS = ru.Maxrss // KiB on Linux
		res.cpu = time.Duration(syscall.TimevalToNsec(ru.Utime) + syscall.TimevalToNsec(ru.Stime))
	}
	b, err := os.ReadFile(filepath.Join(dir, "sum.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &res.sum); err != nil {
		t.Fatal(err)
	}
	return res
}

// startSim runs `llmpipe sim` in its own process and returns its URL and
// a func that stops it and reports its peak RSS in KiB.
func startSim(t *testing.T, ctx context.Context, bin string) (string, func() int64) {
	t.Helper()
	cmd := exec.CommandContext(ctx, bin, "sim", "--addr", "127.0.0.1:0")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stop := func() int64 {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			return ru.Maxrss
		}
		return 0
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		stop()
		t.Fatalf("simulator: %v", err)
	}
	i := strings.Index(line, "http://")
	if i < 0 {
		stop()
		t.Fatalf("simulator said %q", line)
	}
	return strings.TrimSpace(line[i:]), stop
}

// procKiB reads one "Vm…:  N kB" field of /proc/<pid>/status.
func procKiB(pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}
