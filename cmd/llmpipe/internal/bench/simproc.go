package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/llmpipe/llmpipe/stdlib/gemini/sim"
)

// simProc is the simulator running as a child process.
type simProc struct {
	cmd  *exec.Cmd
	URL  string
	Log  string // request log path, "" for none
	done chan error
}

const listening = "gemini simulator listening on "

// startSim runs `bin sim --addr 127.0.0.1:0 args…` and waits (bounded) for
// it to print its address.
func startSim(ctx context.Context, bin string, args []string, logPath string) (*simProc, error) {
	full := append([]string{"sim", "--addr", "127.0.0.1:0"}, args...)
	if logPath != "" {
		full = append(full, "--log", logPath)
	}
	cmd := exec.Command(bin, full...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the simulator: %w", err)
	}
	p := &simProc{cmd: cmd, Log: logPath, done: make(chan error, 1)}
	urls := make(chan string, 1)
	go func() {
		// Reads until the child exits, which stop or kill guarantees.
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), listening); ok {
				select {
				case urls <- strings.TrimSpace(u):
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, out)
		p.done <- cmd.Wait()
	}()
	timeout := time.NewTimer(15 * time.Second)
	defer timeout.Stop()
	select {
	case p.URL = <-urls:
		return p, nil
	case err := <-p.done:
		p.done <- err
		return nil, fmt.Errorf("simulator exited before listening: %v: %s", err, strings.TrimSpace(stderr.String()))
	case <-timeout.C:
		p.kill()
		return nil, errors.New("simulator did not print its address within 15s")
	case <-ctx.Done():
		p.kill()
		return nil, ctx.Err()
	}
}

// stats fetches the simulator's ground-truth counters.
func (p *simProc) stats(ctx context.Context) (*sim.Stats, error) {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(p.URL, "/")+"/stats", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("reading simulator stats: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("reading simulator stats: status %s", resp.Status)
	}
	var s sim.Stats
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		return nil, fmt.Errorf("decoding simulator stats: %w", err)
	}
	return &s, nil
}

// stop interrupts the simulator, which flushes its log and exits; it is
// killed if it has not within 20 s.
func (p *simProc) stop() error {
	_ = p.cmd.Process.Signal(os.Interrupt)
	t := time.NewTimer(20 * time.Second)
	defer t.Stop()
	select {
	case err := <-p.done:
		return err
	case <-t.C:
		p.kill()
		return errors.New("simulator did not stop within 20s; killed")
	}
}

func (p *simProc) kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// readLog decodes the simulator's request log, keeping generate calls.
func readLog(path string) ([]sim.LogEntry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []sim.LogEntry
	dec := json.NewDecoder(bufio.NewReaderSize(f, 1<<20))
	for {
		var e sim.LogEntry
		if err := dec.Decode(&e); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return out, fmt.Errorf("reading simulator log: %w", err)
		}
		if e.Model != "" && (strings.Contains(e.Path, ":generateContent") || strings.Contains(e.Path, ":streamGenerateContent")) {
			out = append(out, e)
		}
	}
}
